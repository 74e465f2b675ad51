/**
 * The poll-outgoing worker (Polaris's `poll_outgoing_transactions`): gives the transactions whose payout is
 * `pending_external` to the rails, and tells each actor what the rails answered (PAYOUT_COMPLETED or
 * PAYOUT_FAILED) over the bus. The event id names the payout (`<idempotency key>:poll`), so two pollers,
 * or the same answer seen twice, settle it once; an actor whose transaction has moved on refuses the
 * event (recorded in `refused_messages`).
 */
import type { PersistedTransaction, TransactionEvent, TransactionStatus } from '../../machines/index.ts';
import { transactionEventMessage } from '../actors/messages.ts';
import type { PollOutgoingResult, RailsIntegration } from '../integrations/rails-integration.ts';
import { payoutResultEvent } from './execute-payout-effect.ts';
import { toRailsTransaction } from './rails-transaction.ts';
import { DEFAULT_BATCH_SIZE, errorText, type PassDeps } from './worker-deps.ts';

export interface PollOutgoingDeps extends PassDeps {
  rails: RailsIntegration;
}

export interface PollOutgoingCounts {
  /** Transactions given to the rails. */
  polled: number;
  completed: number;
  failed: number;
  /** Not settled yet (or not mentioned by the rails). */
  pending: number;
  /** Pages the rails could not answer this pass (logged); asked again on the next. */
  errors: number;
}

/** The event id of the poll answer for one payout attempt. */
export function pollEventId(transactionId: string, payoutAttempt: number): string {
  return `${transactionId}:payout:${payoutAttempt}:poll`;
}

/** The machine event for a poll answer, or null while the payout is still pending. */
export function pollResultEvent(result: PollOutgoingResult, at: string): TransactionEvent | null {
  switch (result.status) {
    case 'completed':
      return payoutResultEvent(
        {
          status: 'completed',
          ...(result.externalTransactionId !== undefined && {
            externalTransactionId: result.externalTransactionId,
          }),
          ...(result.message !== undefined && { message: result.message }),
        },
        at,
      );
    case 'failed':
      return payoutResultEvent(
        { status: 'failed', message: result.message ?? 'the payout failed at the rails' },
        at,
      );
    default:
      return null;
  }
}

/** One pass: polls every `pending_external` transaction, a page at a time. */
export async function runPollOutgoingPass(deps: PollOutgoingDeps): Promise<PollOutgoingCounts> {
  const batchSize = deps.batchSize ?? DEFAULT_BATCH_SIZE;
  const counts: PollOutgoingCounts = {
    polled: 0,
    completed: 0,
    failed: 0,
    pending: 0,
    errors: 0,
  };
  let after = '';
  for (;;) {
    const rows = await deps.db
      .selectFrom('transactions')
      .select(['id', 'status', 'snapshot'])
      .where('status', '=', 'pending_external')
      .where('id', '>', after)
      .orderBy('id')
      .limit(batchSize)
      .execute();
    if (rows.length > 0) await pollPage(deps, rows, counts);
    if (rows.length < batchSize) break;
    after = rows.at(-1)!.id;
  }
  return counts;
}

async function pollPage(
  deps: PollOutgoingDeps,
  rows: { id: string; status: TransactionStatus; snapshot: unknown }[],
  counts: PollOutgoingCounts,
): Promise<void> {
  const { bus, rails, log } = deps;
  const contexts = new Map(rows.map((row) => [row.id, (row.snapshot as PersistedTransaction).context]));
  let results: PollOutgoingResult[];
  try {
    results = await rails.pollOutgoingTransactions(
      rows.map((row) => toRailsTransaction(row.status, contexts.get(row.id)!)),
    );
  } catch (error) {
    // Unknown is not failed: these payouts stay pending_external and are asked about again next pass.
    counts.errors += rows.length;
    log?.error({ err: error, transactions: rows.length }, `payout poll failed: ${errorText(error)}`);
    return;
  }
  counts.polled += rows.length;
  const answered = new Map(results.filter((r) => contexts.has(r.id)).map((r) => [r.id, r]));
  counts.pending += rows.length - answered.size;
  const at = (deps.clock ?? (() => new Date()))().toISOString();
  const events = [];
  for (const [id, result] of answered) {
    const event = pollResultEvent(result, at);
    if (event === null) {
      counts.pending++;
      continue;
    }
    events.push(transactionEventMessage(id, pollEventId(id, contexts.get(id)!.payoutAttempt), event));
    if (event.type === 'PAYOUT_COMPLETED') counts.completed++;
    else counts.failed++;
  }
  await bus.publishMany(events);
}
