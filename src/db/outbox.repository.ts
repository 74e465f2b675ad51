import { sql } from 'kysely';
import { toJson } from './columns.ts';
import type { Executor } from './database.ts';
import type { OutboxRow } from './outbox.table.ts';

export interface NewOutboxEffect {
  transactionId: string | null;
  seq: number | null;
  kind: string;
  payload: unknown;
  /** What the outside world sees; an effect whose key is already in the outbox is the same effect. */
  idempotencyKey: string;
  /** Defaults to the database's now(). */
  nextAttemptAt?: Date;
}

/**
 * Adds effects to the outbox; call it in the database transaction that records their cause. An effect
 * whose idempotency key is already present is skipped (it was already scheduled). Returns how many were new.
 */
export async function insertEffects(db: Executor, effects: readonly NewOutboxEffect[]): Promise<number> {
  const query = insertEffectsQuery(db, effects);
  if (query === null) return 0;
  const result = await query.executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n);
}

/** The INSERT of `insertEffects`, to run alone or with other writes (`writeTogether`); null: none. */
export function insertEffectsQuery(db: Executor, effects: readonly NewOutboxEffect[]) {
  if (effects.length === 0) return null;
  return db
    .insertInto('outbox')
    .values(
      effects.map((e) => ({
        transaction_id: e.transactionId,
        seq: e.seq,
        kind: e.kind,
        payload: toJson(e.payload),
        idempotency_key: e.idempotencyKey,
        ...(e.nextAttemptAt !== undefined && { next_attempt_at: e.nextAttemptAt }),
      })),
    )
    .onConflict((oc) => oc.column('idempotency_key').doNothing());
}

export interface ClaimOptions {
  workerId: string;
  limit: number;
  /** How long the claim holds; past it, another worker may take the row again. */
  leaseMs: number;
  now: Date;
  /** Only rows of these kinds; rows of other kinds are left alone (default: every kind). */
  kinds?: readonly string[];
  /**
   * Per-transaction order: a row is not claimed while an earlier row (lower id) of the same transaction
   * and kind is pending or in flight. A row that failed for good no longer holds back the ones after it.
   */
  inOrder?: boolean;
}

/**
 * Claims up to `limit` due rows for `workerId`: pending rows whose `next_attempt_at` has come, and
 * in-flight rows whose lease expired (their worker died). Each claim counts as an attempt.
 * One statement, so it is atomic; SKIP LOCKED lets concurrent workers take disjoint rows without waiting.
 * It reads live rows only, through the partial indexes on pending and in-flight rows (`outbox_live_*`):
 * a claim costs what is outstanding, not the table.
 */
export async function claimDue(db: Executor, options: ClaimOptions): Promise<OutboxRow[]> {
  const { workerId, limit, leaseMs, now, kinds, inOrder = false } = options;
  if (kinds !== undefined && kinds.length === 0) return [];
  let due = db
    .selectFrom('outbox')
    .select('id')
    .where((eb) =>
      eb.or([
        eb.and([eb('state', '=', 'pending'), eb('next_attempt_at', '<=', now)]),
        eb.and([eb('state', '=', 'in_flight'), eb('claim_expires_at', '<=', now)]),
      ]),
    );
  if (kinds !== undefined) due = due.where('kind', 'in', [...kinds]);
  if (inOrder) {
    due = due.where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('outbox as earlier')
            .select('earlier.id')
            .whereRef('earlier.transaction_id', '=', 'outbox.transaction_id')
            .whereRef('earlier.kind', '=', 'outbox.kind')
            .whereRef('earlier.id', '<', 'outbox.id')
            .where('earlier.state', 'in', ['pending', 'in_flight']),
        ),
      ),
    );
  }
  const query = due.orderBy('next_attempt_at').orderBy('id').limit(limit).forUpdate().skipLocked();
  const rows = await db
    .updateTable('outbox')
    .set((eb) => ({
      state: 'in_flight',
      claimed_by: workerId,
      claim_expires_at: new Date(now.getTime() + leaseMs),
      attempts: eb('attempts', '+', 1),
    }))
    .where('id', 'in', query)
    .returningAll()
    .execute();
  return rows.sort((a, b) => compareIds(a.id, b.id));
}

/**
 * Marks a claimed row done. With `workerId`, only if that worker still holds it (its lease was not
 * taken over). Returns false if the row was not in flight (or not held by `workerId`).
 */
export async function markDone(db: Executor, id: string, workerId?: string, at?: Date): Promise<boolean> {
  let query = db
    .updateTable('outbox')
    .set({ state: 'done', completed_at: at ?? sql<Date>`now()`, claim_expires_at: null })
    .where('id', '=', id)
    .where('state', '=', 'in_flight');
  if (workerId !== undefined) query = query.where('claimed_by', '=', workerId);
  const result = await query.executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Records a failed attempt: back to pending until `retryAt`, or, with `retryAt` null, failed for good
 * (an operator must look at it). Same `workerId` fencing and result as `markDone`.
 */
export async function markFailed(
  db: Executor,
  id: string,
  error: string,
  retryAt: Date | null,
  workerId?: string,
): Promise<boolean> {
  let query = db
    .updateTable('outbox')
    .set({
      state: retryAt === null ? 'failed' : 'pending',
      last_error: error,
      claimed_by: null,
      claim_expires_at: null,
      ...(retryAt !== null && { next_attempt_at: retryAt }),
    })
    .where('id', '=', id)
    .where('state', '=', 'in_flight');
  if (workerId !== undefined) query = query.where('claimed_by', '=', workerId);
  const result = await query.executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
