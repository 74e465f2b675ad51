import type { Kysely } from 'kysely';
import { Migrator, NO_MIGRATIONS, type Migration, type MigrationProvider } from 'kysely/migration';
import * as initial from './migrations/2026-11-24-001-initial.ts';
import * as sep10Challenges from './migrations/2026-11-24-002-sep10-challenges.ts';
import * as customers from './migrations/2026-11-24-003-customers.ts';
import * as watcherLeases from './migrations/2026-11-24-004-watcher-leases.ts';
import * as referenceRails from './migrations/2026-11-24-005-reference-rails.ts';
import * as eventStates from './migrations/2026-11-24-006-event-states.ts';
import * as actorHosts from './migrations/2026-12-03-007-actor-hosts.ts';
import * as uploads from './migrations/2026-12-03-008-uploads.ts';
import * as dueWork from './migrations/2026-12-03-009-due-work.ts';
import * as idempotencyKeys from './migrations/2026-12-03-010-idempotency-keys.ts';
import * as uploadChunks from './migrations/2026-12-03-011-upload-chunks.ts';
import * as watcherContact from './migrations/2026-12-03-012-watcher-contact.ts';
import * as rpcCursors from './migrations/2026-12-03-013-rpc-cursors.ts';
import * as quotes from './migrations/2026-12-03-014-quotes.ts';
import * as refunds from './migrations/2026-12-03-015-refunds.ts';
import * as operatorConsole from './migrations/2026-12-03-017-console.ts';
import * as eventOperators from './migrations/2026-12-03-018-event-operators.ts';
import * as customerReviews from './migrations/2026-12-03-019-customer-reviews.ts';

// Imported statically: works from any cwd and in a bundle, unlike FileMigrationProvider.
const MIGRATIONS: Record<string, Migration> = {
  '2026-11-24-001-initial': initial,
  '2026-11-24-002-sep10-challenges': sep10Challenges,
  '2026-11-24-003-customers': customers,
  '2026-11-24-004-watcher-leases': watcherLeases,
  '2026-11-24-005-reference-rails': referenceRails,
  '2026-11-24-006-event-states': eventStates,
  '2026-12-03-007-actor-hosts': actorHosts,
  '2026-12-03-008-uploads': uploads,
  '2026-12-03-009-due-work': dueWork,
  '2026-12-03-010-idempotency-keys': idempotencyKeys,
  '2026-12-03-011-upload-chunks': uploadChunks,
  '2026-12-03-012-watcher-contact': watcherContact,
  '2026-12-03-013-rpc-cursors': rpcCursors,
  '2026-12-03-014-quotes': quotes,
  '2026-12-03-015-refunds': refunds,
  '2026-12-03-017-console': operatorConsole,
  '2026-12-03-018-event-operators': eventOperators,
  '2026-12-03-019-customer-reviews': customerReviews,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/**
 * Applies every pending migration (each in its own transaction, under kysely's migration lock, so
 * concurrent callers are safe). Returns the names it applied; throws if any failed.
 */
export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<string[]> {
  const { error, results = [] } = await new Migrator({ db, provider }).migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName ?? '(before any migration ran)';
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Database migration ${failed} failed: ${reason}`, { cause: error });
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Migrates up or down to the named migration (tests of a migration's data conversion). */
export async function migrateTo<DB>(db: Kysely<DB>, name: string): Promise<void> {
  const { error } = await new Migrator({ db, provider }).migrateTo(name);
  if (error !== undefined) throw new Error(`migrating to ${name} failed`, { cause: error });
}

/** Reverts every migration, newest first (tests and `down` checks). */
export async function migrateToNothing<DB>(db: Kysely<DB>): Promise<void> {
  const { error } = await new Migrator({ db, provider }).migrateTo(NO_MIGRATIONS);
  if (error !== undefined) throw new Error('reverting the migrations failed', { cause: error });
}
