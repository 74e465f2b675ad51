/**
 * The two deployments the benchmark measures. Each is a config file and a set of environment variables,
 * read by `loadConfig` exactly as `mooring` reads them, and Mooring itself is started from that Config by
 * the real composition root, `startMooring(config, { roles, log })`, once per measurement:
 * - `embedded`: the defaults: PGlite on disk (MOORING_DATA_DIR, a temporary folder) + the in-process bus;
 * - `postgres+nats`: DATABASE_URL → a fresh database `mooring_bench_<hex>` on that server, NATS_URL with
 *   NATS_PREFIX `bench_<hex>` (streams `bench_<hex>_events` and `…_business_events`). All are removed afterwards,
 *   also on Ctrl-C.
 * Both are a KYC deployment (SEP-12 types sep31-sender and sep31-receiver, a sender and a receiver
 * registered through SEP-12 and ACCEPTED when the environment opens), turn the machine viewer on
 * (OPERATOR_TOKEN), point HORIZON_URL at a fake Horizon of their own and listen on a free port on 127.0.0.1.
 * A figure starts every role of `mooring serve` unless it says otherwise.
 * A server that cannot be reached makes its environment `skipped`, with the reason.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { pino } from 'pino';
import { businessEventsStreamName } from '../../src/bus/index.ts';
import { loadConfig, type Config } from '../../src/config/index.ts';
import type { Database } from '../../src/db/index.ts';
import { ROLES, startMooring, type Mooring, type Role } from '../../src/main.ts';
import { startFakeHorizon, type FakeHorizon } from '../fakes/fake-horizon.ts';
import { testConfigFile } from '../helpers/app.ts';
import { registerCustomers, type BenchCustomers } from './sending-anchor.ts';
import { errorMessage, Teardown } from './teardown.ts';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
const CONNECT_TIMEOUT_MS = 3_000;
/** Warnings and errors kept per environment (the count goes on). */
const TROUBLE_KEPT = 200;
/** `mooring serve` without the actors: what runs beside actor hosts in other processes. */
export const ROLES_BUT_ACTORS: readonly Role[] = ROLES.filter((role) => role !== 'actors');

export interface BenchEnvironment {
  name: 'embedded' | 'postgres+nats';
  /** e.g. `PGlite (on disk) + in-process bus`. */
  label: string;
  /** Where it ran, e.g. the database created for the run. */
  note: string;
  config: Config;
  /** The variables `loadConfig` read; a child `mooring` process gets the same. */
  env: Readonly<Record<string, string>>;
  /** The Horizon that HORIZON_URL points at. */
  horizon: FakeHorizon;
  /** The sending anchor's sender and receiver, ACCEPTED before any figure. */
  customers: BenchCustomers;
  /** The machine viewer's OPERATOR_TOKEN. */
  operatorToken: string;
  /** What Mooring logged at warn or above (LOG_LEVEL is silent: nothing is printed while measuring). */
  trouble: { count: number; kept: string[] };
  teardown: Teardown;
  /**
   * `startMooring` with these roles (default: every role, as `mooring serve`); `phase` labels its log
   * lines. Stopped by `stop()` or teardown.
   */
  start(phase: string, roles?: readonly Role[]): Promise<Started>;
  close(): Promise<void>;
}

export interface Started {
  mooring: Mooring;
  db: Kysely<Database>;
  /** How long `startMooring` took (open, migrate, connect, start the roles). */
  startSeconds: number;
  stop(): Promise<void>;
}

export type OpenedEnvironment =
  { opened: BenchEnvironment } | { skipped: string; name: BenchEnvironment['name']; label: string };

/**
 * The config file of every environment: testConfigFile's KYC types (sep31-sender, sep31-receiver: a POST
 * looks both customers up, a payout waits until both are ACCEPTED), the reference rails paying at once.
 */
function configFile() {
  return testConfigFile({
    rails: { kind: 'reference', payoutDelaySeconds: 0 },
    // Only used when no cursor is stored yet: the accounts are empty when each watcher first starts.
    watcher: { startFrom: 'beginning' },
  });
}

async function build(
  name: BenchEnvironment['name'],
  label: string,
  note: string,
  vars: Record<string, string>,
  teardown: Teardown,
): Promise<BenchEnvironment> {
  const dir = await mkdtemp(join(tmpdir(), 'mooring-bench-'));
  teardown.add(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
  const horizon = await startFakeHorizon();
  teardown.add('fake Horizon', () => horizon.close());
  await writeFile(join(dir, 'mooring.json'), JSON.stringify(configFile()));
  const operatorToken = randomBytes(16).toString('hex');
  const env = {
    OPERATOR_TOKEN: operatorToken,
    MOORING_CONFIG: join(dir, 'mooring.json'),
    MOORING_DATA_DIR: join(dir, 'data'),
    LOG_LEVEL: 'silent',
    HORIZON_URL: horizon.url,
    HOST: '127.0.0.1',
    PORT: String(await freePort()),
    ...vars,
  };
  const config = await loadConfig({ env, cwd: dir });
  const trouble = { count: 0, kept: [] as string[] };

  async function start(phase: string, roles: readonly Role[] = ROLES): Promise<Started> {
    const log = pino(
      { level: 'warn', base: null },
      {
        write(line: string) {
          trouble.count += 1;
          if (trouble.kept.length < TROUBLE_KEPT) trouble.kept.push(`${phase}: ${briefLogLine(line)}`);
        },
      },
    );
    const started = performance.now();
    const mooring = await startMooring(config, { roles, log });
    const stop = teardown.add(`Mooring (${phase})`, () => mooring.close());
    return {
      mooring,
      db: mooring.database.db,
      startSeconds: (performance.now() - started) / 1000,
      stop,
    };
  }

  const registration = await start('customers', ['http', 'actors']);
  let customers: BenchCustomers;
  try {
    customers = await registerCustomers(registration.mooring.url!, config);
  } finally {
    await registration.stop();
  }

  return {
    name,
    label,
    note: `${note}; data dir ${dir}, removed afterwards`,
    config,
    env,
    horizon,
    customers,
    operatorToken,
    trouble,
    teardown,
    start,
    close: () => teardown.runAll(),
  };
}

export async function openEmbedded(): Promise<OpenedEnvironment> {
  const teardown = new Teardown();
  try {
    return {
      opened: await build(
        'embedded',
        'PGlite (on disk) + in-process bus',
        'defaults: no DATABASE_URL, no NATS_URL',
        {},
        teardown,
      ),
    };
  } catch (error) {
    await teardown.runAll();
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
  const prefix = `bench_${hex}`;

  let pgVersion: string;
  try {
    pgVersion = await admin(databaseUrl, 'SHOW server_version');
  } catch (error) {
    return {
      name,
      label: 'PostgreSQL + NATS',
      skipped: `PostgreSQL at ${redact(databaseUrl)}: ${errorMessage(error)}`,
    };
  }
  let natsVersion: string;
  try {
    const nc = await connect({ servers: natsUrl, timeout: CONNECT_TIMEOUT_MS, name: 'mooring-bench-probe' });
    natsVersion = nc.info?.version ?? '?';
    await nc.close();
  } catch (error) {
    return { name, label: 'PostgreSQL + NATS', skipped: `NATS at ${natsUrl}: ${errorMessage(error)}` };
  }

  const teardown = new Teardown();
  try {
    await admin(databaseUrl, `CREATE DATABASE ${database}`);
    teardown.add(
      `drop database ${database}`,
      async () => void (await admin(databaseUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)),
    );
    // Mooring creates the stream on start; it goes whether or not a start got that far.
    teardown.add(`delete stream ${prefix}_events`, () => deleteStream(natsUrl, `${prefix}_events`));
    const events = businessEventsStreamName(prefix);
    teardown.add(`delete stream ${events}`, () => deleteStream(natsUrl, events));
    const url = new URL(databaseUrl);
    url.pathname = `/${database}`;
    const autovacuum = await admin(databaseUrl, 'SHOW autovacuum');
    const label = `PostgreSQL ${pgVersion.split(' ')[0]} + NATS ${natsVersion}`;
    const note =
      `database ${database} on ${redact(databaseUrl)} (autovacuum ${autovacuum}), ` +
      `NATS_PREFIX ${prefix} (streams ${prefix}_events, ${prefix}_business_events) on ${natsUrl}; all removed afterwards`;
    const vars = { DATABASE_URL: url.href, NATS_URL: natsUrl, NATS_PREFIX: prefix };
    return { opened: await build(name, label, note, vars, teardown) };
  } catch (error) {
    await teardown.runAll();
    throw error;
  }
}

/** A port free now on 127.0.0.1 (the config wants a fixed one; PORT=0 is refused). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
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

async function deleteStream(natsUrl: string, stream: string): Promise<void> {
  const nc = await connect({ servers: natsUrl, timeout: CONNECT_TIMEOUT_MS, name: 'mooring-bench-cleanup' });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(stream).catch(() => false);
  } finally {
    await nc.close();
  }
}

/** One pino line as `level message (err)`, short. */
export function briefLogLine(line: string): string {
  try {
    const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
    const level = entry.level !== undefined && entry.level >= 50 ? 'error' : 'warn';
    const text = `${level}: ${entry.msg ?? ''}${entry.err?.message ? ` (${entry.err.message})` : ''}`;
    return text.length > 300 ? `${text.slice(0, 300)}…` : text;
  } catch {
    return line.trim().slice(0, 300);
  }
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
