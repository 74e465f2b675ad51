import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { openDatabase, type DatabaseHandle } from '../../src/db/connect.ts';
import type { Database } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';

export interface OpenTestDatabase {
  db: Kysely<Database>;
  /** Connection string of this database (Postgres only), to open more connections to it. */
  url?: string;
  close(): Promise<void>;
}

export interface TestDatabase {
  name: 'pglite' | 'postgres';
  /** A fresh, migrated, empty database; close() throws it away. */
  open(): Promise<OpenTestDatabase>;
}

const ENABLE = 'DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres';
let warned = false;

/**
 * The databases every integration case runs against: PGlite always, PostgreSQL when DATABASE_URL is set.
 * On CI a missing DATABASE_URL is an error, so Postgres is never skipped silently.
 */
export function testDatabases(): TestDatabase[] {
  const url = process.env.DATABASE_URL;
  if (!url) {
    if (process.env.CI === 'true') {
      throw new Error(
        `DATABASE_URL must be set on CI so the Postgres integration tests run (e.g. ${ENABLE})`,
      );
    }
    if (!warned) {
      warned = true;
      console.warn(`Postgres integration tests skipped (PGlite only). To run them: ${ENABLE} npx vitest run`);
    }
    return [pgliteDatabase];
  }
  return [pgliteDatabase, postgresDatabase(url)];
}

// initdb + migrations take seconds; loading a dump of a migrated instance takes a fraction of that.
let template: Promise<Blob> | undefined;

async function migratedDump(): Promise<Blob> {
  const handle = await openDatabase({ memory: true });
  try {
    await migrateToLatest(handle.db);
    if (handle.kind !== 'pglite') throw new Error('expected PGlite');
    return await handle.pglite.dumpDataDir('none');
  } finally {
    await handle.close();
  }
}

const pgliteDatabase: TestDatabase = {
  name: 'pglite',
  async open() {
    template ??= migratedDump();
    const { db, close } = await openDatabase({ memory: true, loadDataDir: await template });
    return { db, close };
  },
};

/** A fresh migrated database per `open()` on the server at `serverUrl` (e.g. a private one of a chaos test). */
export function postgresDatabase(serverUrl: string): TestDatabase {
  return {
    name: 'postgres',
    async open() {
      const name = `mooring_test_${randomBytes(6).toString('hex')}`;
      await admin(serverUrl, `CREATE DATABASE ${name}`);
      const url = new URL(serverUrl);
      url.pathname = `/${name}`;
      let handle: DatabaseHandle | undefined;
      const close = async () => {
        await handle?.close();
        await admin(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      };
      try {
        handle = await openDatabase({ url: url.href });
        await migrateToLatest(handle.db);
      } catch (error) {
        await close();
        throw error;
      }
      return { db: handle.db, url: url.href, close };
    },
  };
}

async function admin(serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
