/**
 * The operator's refund and reconciliation actions, as JSON-RPC methods (the operator API wires them under
 * these names). Each transaction action is an event sent to the transaction's actor through the bus: the
 * machine's guards decide, and a refusal comes back as an error carrying the state and the events it
 * accepts. Every event names the operator (`by`), so the event log records who did it. An action sent
 * twice with the same id (`refund_id`, or a derived one) is applied once.
 *
 * - `do_refund`: Mooring sends a refund (all that is left, or `amount`) on Stellar.
 * - `notify_refund_pending` / `notify_refund_sent`: the business sends the refund itself and reports it
 *   (the Anchor Platform's names and parameters).
 * - `approve_refund_excess`: sends an over-payment's excess back (`refunds.excess: 'approve'`).
 * - `resolve_payout`: a payout in reconciliation is retried with the same idempotency key, marked paid, or
 *   refunded.
 * - `refund_unmatched_payment`: a payment no transaction took goes back to its sender, once.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { Type } from 'typebox';
import {
  amounts,
  refundableAmount,
  type PersistedTransaction,
  type TransactionEvent,
} from '../../machines/index.ts';
import { CommandUnavailableError, type TransactionCommands } from '../actors/commands.ts';
import type { Database } from '../db/database.ts';
import { insertEffects } from '../db/outbox.repository.ts';
import { findUnmatchedRefund } from '../db/refunds.repository.ts';
import { findTransaction } from '../db/transactions.repository.ts';
import { findUnmatchedPayment, markUnmatchedPaymentRefunded } from '../db/unmatched-payments.repository.ts';
import type { UnmatchedPaymentRow } from '../db/unmatched-payments.table.ts';
import {
  excessRefundRequest,
  unmatchedRefundKey,
  type ExcessPolicy,
  type RefundKind,
} from '../refunds/refund-effects.ts';
import type { OperatorQueries } from '../read-model/operator.ts';
import { RpcError, rpcMethod, type RpcMethod } from './rpc.ts';
import {
  refusalError,
  toOperatorTransaction,
  type OperatorTransaction,
  type TransactionViewDeps,
} from './transaction-view.ts';

export interface RefundMethodsDeps extends TransactionViewDeps {
  db: Kysely<Database>;
  queries: Pick<OperatorQueries, 'transaction'>;
  commands: Pick<TransactionCommands, 'send'>;
  refunds: { kind: RefundKind; excess: ExcessPolicy };
  clock?: () => Date;
}

/** A misspelt param is an error, not ignored. */
const STRICT = { additionalProperties: false } as const;

const Amount = Type.String({
  pattern: '^(0|[1-9][0-9]*)(\\.[0-9]{1,7})?$',
  description: 'decimal, up to 7 places',
});
const TransactionId = Type.String({ minLength: 1 });
/** The Anchor Platform's amount object. */
const AssetAmount = Type.Object({ amount: Amount, asset: Type.Optional(Type.String()) }, STRICT);
const ReportedRefund = Type.Object(
  {
    /** The Stellar transaction hash of the refund payment. */
    id: Type.String({ minLength: 1 }),
    amount: AssetAmount,
    amount_fee: AssetAmount,
  },
  STRICT,
);

const schemas = {
  do_refund: Type.Object(
    {
      transaction_id: TransactionId,
      /** Names this refund: the same id again is the same refund. Default: a new one each call. */
      refund_id: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
      /** What goes back; default: everything still refundable (a full refund). */
      amount: Type.Optional(Amount),
      amount_fee: Type.Optional(Amount),
    },
    STRICT,
  ),
  notify_refund_pending: Type.Object(
    {
      transaction_id: TransactionId,
      message: Type.Optional(Type.String()),
      refund: ReportedRefund,
    },
    STRICT,
  ),
  notify_refund_sent: Type.Object(
    {
      transaction_id: TransactionId,
      message: Type.Optional(Type.String()),
      refund: ReportedRefund,
    },
    STRICT,
  ),
  approve_refund_excess: Type.Object({ transaction_id: TransactionId }, STRICT),
  resolve_payout: Type.Object(
    {
      transaction_id: TransactionId,
      action: Type.Union([Type.Literal('retry'), Type.Literal('mark_paid'), Type.Literal('refund')]),
      /** mark_paid: the rails' reference of the payout. */
      external_transaction_id: Type.Optional(Type.String({ minLength: 1 })),
      message: Type.Optional(Type.String()),
    },
    STRICT,
  ),
  refund_unmatched_payment: Type.Object(
    {
      /** The Horizon operation id of the unmatched payment. */
      operation_id: Type.String({ minLength: 1 }),
      /** `refunds.kind: business`: the hash of the refund the business sent. */
      stellar_transaction_id: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
    },
    STRICT,
  ),
};

export type RefundMethodName = keyof typeof schemas;

/** An unmatched payment as the operator API shows it. */
export interface UnmatchedPaymentView {
  operation_id: string;
  transaction_hash: string;
  account: string;
  from: string | null;
  amount: string;
  asset_code: string;
  asset_issuer: string | null;
  memo_type: string | null;
  memo: string | null;
  reason: string;
  transaction_id: string | null;
  created_at: string;
  refunded_at: string | null;
  refund_transaction_hash: string | null;
  /** Mooring's own refund of it, once asked: `pending`, `submitted`, `confirmed` or `failed`. */
  refund: { state: string; transaction_hash: string | null; last_error: string | null } | null;
}

export function createRefundMethods(deps: RefundMethodsDeps): Record<RefundMethodName, RpcMethod> {
  const { db, commands } = deps;
  const clock = deps.clock ?? (() => new Date());

  async function load(id: string) {
    const row = await findTransaction(db, id);
    if (!row) throw new RpcError('transactionNotFound', `transaction not found: ${id}`);
    return { status: row.status, context: (row.snapshot as unknown as PersistedTransaction).context };
  }

  /** The transaction as the operator API shows it, once the action is applied. */
  async function view(id: string): Promise<OperatorTransaction> {
    const row = await deps.queries.transaction(id);
    if (!row) throw new RpcError('transactionNotFound', `transaction not found: ${id}`);
    return toOperatorTransaction(row, deps);
  }

  /** Sends the event to the actor; a refusal is an error with the state and what it accepts. */
  async function send(
    transactionId: string,
    eventId: string,
    event: TransactionEvent,
    operator: string,
  ): Promise<OperatorTransaction> {
    let reply;
    try {
      reply = await commands.send(transactionId, eventId, event, { operator });
    } catch (error) {
      if (error instanceof CommandUnavailableError) {
        throw new RpcError('unavailable', 'the actors did not answer in time: send the same request again');
      }
      throw error;
    }
    if (reply.outcome === 'refused') throw refusalError(reply, deps.methodsFor);
    return view(transactionId);
  }

  function requireKind(kind: RefundKind, method: string): void {
    if (deps.refunds.kind === kind) return;
    throw new RpcError(
      'refused',
      kind === 'stellar'
        ? `${method}: refunds.kind is "business": the business sends refunds and reports them with notify_refund_pending / notify_refund_sent`
        : `${method}: refunds.kind is "stellar": Mooring sends refunds (do_refund)`,
    );
  }

  async function doRefund(
    transactionId: string,
    options: { refundId?: string; amount?: string; fee?: string },
    operator: string,
  ): Promise<OperatorTransaction> {
    requireKind('stellar', 'do_refund');
    const { context } = await load(transactionId);
    const amount = options.amount ?? refundableAmount(context);
    if (amounts.compareAmounts(amount, '0') <= 0) {
      throw new RpcError('refused', `transaction ${transactionId} has nothing left to refund`);
    }
    const refundId = `${transactionId}:refund:${options.refundId ?? randomUUID()}`;
    return send(
      transactionId,
      `do_refund:${refundId}`,
      {
        type: 'REFUND_REQUESTED',
        at: clock().toISOString(),
        refundId,
        amount: amounts.normalizeAmount(amount),
        fee: amounts.normalizeAmount(options.fee ?? '0'),
        by: operator,
      },
      operator,
    );
  }

  async function unmatchedView(row: UnmatchedPaymentRow): Promise<UnmatchedPaymentView> {
    const refund = await findUnmatchedRefund(db, row.operation_id);
    return {
      operation_id: row.operation_id,
      transaction_hash: row.transaction_hash,
      account: row.account,
      from: row.from_account,
      amount: amounts.normalizeAmount(row.amount),
      asset_code: row.asset_code,
      asset_issuer: row.asset_issuer,
      memo_type: row.memo_type,
      memo: row.memo,
      reason: row.reason,
      transaction_id: row.transaction_id,
      created_at: row.created_at.toISOString(),
      refunded_at: row.refunded_at?.toISOString() ?? null,
      refund_transaction_hash: row.refund_transaction_hash,
      refund:
        refund === undefined
          ? null
          : { state: refund.state, transaction_hash: refund.transaction_hash, last_error: refund.last_error },
    };
  }

  return {
    do_refund: rpcMethod({
      events: ['REFUND_REQUESTED'],
      description:
        'Mooring refunds the transaction on Stellar to the sending anchor (refund_memo if given, else the payment memo): all that is left, or `amount`. A full refund shows pending_stellar until Horizon confirms it, then refunded.',
      params: schemas.do_refund,
      call: (p, { operator }) =>
        doRefund(p.transaction_id, { refundId: p.refund_id, amount: p.amount, fee: p.amount_fee }, operator),
    }),
    notify_refund_pending: rpcMethod({
      events: ['REFUND_REQUESTED'],
      description:
        'The business has sent (or is sending) a refund on Stellar itself; confirmed by notify_refund_sent.',
      params: schemas.notify_refund_pending,
      call: (p, { operator }) => {
        requireKind('business', 'notify_refund_pending');
        const refundId = `${p.transaction_id}:refund:${p.refund.id}`;
        return send(
          p.transaction_id,
          `notify_refund_pending:${refundId}`,
          {
            type: 'REFUND_REQUESTED',
            at: clock().toISOString(),
            refundId,
            amount: amounts.normalizeAmount(p.refund.amount.amount),
            fee: amounts.normalizeAmount(p.refund.amount_fee.amount),
            sentBy: 'business',
            by: operator,
          },
          operator,
        );
      },
    }),
    notify_refund_sent: rpcMethod({
      events: ['REFUND_SENT'],
      description: 'A refund the business sent is on the ledger (`refund.id`: its Stellar transaction hash).',
      params: schemas.notify_refund_sent,
      call: (p, { operator }) => {
        const refundId = `${p.transaction_id}:refund:${p.refund.id}`;
        return send(
          p.transaction_id,
          `notify_refund_sent:${refundId}`,
          {
            type: 'REFUND_SENT',
            at: clock().toISOString(),
            refundId,
            refund: {
              id: p.refund.id,
              amount: amounts.normalizeAmount(p.refund.amount.amount),
              fee: amounts.normalizeAmount(p.refund.amount_fee.amount),
            },
          },
          operator,
        );
      },
    }),
    approve_refund_excess: rpcMethod({
      events: ['REFUND_REQUESTED'],
      description:
        "Sends an over-payment's excess back (with refunds.excess 'approve'); approving twice sends it once.",
      params: schemas.approve_refund_excess,
      call: async (p, { operator }) => {
        const { context } = await load(p.transaction_id);
        if (context.excessAmount === null) {
          throw new RpcError('refused', `transaction ${p.transaction_id} was not over-paid`);
        }
        const request = excessRefundRequest(
          p.transaction_id,
          context.excessAmount,
          deps.refunds.kind,
          clock().toISOString(),
          operator,
        );
        return send(p.transaction_id, request.eventId, request.event, operator);
      },
    }),
    resolve_payout: rpcMethod({
      events: ['PAYOUT_RETRY', 'PAYOUT_CONFIRMED', 'REFUND_REQUESTED'],
      description:
        "Resolves a payout in reconciliation (status error, the rails' answer in status_message): `retry` it with the same idempotency key, `mark_paid`, or `refund` the sending anchor. Never a second payout under a new key.",
      params: schemas.resolve_payout,
      call: async (p, { operator }) => {
        const { context } = await load(p.transaction_id);
        const at = clock().toISOString();
        switch (p.action) {
          case 'retry':
            return send(
              p.transaction_id,
              `resolve_payout:${p.transaction_id}:retry:${(context.payoutRetries ?? 0) + 1}`,
              {
                type: 'PAYOUT_RETRY',
                at,
                by: operator,
              },
              operator,
            );
          case 'mark_paid':
            return send(
              p.transaction_id,
              `resolve_payout:${p.transaction_id}:mark_paid:${context.payoutAttempt}`,
              {
                type: 'PAYOUT_CONFIRMED',
                at,
                by: operator,
                ...(p.external_transaction_id !== undefined && {
                  externalTransactionId: p.external_transaction_id,
                }),
                ...(p.message !== undefined && { message: p.message }),
              },
              operator,
            );
          case 'refund':
            return doRefund(p.transaction_id, { refundId: `payout-${context.payoutAttempt}` }, operator);
        }
      },
    }),
    refund_unmatched_payment: rpcMethod({
      description:
        'Sends an unmatched payment back to its sender, once (asked twice, sent once). With refunds.kind "business", records the refund the business sent (`stellar_transaction_id`).',
      params: schemas.refund_unmatched_payment,
      call: async (p, { operator }) => {
        const found = await findUnmatchedPayment(db, p.operation_id);
        if (!found) {
          throw new RpcError('refused', `no unmatched payment ${p.operation_id}`);
        }
        if (found.refunded_at === null) {
          if (deps.refunds.kind === 'business') {
            if (p.stellar_transaction_id === undefined) {
              throw new RpcError(
                'invalidParams',
                'refunds.kind is "business": send the refund, then report it with stellar_transaction_id',
              );
            }
            await markUnmatchedPaymentRefunded(db, p.operation_id, p.stellar_transaction_id, clock());
          } else {
            // One outbox row per unmatched payment (its key): asked twice, sent once.
            await insertEffects(db, [
              {
                transactionId: null,
                seq: null,
                kind: 'refund_unmatched',
                payload: { kind: 'refund_unmatched', operationId: p.operation_id, requestedBy: operator },
                idempotencyKey: unmatchedRefundKey(p.operation_id),
              },
            ]);
          }
        }
        return unmatchedView((await findUnmatchedPayment(db, p.operation_id))!);
      },
    }),
  };
}
