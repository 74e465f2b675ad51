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
  /**
   * PostgreSQL: how long getting a connection may take before the query fails (a 503 for HTTP, a retry for
   * the loops) instead of waiting for a server that is down. Default 5 s.
   */
  connectTimeoutMs?: number;
  /** Where a lost connection is reported: once when the server goes away, once when it is back. */
  log?: ConnectionLog;
}

/** Structural subset of a pino logger. */
export interface ConnectionLog {
  info?(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

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
const BYTEA = 17;
const asText = (value: string): string => value;
// PGlite's own bytea codecs go through a JS string per byte: seconds and hundreds of MB for a few MB of
// file. Bytes handed back as they are go to the server as a binary parameter (PGlite's bind does that for
// any ArrayBuffer view; its type says string); results are parsed from hex in native code.
const byteaAsBinary = (value: unknown): string => {
  if (!(value instanceof Uint8Array)) throw new Error('Invalid input for bytea type');
  return value as unknown as string;
};
const byteaFromText = (value: string): Uint8Array => Buffer.from(value.slice(2), 'hex');

export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  return options.url !== undefined ? openPostgres(options.url, options) : openPglite(options);
}

const consoleLog: ConnectionLog = {
  info: (obj, msg) => console.info(`postgres: ${msg}`, obj),
  warn: (obj, msg) => console.warn(`postgres: ${msg}`, obj),
};

function openPostgres(url: string, options: OpenDatabaseOptions): DatabaseHandle {
  const log = options.log ?? consoleLog;
  const pool = new pg.Pool({
    connectionString: url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    // Per pool, not pg's global registry: int8 and numeric stay exact strings whatever else is loaded.
    types: {
      getTypeParser: (oid: number, format?: 'text' | 'binary') =>
        oid === INT8 || oid === NUMERIC ? asText : pg.types.getTypeParser(oid, format),
    },
  });
  // A connection's 'error' event without a listener crashes the process (server restart, killed backend).
  // The pool listens on idle clients only; a checked-out client emits it too when its socket dies between
  // queries, so every client gets a listener of its own. The query in flight fails on its own (and is
  // retried or answered 503 by its caller); the pool discards the broken client.
  let lost = false;
  const onConnectionError = (error: Error) => {
    if (lost) return;
    lost = true;
    log.warn({ error: error.message }, 'connection lost; queries fail until the server is back');
  };
  pool.on('error', onConnectionError);
  pool.on('connect', (client) => {
    client.on('error', onConnectionError);
    if (!lost) return;
    lost = false;
    log.info?.({}, 'connected again');
  });
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
  // PGlite parses int8 as a JS number by default; keep it a string, as with pg. Bytea in native code.
  const pglite = await PGlite.create({
    dataDir,
    loadDataDir: options.loadDataDir,
    parsers: { [INT8]: asText, [BYTEA]: byteaFromText },
    serializers: { [BYTEA]: byteaAsBinary },
  });
  const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) });
  return { db, kind: 'pglite', pglite, close: () => closePglite(db, pglite) };
}

// kysely only closes PGlite if a query ran, so close it ourselves as well.
async function closePglite(db: Kysely<Database>, pglite: PGlite): Promise<void> {
  await db.destroy();
  if (!pglite.closed) await pglite.close();
}
