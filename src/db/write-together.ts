/**
 * Several writes as one statement (PostgreSQL data-modifying CTEs): one round trip instead of one each.
 * Each write sees the database as it was before the statement, so none may read what another writes
 * (a write may still reference rows another inserts: foreign keys are checked at the statement's end).
 */
import { sql, type OperationNodeSource } from 'kysely';
import type { Executor } from './database.ts';

/** A query builder or raw statement (a plain value would be sent as a parameter instead). */
type Write = OperationNodeSource;

/** Runs `writes` (nulls are skipped) as one statement. */
export async function writeTogether(db: Executor, writes: readonly (Write | null)[]): Promise<void> {
  const parts = writes.filter((write): write is Write => write !== null);
  if (parts.length === 0) return;
  if (parts.length === 1) {
    await sql`${parts[0]}`.execute(db);
    return;
  }
  const ctes = sql.join(parts.map((write, i) => sql`${sql.raw(`write_${i}`)} as (${write})`));
  await sql`with ${ctes} select 1`.execute(db);
}
