import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { readHorizonContacts } from '../db/horizon-contacts.repository.ts';

export interface WatcherReadinessOptions {
  db: Kysely<Database>;
  /** The watched (distribution) accounts. */
  accounts: readonly string[];
  /** Not ready once an account's watcher has not reached Horizon for longer than this. */
  unreachableMs: number;
  /** Default: a real clock. */
  clock?: () => Date;
}

/**
 * A `/ready` check that fails when the watcher of some account has not reached Horizon for longer than
 * `unreachableMs`: Horizon down, or the watcher dead or stuck, wherever it runs (the contacts are in the
 * database). An account never reached yet counts from the check's creation, so a fresh start has time.
 */
export function watcherReadiness(options: WatcherReadinessOptions): () => Promise<void> {
  const clock = options.clock ?? (() => new Date());
  const since = clock();
  return async () => {
    const contacts = await readHorizonContacts(options.db, options.accounts);
    const now = clock().getTime();
    for (const account of options.accounts) {
      const reachedAt = contacts.get(account) ?? since;
      if (now - reachedAt.getTime() > options.unreachableMs) {
        throw new Error(
          `the watcher has not reached Horizon for ${account} since ${reachedAt.toISOString()}`,
        );
      }
    }
  };
}
