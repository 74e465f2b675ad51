/**
 * Waiting for Mooring's background roles to catch up: the outbox has no effect due (callbacks, actor
 * messages, payouts). A figure starts from a quiet outbox, so the relays' backlog of the one before does
 * not slow it down; what a figure leaves behind, and how long it took to clear, is reported with it.
 *
 * A backlog the relays cannot clear within the timeout is parked: its rows' next attempt is moved a
 * century ahead, so no relay claims them while the next figure runs (the benchmark's database is thrown
 * away afterwards). The count parked is reported: a figure that needed it shows relays falling behind.
 */
import { performance } from 'node:perf_hooks';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/index.ts';
import { pause } from './stats.ts';

export interface Quieted {
  /** Effects pending or in flight when the wait began. */
  owed: number;
  /** Until none was left (or the timeout). */
  seconds: number;
  /** Still due at the timeout, then parked; 0 when the outbox went quiet. */
  parked: number;
}

export const QUIET_TIMEOUT_MS = 120_000;
const POLL_MS = 50;
const PARKED_FOR_MS = 100 * 365 * 24 * 3600 * 1000;

export async function waitForQuietOutbox(
  db: Kysely<Database>,
  timeoutMs = QUIET_TIMEOUT_MS,
): Promise<Quieted> {
  const started = performance.now();
  const owed = await countOwed(db);
  let left = owed;
  while (left > 0 && performance.now() - started < timeoutMs) {
    await pause(POLL_MS);
    left = await countOwed(db);
  }
  const seconds = (performance.now() - started) / 1000;
  return { owed, seconds, parked: left > 0 ? await parkDue(db) : 0 };
}

/**
 * Effects a relay has to carry out now: pending and due, or in flight (the outbox's state index answers
 * this). Rows waiting for a retry later are not counted.
 */
export async function countOwed(db: Kysely<Database>): Promise<number> {
  const { n } = await db
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where((eb) =>
      eb.or([
        eb.and([eb('state', '=', 'pending'), eb('next_attempt_at', '<=', new Date())]),
        eb('state', '=', 'in_flight'),
      ]),
    )
    .executeTakeFirstOrThrow();
  return Number(n);
}

/** Moves every due pending effect out of the relays' reach; in-flight ones finish on their own. */
async function parkDue(db: Kysely<Database>): Promise<number> {
  const now = new Date();
  const result = await db
    .updateTable('outbox')
    .set({ next_attempt_at: new Date(now.getTime() + PARKED_FOR_MS) })
    .where('state', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
