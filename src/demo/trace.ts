/**
 * Follows one transaction's `transaction_events` log (polled every 200 ms) and reports each status change with
 * the event that caused it, until the transaction reaches a final status (or `error`).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/index.ts';

export interface Transition {
  seq: number;
  eventType: string;
  statusBefore: string | null;
  statusAfter: string;
  payload: Record<string, unknown>;
}

const STOP_AT = new Set(['completed', 'refunded', 'expired', 'error']);

/** Calls `onTransition` for each event in order; resolves with the last status once it stops, or rejects at the deadline. */
export async function followTransaction(
  db: Kysely<Database>,
  transactionId: string,
  onTransition: (transition: Transition) => void,
  { deadline, pollMs = 200 }: { deadline: number; pollMs?: number },
): Promise<string> {
  let seen = 0;
  for (;;) {
    const rows = await db
      .selectFrom('transaction_events')
      .select(['seq', 'event_type', 'status_before', 'status_after', 'payload'])
      .where('transaction_id', '=', transactionId)
      .where('seq', '>', seen)
      .orderBy('seq')
      .execute();
    for (const row of rows) {
      seen = row.seq;
      onTransition({
        seq: row.seq,
        eventType: row.event_type,
        statusBefore: row.status_before,
        statusAfter: row.status_after,
        payload: (row.payload ?? {}) as Record<string, unknown>,
      });
      if (STOP_AT.has(row.status_after)) return row.status_after;
    }
    if (Date.now() > deadline) throw new Error(`transaction ${transactionId} did not finish in time`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** One line: `  pending_external  ← PAYOUT_PENDING_EXTERNAL (bank ref ...)`. */
export function formatTransition(t: Transition, payment: { amount: string; assetCode: string }): string {
  const detail = describe(t.payload, payment);
  return `  ${t.statusAfter.padEnd(17)} ← ${detail ? `${t.eventType.padEnd(18)} (${detail})` : t.eventType}`;
}

function describe(payload: Record<string, unknown>, payment: { amount: string; assetCode: string }): string {
  const text = (key: string) => (typeof payload[key] === 'string' ? (payload[key] as string) : '');
  switch (payload.type) {
    case 'ACCOUNT_ASSIGNED':
      return `pay ${payment.amount} ${payment.assetCode} to ${text('stellarAccountId')} memo ${text('stellarMemoType')} ${text('stellarMemo')}`;
    case 'PAYMENT_RECEIVED': {
      const received = (payload.payment ?? {}) as Record<string, string>;
      return `${received.amount} ${received.assetCode}, stellar tx ${received.transactionHash}`;
    }
    case 'PAYOUT_PENDING_EXTERNAL':
      return `bank ref ${text('externalTransactionId')}`;
    case 'PAYOUT_COMPLETED':
      return text('externalTransactionId') && `bank ref ${text('externalTransactionId')}`;
    case 'PAYOUT_FAILED':
    case 'ERROR':
    case 'CUSTOMER_INFO_NEEDED':
      return text('message');
    default:
      return '';
  }
}
