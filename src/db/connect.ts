import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './database.ts';

export interface OpenDatabaseOptions {
  /** PostgreSQL connection string; without it, PGlite is used. */
  url?: string;
  /** PGlite keeps its files in `<dataDir>/pglite`. */
  dataDir?: string;
  /** PGlite in memory (tests, demos). */
  memory?: boolean;
  /** PGlite: start from a `pglite.dumpDataDir()` dump (e.g. a migrated template in tests) instead of initdb. */
  loadDataDir?: Blob;
  /** Errors of idle pooled connections (e.g. the server restarted). Defaults to a console warning. */
  onPoolError?: (error: Error) => void;
}

interface Handle {
  db: Kysely<Database>;
  /** Ends the pool or closes PGlite, so the process can exit. */
  close(): Promise<void>;
}

/** The driver is exposed for what kysely does not cover (LISTEN/NOTIFY, dumps). */
export type DatabaseHandle =
  (Handle & { kind: 'postgres'; pool: pg.Pool }) | (Handle & { kind: 'pglite'; pglite: PGlite });

const INT8 = 20;
const NUMERIC = 1700;
const asText = (value: string): string => value;

export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  return options.url !== undefined ? openPostgres(options.url, options.onPoolError) : openPglite(options);
}

function openPostgres(url: string, onPoolError?: (error: Error) => void): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: url,
    // Per pool, not pg's global registry: int8 and numeric stay exact strings whatever else is loaded.
    types: {
      getTypeParser: (oid: number, format?: 'text' | 'binary') =>
        oid === INT8 || oid === NUMERIC ? asText : pg.types.getTypeParser(oid, format),
    },
  });
  // Without a listener, an idle client's error (server restart, killed backend) crashes the process.
  pool.on(
    'error',
    onPoolError ?? ((error) => console.warn('postgres: idle connection error:', error.message)),
  );
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, kind: 'postgres', pool, close: () => db.destroy() };
}

async function openPglite(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  if (!options.memory && options.dataDir === undefined) {
    throw new Error('openDatabase: give a url, a dataDir, or memory: true');
  }
  let dataDir: string | undefined;
  if (!options.memory && options.dataDir !== undefined) {
    dataDir = join(options.dataDir, 'pglite');
    await mkdir(dataDir, { recursive: true });
  }
  // PGlite parses int8 as a JS number by default; keep it a string, as with pg.
  const pglite = await PGlite.create({
    dataDir,
    loadDataDir: options.loadDataDir,
    parsers: { [INT8]: asText },
  });
  const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) });
  return { db, kind: 'pglite', pglite, close: () => closePglite(db, pglite) };
}

// kysely only closes PGlite if a query ran, so close it ourselves as well.
async function closePglite(db: Kysely<Database>, pglite: PGlite): Promise<void> {
  await db.destroy();
  if (!pglite.closed) await pglite.close();
}
