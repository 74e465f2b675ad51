/**
 * Several writes as one statement (PostgreSQL data-modifying CTEs): one round trip instead of one each.
 * Each write sees the database as it was before the statement, so none may read what another writes
 * (a write may still reference rows another inserts: foreign keys are checked at the statement's end).
 */
import { sql, type OperationNodeSource, type RawBuilder } from 'kysely';
import type { Executor } from './database.ts';

/** A query builder or raw statement (a plain value would be sent as a parameter instead). */
type Write = OperationNodeSource;

/**
 * Runs `writes` (nulls are skipped) and `returning` together; returns the rows `returning` returns (an
 * UPDATE … RETURNING, say), or none without it.
 */
export async function writeTogether<R>(
  db: Executor,
  writes: readonly (Write | null)[],
  returning: RawBuilder<R> | null = null,
): Promise<R[]> {
  const parts = writes.filter((write): write is Write => write !== null);
  if (parts.length === 0) return returning === null ? [] : (await returning.execute(db)).rows;
  if (parts.length === 1 && returning === null) {
    await sql`${parts[0]}`.execute(db);
    return [];
  }
  const ctes = sql.join(parts.map((write, i) => sql`${sql.raw(`write_${i}`)} as (${write})`));
  const result =
    returning === null
      ? await sql<R>`with ${ctes} select 1`.execute(db)
      : await sql<R>`with ${ctes}, returned as (${returning}) select * from returned`.execute(db);
  return returning === null ? [] : result.rows;
}
