/**
 * Several SELECTs as one statement: one round trip instead of one each. Each query's rows travel as JSON
 * (`json_agg`), so a query may read only columns JSON carries unchanged: text, integers, booleans and jsonb
 * (not bigint, numeric or timestamps, which would come back as strings or numbers of another kind).
 */
import { sql, type OperationNodeSource } from 'kysely';
import type { Executor } from './database.ts';

/** A kysely SELECT (any query builder whose `execute` gives rows). */
type Select = OperationNodeSource & { execute(): Promise<object[]> };
type RowsOf<Q> = Q extends { execute(): Promise<infer Rows> } ? Rows : never[];

/** The rows of each query, in order (none for a null query). */
export async function readTogether<const Q extends readonly (Select | null)[]>(
  db: Executor,
  queries: Q,
): Promise<{ -readonly [K in keyof Q]: RowsOf<Q[K]> }> {
  const results: unknown[][] = queries.map(() => []);
  const asked = queries.flatMap((query, i) => (query === null ? [] : [i]));
  if (asked.length === 1) {
    results[asked[0]!] = await queries[asked[0]!]!.execute();
  } else if (asked.length > 1) {
    const columns = sql.join(
      asked.map(
        (i) =>
          sql`(select coalesce(json_agg(r), '[]'::json) from ${queries[i]!} as r) as ${sql.ref(`r${i}`)}`,
      ),
    );
    const { rows } = await sql<Record<string, unknown[]>>`select ${columns}`.execute(db);
    for (const i of asked) results[i] = rows[0]![`r${i}`]!;
  }
  return results as { -readonly [K in keyof Q]: RowsOf<Q[K]> };
}
