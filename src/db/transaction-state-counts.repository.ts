import { sql, type Kysely } from 'kysely';
import type { TransactionStatus } from '../../machines/index.ts';
import { toJson } from './columns.ts';
import type { Database, Executor } from './database.ts';
import type { StateValue } from './transactions.table.ts';

/** Slots a commit can take without waiting; a commit beyond that many at once shares the overflow slot. */
const SLOTS = 64;
/** The first key of the slots' advisory locks (the second is the slot): a constant no other lock uses. */
const SLOT_LOCKS = 0x6d6f6f72;
/** A row's state; rows written before `state_value` was filled have it in the snapshot. */
const STATE_OF_ROW = sql`coalesce(state_value, snapshot -> 'value', to_jsonb(status))`;

interface CountedState {
  status: TransactionStatus;
  stateValue: StateValue;
}

export interface StateCountMove {
  /** The state each rewritten row held when it was read (its version is fenced: it still holds it). */
  leaving: readonly CountedState[];
  /** The state of each row written (new or rewritten). */
  entering: readonly CountedState[];
}

/**
 * Moves the per-state counts by what a commit writes, in one statement: run it in the database transaction
 * that writes the rows (with them, through `writeTogether`). Null: nothing moves.
 *
 * The deltas go to the first slot whose transaction-scoped advisory lock is free, taken without waiting
 * and held until commit: no two open transactions share a slot, so concurrent commits never lock the same
 * counter row, and a rolled-back commit takes its deltas with it.
 */
export function moveStateCountsQuery(move: StateCountMove) {
  const deltas = [
    ...move.leaving.map((state) => ({ status: state.status, state_value: state.stateValue, n: -1 })),
    ...move.entering.map((state) => ({ status: state.status, state_value: state.stateValue, n: 1 })),
  ];
  if (deltas.length === 0) return null;
  return sql`
    with slot as (
      select s from generate_series(0, ${SLOTS - 1}::int) as s
      where pg_try_advisory_xact_lock(${SLOT_LOCKS}::int, s)
      limit 1
    )
    insert into transaction_state_counts as c (slot, status, state_value, n)
    select coalesce((select s from slot), ${SLOTS}::int), status, state_value, sum(n)
    from jsonb_to_recordset(${toJson(deltas)}::jsonb) as d(status text, state_value jsonb, n int)
    group by status, state_value
    having sum(n) <> 0
    -- one order for every writer: two sharing the overflow slot wait, never deadlock
    order by status, state_value
    on conflict (slot, status, state_value) do update set n = c.n + excluded.n`;
}

export interface StateCount {
  status: TransactionStatus;
  stateValue: StateValue;
  n: number;
}

/** How many transactions are in each (status, state value) with any; a few dozen rows whatever the table. */
export async function readStateCounts(db: Executor): Promise<StateCount[]> {
  return stateCountsOf(await stateCountsQuery(db).execute());
}

/** The counts as a query builder (to read them in one snapshot with something else); `n` as text. */
export function stateCountsQuery(db: Executor) {
  return db
    .selectFrom('transaction_state_counts')
    .select(['status', 'state_value', sql<string>`sum(n)::text`.as('n')])
    .groupBy(['status', 'state_value'])
    .having((eb) => eb.fn.sum('n'), '<>', 0);
}

type StateCountRow = Awaited<ReturnType<ReturnType<typeof stateCountsQuery>['execute']>>[number];

export function stateCountsOf(rows: readonly StateCountRow[]): StateCount[] {
  return rows.map((row) => ({ status: row.status, stateValue: row.state_value, n: Number(row.n) }));
}

/**
 * Counts every transaction again, replacing the counts: after rows were written around the actor host (a
 * bulk load, a repair). Run it while no host writes: a commit that overlaps it may be miscounted.
 */
export async function recountStates(db: Kysely<Database>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('transaction_state_counts').execute();
    await sql`
      insert into transaction_state_counts (slot, status, state_value, n)
      select 0, status, ${STATE_OF_ROW}, count(*)
      from transactions
      group by 2, 3`.execute(trx);
  });
}
