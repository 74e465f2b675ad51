/**
 * A transaction as the operator API shows it: the SEP-31 object `GET /sep31/transactions/:id` shows, plus
 * what an operator needs (who sent it, the exact state, the payment received, the methods it takes now).
 */
import { Type, type Static } from 'typebox';
import { acceptedEventTypes, amounts, restore, type TransactionEventType } from '../../machines/index.ts';
import type { SendingAnchorConfig } from '../config/index.ts';
import type { StateValue } from '../db/transactions.table.ts';
import { Sep31TransactionSchema } from '../views/sep31-transaction.schema.ts';
import type { TransactionReply } from '../actors/messages.ts';
import type { OperatorTransactionRow } from '../read-model/operator.ts';
import { RpcError } from './rpc.ts';
import { toSep31Transaction } from '../views/sep31-transaction.ts';

export const OperatorTransactionSchema = Type.Object({
  ...Sep31TransactionSchema.properties,
  sending_anchor: Type.String({ description: "The sending anchor's SEP-10 account (`sub`)." }),
  sending_anchor_name: Type.Optional(
    Type.String({ description: 'Its name in `sendingAnchors`, if configured.' }),
  ),
  state: Type.String({ description: 'The full machine state, e.g. `pending_receiver.ready`.' }),
  sender_id: Type.Optional(Type.String()),
  receiver_id: Type.Optional(Type.String()),
  expires_at: Type.Optional(Type.String({ description: 'Deadline of the sender’s payment.' })),
  payment_received: Type.Optional(
    Type.Object({
      amount: Type.String(),
      asset: Type.String(),
      stellar_transaction_id: Type.String(),
      operation_id: Type.String(),
      received_at: Type.String(),
    }),
  ),
  excess_amount: Type.Optional(Type.String({ description: 'Received beyond amount_in, owed back.' })),
  version: Type.Integer({ description: 'Events applied so far.' }),
  accepts: Type.Array(Type.String(), {
    description: 'The operator methods the current state takes (its conditions may still refuse).',
  }),
});
export type OperatorTransaction = Static<typeof OperatorTransactionSchema>;

/** `pending_receiver.ready` for `{ pending_receiver: 'ready' }`. */
export function stateName(value: StateValue): string {
  if (typeof value === 'string') return value;
  const [key, inner] = Object.entries(value)[0] ?? [];
  return key === undefined ? '' : `${key}.${stateName(inner!)}`;
}

export interface TransactionViewDeps {
  sendingAnchors: readonly SendingAnchorConfig[];
  /** The operator methods that send an event (from the registry). */
  methodsFor(event: TransactionEventType): string[];
}

export function toOperatorTransaction(
  row: OperatorTransactionRow,
  deps: TransactionViewDeps,
): OperatorTransaction {
  const c = row.persisted.context;
  const account = row.sendingAnchor.split(':')[0];
  const name = deps.sendingAnchors.find((a) => a.signingKeys.includes(account ?? ''))?.name;
  const accepts = acceptedEventTypes(restore(row.persisted)).flatMap((event) => deps.methodsFor(event));
  return {
    ...toSep31Transaction(row.status, c),
    sending_anchor: row.sendingAnchor,
    ...(name !== undefined && { sending_anchor_name: name }),
    state: stateName(row.persisted.value as StateValue),
    ...(c.senderId !== null && { sender_id: c.senderId }),
    ...(c.receiverId !== null && { receiver_id: c.receiverId }),
    ...(c.expiresAt !== null && { expires_at: new Date(c.expiresAt).toISOString() }),
    ...(c.payment !== null && {
      payment_received: {
        amount: amounts.normalizeAmount(c.payment.amount),
        asset: c.amountInAsset,
        stellar_transaction_id: c.payment.transactionHash,
        operation_id: c.payment.operationId,
        received_at: new Date(c.payment.createdAt).toISOString(),
      },
    }),
    ...(c.excessAmount !== null && { excess_amount: amounts.normalizeAmount(c.excessAmount) }),
    version: row.version,
    accepts: [...new Set(accepts)],
  };
}

/** A refused action as its JSON-RPC error: a state that does not take the event says what it does take. */
export function refusalError(
  reply: Extract<TransactionReply, { outcome: 'refused' }>,
  methodsFor: (event: TransactionEventType) => string[],
): RpcError {
  if (reply.code === 'not_found') return new RpcError('transactionNotFound', reply.reason);
  const where = {
    status: reply.status,
    ...(reply.state !== undefined && reply.state !== null && { state: stateName(reply.state as StateValue) }),
  };
  if (reply.code !== 'rejected') return new RpcError('refused', reply.reason, { code: reply.code, ...where });
  return new RpcError('notAccepted', reply.reason, {
    ...where,
    accepts: reply.accepts.map((event) => ({ event, methods: methodsFor(event) })),
  });
}
