import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { routeEventsToActors } from './actors/event-router.ts';
import { createTransactionHost, type TransactionHost } from './actors/transaction-host.ts';
import { createBus, type EventBus } from './bus/index.ts';
import type { Config } from './config/index.ts';
import { migrateToLatest, openDatabase, type DatabaseHandle } from './db/index.ts';
import { callbackHandlers, DEFAULT_RELAY_SETTINGS, startOutboxRelay } from './effects/index.ts';
import { buildApp } from './http/app.ts';
import { loadIntegration } from './integrations/index.ts';
import { createRailsIntegration } from './integrations/rails-integration.ts';
import { createHorizonAccounts } from './stellar/horizon-accounts-sdk.ts';
import { createHorizonPaymentSource } from './stellar/horizon-payments-sdk.ts';
import { startPaymentWatcher } from './watcher/index.ts';
import { VIEWER_BASE } from './viewer/api.ts';
import {
  DEFAULT_PAYOUT_RELAY_SETTINGS,
  payoutCustomerTypes,
  runExecuteOutgoingPass,
  runPollOutgoingPass,
  startPayoutRelay,
  startWorker,
} from './workers/index.ts';

/**
 * What one process can do. `serve` runs them all; the Polaris-style commands run one each:
 * - `http`: the SEP endpoints (any number of instances).
 * - `actors`: applies events arriving on the bus (NATS partitions spread over instances).
 * - `relay`: delivers signed callbacks from the outbox.
 * - `watcher`: follows Horizon for payments to the receiving accounts (one active per account, by lease).
 * - `execute-outgoing`: requests payouts for funded transactions and carries them out at the rails.
 * - `poll-outgoing`: asks the rails about pending payouts.
 * - `expire`: expires unpaid transactions past their deadline.
 */
export const ROLES = [
  'http',
  'actors',
  'relay',
  'watcher',
  'execute-outgoing',
  'poll-outgoing',
  'expire',
] as const;
export type Role = (typeof ROLES)[number];

export interface Mooring {
  database: DatabaseHandle;
  bus: EventBus;
  host: TransactionHost;
  app: FastifyInstance | null;
  /** Where the HTTP server listens, e.g. `http://127.0.0.1:8000`, when the http role runs. */
  url: string | null;
  close(): Promise<void>;
}

export interface StartOptions {
  roles?: readonly Role[];
  log?: Logger;
  /** Seconds between worker passes, overriding config (CLI `--interval`). */
  intervalSeconds?: number;
}

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'mooring' } });
}

interface Closable {
  close(): Promise<void>;
}

/** Composition root: config → database → bus → actor host → roles. Nothing else imports this file. */
export async function startMooring(config: Config, options: StartOptions = {}): Promise<Mooring> {
  const roles = new Set(options.roles ?? ROLES);
  const log = options.log ?? createLogger(config.logLevel);
  const database = await openDatabase(
    config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir },
  );
  const opened: Closable[] = [database];
  try {
    await migrateToLatest(database.db);
    log.info({ database: database.kind }, 'database migrated');
    const bus = await createBus({ natsUrl: config.natsUrl ?? undefined, logger: log.child({ part: 'bus' }) });
    opened.unshift(bus);
    log.info({ bus: config.natsUrl ? 'nats' : 'in-process' }, 'bus connected');
    const db = database.db;
    const host = createTransactionHost({ db });
    const workerId = `${hostname()}-${process.pid}`;
    const seconds = (configured: number) => (options.intervalSeconds ?? configured) * 1000;
    const started = (part: Closable) => opened.unshift(part);

    if (roles.has('actors')) {
      const subscription = await routeEventsToActors(bus, host, log.child({ role: 'actors' }));
      started({ close: () => subscription.stop() });
    }
    if (roles.has('relay')) {
      const relay = startOutboxRelay({
        db,
        handlers: callbackHandlers({ db, config }),
        workerId: `relay-${workerId}`,
        ...DEFAULT_RELAY_SETTINGS,
        log: log.child({ role: 'relay' }),
      });
      started({ close: () => relay.stop() });
    }
    if (roles.has('watcher')) {
      const watcher = startPaymentWatcher({
        db,
        host,
        source: createHorizonPaymentSource(config.horizonUrl, { appName: 'mooring' }),
        accounts: [...new Set(config.assets.map((asset) => asset.distributionAccount))],
        log: log.child({ role: 'watcher' }),
        silenceMs: config.watcher.silenceTimeoutSeconds * 1000,
        startFrom: config.watcher.startFrom,
        backoff: { initialMs: 1_000, maxMs: 60_000 },
      });
      started({ close: () => watcher.stop() });
    }
    const rails =
      roles.has('execute-outgoing') || roles.has('poll-outgoing')
        ? createRailsIntegration(config.rails, { db })
        : null;
    if (roles.has('execute-outgoing')) {
      const requests = startWorker('execute-outgoing', {
        db,
        host,
        customerTypes: payoutCustomerTypes(config),
        intervalMs: seconds(config.workers.executeOutgoingIntervalSeconds),
        log: log.child({ role: 'execute-outgoing' }),
      });
      // The payout relay carries out the execute_payout effects; its lease is the payout's claim.
      const payouts = startPayoutRelay({
        db,
        host,
        rails: rails!,
        workerId: `payouts-${workerId}`,
        ...DEFAULT_PAYOUT_RELAY_SETTINGS,
        ...payoutLease(config),
        log: log.child({ role: 'payouts' }),
      });
      started({ close: () => requests.stop() });
      started({ close: () => payouts.stop() });
    }
    if (roles.has('poll-outgoing')) {
      const poller = startWorker('poll-outgoing', {
        db,
        host,
        rails: rails!,
        intervalMs: seconds(config.workers.pollOutgoingIntervalSeconds),
        log: log.child({ role: 'poll-outgoing' }),
      });
      started({ close: () => poller.stop() });
    }
    if (roles.has('expire')) {
      const expiry = startWorker('expire', {
        db,
        host,
        intervalMs: config.workers.expireIntervalSeconds * 1000,
        log: log.child({ role: 'expire' }),
      });
      started({ close: () => expiry.stop() });
    }

    let app: FastifyInstance | null = null;
    let url: string | null = null;
    if (roles.has('http')) {
      const integration = await loadIntegration(config.integration);
      const http = await buildApp({
        config,
        db,
        host,
        horizon: createHorizonAccounts(config.horizonUrl),
        ...(integration.sep31 && { integration: integration.sep31 }),
        ...(integration.customers && { customerIntegration: integration.customers }),
        logger: log.child({ role: 'http' }),
      });
      app = http;
      url = await http.listen({ port: config.port, host: config.host });
      started({ close: () => http.close() });
      if (config.operatorToken !== null) log.info(`machine viewer (operator token) at ${url}${VIEWER_BASE}`);
    }
    log.info({ roles: [...roles], url }, 'mooring started');
    return { database, bus, host, app, url, close: () => closeAll(opened) };
  } catch (error) {
    await closeAll(opened);
    throw error;
  }
}

/**
 * One pass of a worker, then close (`mooring execute-outgoing` without `--loop`). For execute-outgoing the
 * pass requests payouts and then carries out every payout that is due.
 */
export async function runSinglePass(config: Config, kind: 'execute-outgoing' | 'poll-outgoing', log: Logger) {
  const database = await openDatabase(
    config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir },
  );
  try {
    await migrateToLatest(database.db);
    const db = database.db;
    const host = createTransactionHost({ db });
    const rails = createRailsIntegration(config.rails, { db });
    if (kind === 'poll-outgoing') return await runPollOutgoingPass({ db, host, rails, log });
    const requested = await runExecuteOutgoingPass({
      db,
      host,
      customerTypes: payoutCustomerTypes(config),
      log,
    });
    const relay = startPayoutRelay({
      db,
      host,
      rails,
      workerId: `payouts-${hostname()}-${process.pid}`,
      ...DEFAULT_PAYOUT_RELAY_SETTINGS,
      ...payoutLease(config),
      autoStart: false,
      log,
    });
    const executed = await relay.runOnce();
    await relay.stop();
    return { ...requested, executed };
  } finally {
    await database.close();
  }
}

/** The payout claim's lease from config; a rails call must time out well inside it. */
function payoutLease(config: Config) {
  const leaseMs = config.workers.payoutLeaseSeconds * 1000;
  return { leaseMs, handlerTimeoutMs: Math.min(DEFAULT_PAYOUT_RELAY_SETTINGS.handlerTimeoutMs, leaseMs / 2) };
}

/** Closes in reverse order of opening: stop taking work before dropping the bus and the database. */
async function closeAll(opened: Closable[]): Promise<void> {
  for (const part of opened) {
    try {
      await part.close();
    } catch {
      // Best effort: one part failing to close must not keep the others open.
    }
  }
}
