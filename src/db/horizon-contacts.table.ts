import type { Selectable } from 'kysely';
import type { Timestamp } from './columns.ts';

/** When the active watcher last reached Horizon, per watched account (read by `/ready`). */
export interface HorizonContactsTable {
  account: string;
  reached_at: Timestamp;
}

export type HorizonContactRow = Selectable<HorizonContactsTable>;
