import type { Insertable, Selectable } from 'kysely';
import type { Timestamp } from './columns.ts';

/** Last processed Horizon paging token per watched account. */
export interface HorizonCursorsTable {
  account: string;
  cursor: string;
  updated_at: Timestamp;
}

export type HorizonCursorRow = Selectable<HorizonCursorsTable>;
export type NewHorizonCursorRow = Insertable<HorizonCursorsTable>;
