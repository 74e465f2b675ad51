/**
 * The expire worker: transactions whose sender never paid are ended at their deadline (`expires_at`, from
 * the quote or the configured payment deadline). Candidates are those waiting for funds (`pending_sender`,
 * `pending_receiver` before the account is assigned) and those halted in `error` before any funds arrived;
 * the machine's guard has the last word (deadline passed, nothing received). A payment that lands first
 * wins: the actor then refuses EXPIRE (recorded in `refused_messages`). The event id is the same on every
 * pass (`expire:<id>`), so a transaction is expired once however often it is found due.
 */
import { sql } from 'kysely';
import { transactionEventMessage } from '../actors/messages.ts';
import { toJson } from '../db/columns.ts';
import { DEFAULT_BATCH_SIZE, type PassDeps } from './worker-deps.ts';

export type ExpireDeps = PassDeps;

export interface ExpireCounts {
  /** Unfunded transactions past their deadline: EXPIRE was published to each. */
  due: number;
}

const PREPARING = toJson({ pending_receiver: 'preparing' });

export function expireEventId(transactionId: string): string {
  return `expire:${transactionId}`;
}

/** One pass: EXPIRE to every unfunded transaction whose deadline has passed (resolves once the bus holds them). */
export async function runExpirePass(deps: ExpireDeps): Promise<ExpireCounts> {
  const { db, bus } = deps;
  const batchSize = deps.batchSize ?? DEFAULT_BATCH_SIZE;
  const now = (deps.clock ?? (() => new Date()))();
  const counts: ExpireCounts = { due: 0 };
  // Pages by deadline, then id (the order of transactions_expirable_idx), so a page reads only due rows.
  // The deadline is carried as text: a JS Date drops microseconds, and the next page would start too early.
  let after: { deadline: string; id: string } | undefined;
  for (;;) {
    let query = db
      .selectFrom('transactions')
      .select([sql<string>`expires_at::text`.as('deadline'), 'id'])
      .where('expires_at', '<=', now)
      .where((eb) =>
        eb.or([
          eb('status', '=', 'pending_sender'),
          eb.and([
            eb('status', '=', 'pending_receiver'),
            eb(sql`state_value`, '=', sql`${PREPARING}::jsonb`),
          ]),
          eb.and([eb('status', '=', 'error'), eb('stellar_operation_id', 'is', null)]),
        ]),
      );
    if (after !== undefined) {
      query = query.where(sql<boolean>`(expires_at, id) > (${after.deadline}::timestamptz, ${after.id})`);
    }
    const rows = await query.orderBy('expires_at').orderBy('id').limit(batchSize).execute();
    await bus.publishMany(
      rows.map(({ id }) =>
        transactionEventMessage(id, expireEventId(id), { type: 'EXPIRE', at: now.toISOString() }),
      ),
    );
    counts.due += rows.length;
    if (rows.length < batchSize) break;
    after = rows.at(-1)!;
  }
  return counts;
}
