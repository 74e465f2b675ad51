import type { Insertable, Selectable } from 'kysely';
import type { Timestamp } from './columns.ts';

/** One row per lease (`payments:G...` for a watcher, `actors:<stream>:<p>` for a partition owner): who holds it and until when. */
export interface LeasesTable {
  name: string;
  /** Unique per process, e.g. `host:pid:random`. */
  holder: string;
  /** After this instant anyone may take the lease over. */
  expires_at: Timestamp;
  /** When the current holder took it. */
  acquired_at: Timestamp;
  renewed_at: Timestamp;
}

export type LeaseRow = Selectable<LeasesTable>;
export type NewLeaseRow = Insertable<LeasesTable>;
