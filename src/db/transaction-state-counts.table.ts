import type { ColumnType } from 'kysely';
import type { TransactionStatus } from '../../machines/index.ts';
import type { Json } from './columns.ts';
import type { StateValue } from './transactions.table.ts';

/**
 * How many transactions are in each (status, state value), kept by the commits that change them: the sum
 * of `n` over the slots. Each commit adds its deltas to a slot of its own, so commits never wait on one
 * another here (`transaction-state-counts.repository.ts`).
 */
export interface TransactionStateCountsTable {
  slot: number;
  status: TransactionStatus;
  state_value: Json<StateValue>;
  /** int8, read as a string; a slot's share may be negative (transactions left the state through it). */
  n: ColumnType<string, string | number, string | number>;
}
