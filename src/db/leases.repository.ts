import { sql } from 'kysely';
import type { Executor } from './database.ts';
import type { LeaseRow } from './leases.table.ts';

export interface LeaseRequest {
  name: string;
  holder: string;
  ttlMs: number;
  now: Date;
}

/**
 * Takes or renews the lease `name` for `holder` until `now + ttlMs`: succeeds when the lease is free,
 * expired, or already held by `holder`. One statement, so two contenders can never both succeed.
 */
export async function acquireLease(
  db: Executor,
  { name, holder, ttlMs, now }: LeaseRequest,
): Promise<boolean> {
  const expiresAt = new Date(now.getTime() + ttlMs);
  const row = await db
    .insertInto('leases')
    .values({ name, holder, expires_at: expiresAt, acquired_at: now, renewed_at: now })
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet({
          holder,
          expires_at: expiresAt,
          renewed_at: now,
          acquired_at: sql`case when leases.holder = excluded.holder then leases.acquired_at else excluded.acquired_at end`,
        })
        .where((eb) => eb.or([eb('leases.holder', '=', holder), eb('leases.expires_at', '<=', now)])),
    )
    .returning('name')
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Whether `holder` holds the lease at `now`, locking the row for the rest of the database transaction:
 * a contender's takeover waits until this transaction ends, so what it commits is fenced by the lease.
 */
export async function holdsLease(db: Executor, name: string, holder: string, now: Date): Promise<boolean> {
  const row = await db
    .selectFrom('leases')
    .select('holder')
    .where('name', '=', name)
    .where('holder', '=', holder)
    .where('expires_at', '>', now)
    .forUpdate()
    .executeTakeFirst();
  return row !== undefined;
}

/** Gives the lease up (only if `holder` has it), so a standby can take over at once. */
export async function releaseLease(db: Executor, name: string, holder: string): Promise<boolean> {
  const result = await db
    .deleteFrom('leases')
    .where('name', '=', name)
    .where('holder', '=', holder)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function findLease(db: Executor, name: string): Promise<LeaseRow | undefined> {
  return db.selectFrom('leases').selectAll().where('name', '=', name).executeTakeFirst();
}
