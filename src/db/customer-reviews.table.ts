import type { ColumnType, Selectable } from 'kysely';
import type { Timestamp } from './columns.ts';

/** A customer review still owed (the integration was away, or left fields undecided): asked again at `due_at`. */
export interface CustomerReviewsDueTable {
  customer_id: string;
  account: string;
  memo: string | null;
  due_at: Timestamp;
  /** Reviews asked since the last decisive one: spaces the next (backoff). */
  attempts: ColumnType<number, number | undefined, number>;
}

export type CustomerReviewDueRow = Selectable<CustomerReviewsDueTable>;
