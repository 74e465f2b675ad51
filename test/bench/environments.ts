/**
 * The two deployments the benchmark measures, each opened the way `src/main.ts` composes them (database
 * migrated, bus created, bus events routed to the actor host):
 * - `embedded`: PGlite on disk in a temporary folder (the default data dir layout) + in-process bus;
 * - `postgres+nats`: a fresh database `mooring_bench_<hex>` on the server of `DATABASE_URL` (default
 *   `postgres://postgres@127.0.0.1:5432/postgres`), dropped afterwards, + NATS JetStream (`NATS_URL`,
 *   default `nats://127.0.0.1:4222`) on a stream of its own, deleted afterwards.
 * A service that cannot be reached makes its environment `skipped`, with the reason.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { routeEventsToActors } from '../../src/actors/event-router.ts';
import { createTransactionHost, type TransactionHost } from '../../src/actors/transaction-host.ts';
import { createBus, silentLogger, type EventBus } from '../../src/bus/index.ts';
import { migrateToLatest, openDatabase, type Database, type DatabaseHandle } from '../../src/db/index.ts';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
const CONNECT_TIMEOUT_MS = 3_000;

export interface BenchEnvironment {
  name: 'embedded' | 'postgres+nats';
  /** e.g. `PGlite (on disk) + in-process bus`. */
  label: string;
  /** Where it ran, e.g. the database created for the run. */
  note: string;
  kind: DatabaseHandle['kind'];
  db: Kysely<Database>;
  host: TransactionHost;
  bus: EventBus;
  close(): Promise<void>;
}

export type OpenedEnvironment =
  { opened: BenchEnvironment } | { skipped: string; name: BenchEnvironment['name']; label: string };

const quiet = { info: () => {}, warn: () => {} };

interface Closer {
  close(): Promise<void>;
}

async function closeAll(closers: Closer[]): Promise<void> {
  for (const closer of closers.reverse()) {
    try {
      await closer.close();
    } catch (error) {
      console.warn(`bench cleanup: ${(error as Error).message}`);
    }
  }
}

async function compose(
  name: BenchEnvironment['name'],
  label: string,
  note: string,
  handle: DatabaseHandle,
  bus: EventBus,
  closers: Closer[],
): Promise<BenchEnvironment> {
  await migrateToLatest(handle.db);
  const host = createTransactionHost({ db: handle.db });
  const subscription = await routeEventsToActors(bus, host, quiet);
  closers.push({ close: () => subscription.stop() });
  return { name, label, note, kind: handle.kind, db: handle.db, host, bus, close: () => closeAll(closers) };
}

export async function openEmbedded(): Promise<OpenedEnvironment> {
  const closers: Closer[] = [];
  try {
    const dir = await mkdtemp(join(tmpdir(), 'mooring-bench-'));
    closers.push({ close: () => rm(dir, { recursive: true, force: true }) });
    const handle = await openDatabase({ dataDir: dir });
    closers.push(handle);
    const bus = await createBus({ logger: silentLogger });
    closers.push(bus);
    const note = `PGlite data dir in ${dir}, removed afterwards`;
    return {
      opened: await compose('embedded', 'PGlite (on disk) + in-process bus', note, handle, bus, closers),
    };
  } catch (error) {
    await closeAll(closers);
    throw error;
  }
}

export async function openPostgresNats(
  databaseUrl = process.env.DATABASE_URL || DEFAULT_DATABASE_URL,
  natsUrl = process.env.NATS_URL || DEFAULT_NATS_URL,
): Promise<OpenedEnvironment> {
  const name = 'postgres+nats';
  const hex = randomBytes(4).toString('hex');
  const database = `mooring_bench_${hex}`;

  let pgVersion: string;
  try {
    pgVersion = await admin(databaseUrl, 'SHOW server_version');
  } catch (error) {
    return {
      name,
      label: 'PostgreSQL + NATS',
      skipped: `PostgreSQL at ${redact(databaseUrl)}: ${message(error)}`,
    };
  }
  let natsVersion: string;
  try {
    const nc = await connect({ servers: natsUrl, timeout: CONNECT_TIMEOUT_MS, name: 'mooring-bench-probe' });
    natsVersion = nc.info?.version ?? '?';
    await nc.close();
  } catch (error) {
    return { name, label: 'PostgreSQL + NATS', skipped: `NATS at ${natsUrl}: ${message(error)}` };
  }

  const closers: Closer[] = [];
  try {
    await admin(databaseUrl, `CREATE DATABASE ${database}`);
    closers.push({
      close: async () => void (await admin(databaseUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)),
    });
    const url = new URL(databaseUrl);
    url.pathname = `/${database}`;
    const handle = await openDatabase({ url: url.href });
    closers.push(handle);
    const streamName = `MOORING_BENCH_${hex.toUpperCase()}`;
    closers.push({ close: () => deleteStreams(natsUrl, [streamName, `${streamName}_DEAD`]) });
    const bus = await createBus({
      natsUrl,
      nats: { streamName, subjectPrefix: `mooring.bench.${hex}`, name: 'mooring-bench' },
      logger: silentLogger,
    });
    closers.push(bus);
    const label = `PostgreSQL ${pgVersion.split(' ')[0]} + NATS ${natsVersion}`;
    const autovacuum = await admin(databaseUrl, 'SHOW autovacuum');
    const note =
      `database ${database} on ${redact(databaseUrl)} (autovacuum ${autovacuum}), ` +
      `stream ${streamName} on ${natsUrl}; both removed afterwards`;
    return { opened: await compose(name, label, note, handle, bus, closers) };
  } catch (error) {
    await closeAll(closers);
    throw error;
  }
}

/** Runs one statement on the server's admin database; returns the first column of the first row, if any. */
async function admin(serverUrl: string, statement: string): Promise<string> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  await client.connect();
  try {
    const result = await client.query(statement);
    const row = result.rows[0] as Record<string, unknown> | undefined;
    return row ? String(Object.values(row)[0]) : '';
  } finally {
    await client.end();
  }
}

async function deleteStreams(natsUrl: string, names: string[]): Promise<void> {
  const nc = await connect({ servers: natsUrl, timeout: CONNECT_TIMEOUT_MS, name: 'mooring-bench-cleanup' });
  try {
    const jsm = await jetstreamManager(nc);
    for (const stream of names) await jsm.streams.delete(stream).catch(() => false);
  } finally {
    await nc.close();
  }
}

function message(error: unknown): string {
  const e = error as { message?: string; code?: string };
  return e.message || e.code || String(error);
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.href;
  } catch {
    return url;
  }
}
