import { sql } from 'kysely';
import type { Executor } from './database.ts';

/**
 * The position a partition was applied up to, for this epoch of the stream (0: nothing yet). A row of
 * another epoch (the stream was created anew) is reset to 0. Creates the row, so later commits can
 * compare-and-set it.
 */
export async function startOffset(
  db: Executor,
  { stream, partition, epoch, now }: { stream: string; partition: number; epoch: string; now: Date },
): Promise<{ position: number; reset: boolean }> {
  await db
    .insertInto('partition_offsets')
    .values({ stream, partition, epoch, position: 0, updated_at: now })
    .onConflict((oc) => oc.columns(['stream', 'partition']).doNothing())
    .execute();
  const row = await db
    .selectFrom('partition_offsets')
    .select(['epoch', 'position'])
    .where('stream', '=', stream)
    .where('partition', '=', partition)
    .executeTakeFirstOrThrow();
  if (row.epoch === epoch) return { position: Number(row.position), reset: false };
  await db
    .updateTable('partition_offsets')
    .set({ epoch, position: 0, updated_at: now })
    .where('stream', '=', stream)
    .where('partition', '=', partition)
    .where('epoch', '=', row.epoch)
    .execute();
  return { position: 0, reset: Number(row.position) > 0 };
}

export interface OffsetMove {
  partition: number;
  from: number;
  to: number;
}

/**
 * Moves partitions' positions, each only if it is still where this owner left it: the fence that keeps
 * a former owner (one that lost its lease without knowing) from committing. Returns the partitions moved.
 */
export async function moveOffsets(
  db: Executor,
  { stream, epoch, moves, now }: { stream: string; epoch: string; moves: readonly OffsetMove[]; now: Date },
): Promise<Set<number>> {
  if (moves.length === 0) return new Set();
  const values = sql.join(
    moves.map((m) => sql`(${m.partition}::integer, ${m.from}::bigint, ${m.to}::bigint)`),
  );
  const result = await sql<{ partition: number }>`
    update partition_offsets as o set position = v.to_position, updated_at = ${now}
    from (values ${values}) as v(partition, from_position, to_position)
    where o.stream = ${stream} and o.epoch = ${epoch} and o.partition = v.partition and o.position = v.from_position
    returning o.partition`.execute(db);
  return new Set(result.rows.map((row) => Number(row.partition)));
}
