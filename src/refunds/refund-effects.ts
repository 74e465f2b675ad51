/**
 * The outbox handlers that move refunds:
 * - `refund_excess` (an over-payment's excess, recorded by the machine): with `refunds.excess: 'auto'` it
 *   asks the actor for the refund at once (REFUND_REQUESTED, excess); with `'approve'` it does nothing and
 *   the operator's `approve_refund_excess` sends the same request (same event id: approved twice, once).
 * - `send_refund` (a refund Mooring sends itself): pays it on Stellar, idempotently (`stellar-refund.ts`),
 *   to the account the payment came from, with the sending anchor's `refund_memo` (else the payment's memo,
 *   as SEP-31 says), then tells the actor REFUND_SENT (or REFUND_FAILED when it will not be paid).
 * - `refund_unmatched` (an operator's refund of an unmatched payment): the same, back to its sender with
 *   its own memo, then the unmatched row is marked refunded.
 * A handler redone after its answer was applied finds the answer's event and stops; the refunds table keeps
 * a resubmission to the same envelope, so money moves at most once.
 */
import type { Kysely } from 'kysely';
import type { TransactionEvent } from '../../machines/index.ts';
import { transactionEventMessage } from '../actors/messages.ts';
import type { EventBus } from '../bus/index.ts';
import type { Database } from '../db/database.ts';
import { findEvent } from '../db/transactions.repository.ts';
import { findUnmatchedPayment, markUnmatchedPaymentRefunded } from '../db/unmatched-payments.repository.ts';
import { readPayload } from '../effects/payloads.ts';
import { PermanentEffectError, type EffectHandler } from '../effects/relay.ts';
import type { PayerOf } from './payer.ts';
import { RefundRejectedError, type StellarRefunds } from './stellar-refund.ts';

export type RefundKind = 'stellar' | 'business';
export type ExcessPolicy = 'auto' | 'approve';

export interface RefundEffectOptions {
  db: Kysely<Database>;
  bus: Pick<EventBus, 'publish'>;
  kind: RefundKind;
  excess: ExcessPolicy;
  /** Required for `kind: 'stellar'`. */
  stellar?: StellarRefunds;
  payerOf?: PayerOf;
}

/** The refund id of an over-payment's excess, and the event id of its request. */
export function excessRefundId(transactionId: string): string {
  return `${transactionId}:refund:excess`;
}

export function excessRefundRequest(
  transactionId: string,
  amount: string,
  kind: RefundKind,
  at: string,
  by?: string,
): { eventId: string; event: TransactionEvent } {
  return {
    eventId: `${excessRefundId(transactionId)}:request`,
    event: {
      type: 'REFUND_REQUESTED',
      at,
      refundId: excessRefundId(transactionId),
      amount,
      fee: '0',
      excess: true,
      sentBy: kind === 'stellar' ? 'mooring' : 'business',
      ...(by !== undefined && { by }),
    },
  };
}

export const refundSentEventId = (refundId: string) => `${refundId}:sent`;
export const refundFailedEventId = (refundId: string) => `${refundId}:failed`;

export function refundHandlers(options: RefundEffectOptions): Record<string, EffectHandler> {
  const { db, bus } = options;
  const handlers: Record<string, EffectHandler> = {
    refund_excess: async (row, { now }) => {
      const { amount, transaction } = readPayload(row, 'refund_excess');
      if (options.excess === 'approve') return; // waits for approve_refund_excess
      const id = transaction.context.id;
      const { eventId, event } = excessRefundRequest(id, amount, options.kind, now.toISOString());
      await bus.publish(transactionEventMessage(id, eventId, event));
    },
  };
  const stellar = options.stellar;
  const payerOf = options.payerOf;
  if (options.kind !== 'stellar' || stellar === undefined || payerOf === undefined) return handlers;

  handlers.send_refund = async (row, { now }) => {
    const { refundId, amount, fee, transaction } = readPayload(row, 'send_refund');
    const c = transaction.context;
    if (
      (await findEvent(db, c.id, refundSentEventId(refundId))) ||
      (await findEvent(db, c.id, refundFailedEventId(refundId)))
    ) {
      return; // redone after its answer was applied
    }
    if (c.payment === null || c.stellarAccountId === null) {
      throw new PermanentEffectError(`refund ${refundId}: transaction ${c.id} received no payment`);
    }
    const memo =
      c.refundMemo !== null && c.refundMemoType !== null
        ? { memoType: c.refundMemoType, memo: c.refundMemo }
        : { memoType: c.stellarMemoType, memo: c.stellarMemo };
    let event: TransactionEvent;
    let eventId: string;
    try {
      const sent = await stellar.send({
        refundKey: refundId,
        transactionId: c.id,
        unmatchedOperationId: null,
        sourceAccount: c.stellarAccountId,
        destination: await payerOf(c.payment.operationId),
        assetCode: c.payment.assetCode,
        assetIssuer: c.payment.assetIssuer,
        amount,
        fee,
        ...memo,
        requestedBy: null,
      });
      eventId = refundSentEventId(refundId);
      event = {
        type: 'REFUND_SENT',
        at: now.toISOString(),
        refund: { id: sent.hash, amount, fee },
        refundId,
      };
    } catch (error) {
      if (!(error instanceof RefundRejectedError)) throw error;
      eventId = refundFailedEventId(refundId);
      event = { type: 'REFUND_FAILED', at: now.toISOString(), refundId, message: error.message };
    }
    await bus.publish(transactionEventMessage(c.id, eventId, event));
  };

  handlers.refund_unmatched = async (row) => {
    const { operationId, requestedBy } = readPayload(row, 'refund_unmatched');
    const payment = await findUnmatchedPayment(db, operationId);
    if (payment === undefined) throw new PermanentEffectError(`no unmatched payment ${operationId}`);
    if (payment.refunded_at !== null) return;
    if (payment.from_account === null) {
      throw new PermanentEffectError(`unmatched payment ${operationId} names no sender to refund`);
    }
    try {
      const sent = await stellar.send({
        refundKey: unmatchedRefundKey(operationId),
        transactionId: null,
        unmatchedOperationId: operationId,
        sourceAccount: payment.account,
        destination: payment.from_account,
        assetCode: payment.asset_code,
        assetIssuer: payment.asset_issuer,
        amount: payment.amount,
        fee: '0',
        memoType: payment.memo_type === 'none' ? null : payment.memo_type,
        memo: payment.memo,
        requestedBy,
      });
      await markUnmatchedPaymentRefunded(db, operationId, sent.hash);
    } catch (error) {
      if (error instanceof RefundRejectedError) throw new PermanentEffectError(error.message);
      throw error;
    }
  };
  return handlers;
}

export function unmatchedRefundKey(operationId: string): string {
  return `unmatched:${operationId}`;
}
