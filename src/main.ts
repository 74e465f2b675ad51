import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { merge } from 'rxjs';
import { startActorHost, type ActorHost } from './actors/actor-host.ts';
import { createTransactionCommands } from './actors/commands.ts';
import { createCustomerActors } from './actors/customer-actors.ts';
import { createCustomerCommands } from './actors/customer-commands.ts';
import { createQuoteActors } from './actors/quote-actors.ts';
import { createQuoteCommands } from './actors/quote-commands.ts';
import { createBus, openBusinessEventStream, type EventBus } from './bus/index.ts';
import type { Config } from './config/index.ts';
import { migrateToLatest, openDatabase, type DatabaseHandle, type OpenDatabaseOptions } from './db/index.ts';
import {
  actorMessageHandler,
  businessEventKinds,
  callbackHandlers,
  DEFAULT_MESSAGE_RELAY_SETTINGS,
  DEFAULT_NATS_EVENT_RELAY_SETTINGS,
  DEFAULT_RELAY_SETTINGS,
  natsEventHandler,
  startOutboxRelay,
  webhookEventHandler,
} from './effects/index.ts';
import { buildApp } from './http/app.ts';
import { startMetricsServer } from './http/metrics.routes.ts';
import { selectIntegrations } from './integrations/index.ts';
import { createRailsIntegration } from './integrations/rails-integration.ts';
import { createHorizonAccounts } from './stellar/horizon-accounts-sdk.ts';
import {
  addDatabaseGauges,
  addRetentionGapGauge,
  createMetrics,
  instrumentRails,
  recordCommit,
  watcherMetrics,
} from './metrics/index.ts';
import { configuredPaymentSource, startPaymentWatcher, watcherReadiness } from './watcher/index.ts';
import { VIEWER_BASE } from './viewer/api.ts';
import { httpPorts } from './read-model/index.ts';
import { startRefundRelay } from './refunds/index.ts';
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
 * - `actors`: owns bus partitions and applies what arrives to the actors (NATS: shared by instances;
 *   with the in-process bus every process hosts its own, so `actors` is added to any other role).
 * - `relay`: delivers signed callbacks and business events (NATS, webhook) from the outbox.
 * - `watcher`: follows Horizon for payments to the receiving accounts (one active per account, by lease).
 * - `execute-outgoing`: requests payouts for funded transactions and carries them out at the rails.
 * - `poll-outgoing`: asks the rails about pending payouts.
 * - `expire`: expires unpaid transactions past their deadline, and asks again for customer reviews still owed
 *   (the business server was away, or left fields PROCESSING).
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
  /** The actor host, when this process runs the `actors` role. */
  actors: ActorHost | null;
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
  if (config.natsUrl === null && !roles.has('actors')) {
    // Nothing leaves an in-process bus: the process that publishes must apply.
    roles.add('actors');
    log.info('in-process bus: this process hosts the actors too');
  }
  const database = await openDatabase(databaseOptions(config, log));
  const opened: Closable[] = [database];
  try {
    await migrateToLatest(database.db);
    log.info({ database: database.kind }, 'database migrated');
    const bus = await openBus(config, log);
    opened.unshift(bus);
    log.info({ bus: bus.kind, stream: bus.stream, partitions: bus.partitions }, 'bus connected');
    const db = database.db;
    const workerId = `${hostname()}-${process.pid}`;
    const seconds = (configured: number) => (options.intervalSeconds ?? configured) * 1000;
    const started = (part: Closable) => opened.unshift(part);
    const metrics = config.metrics.enabled ? createMetrics() : null;
    if (metrics) addDatabaseGauges(metrics, db);
    const watchedAccounts = [...new Set(config.assets.map((asset) => asset.distributionAccount))];

    // The SEP-31 and rates integrations serve HTTP; the SEP-12 one judges customers inside their actors.
    const integration = roles.has('http') || roles.has('actors') ? await selectIntegrations(config) : null;

    let actors: ActorHost | null = null;
    if (roles.has('actors')) {
      // Business events are written with each change, one outbox row per destination turned on.
      const eventKinds = businessEventKinds(config);
      actors = startActorHost({
        db,
        bus,
        transactions: { payoutCustomerTypes: payoutCustomerTypes(config), sep12: config.sep12, eventKinds },
        customers: createCustomerActors({
          sep12: config.sep12,
          eventKinds,
          ...(integration?.customers && { integration: integration.customers }),
          log: log.child({ role: 'customers' }),
        }),
        quotes: createQuoteActors({ eventKinds }),
        leaseMs: config.actors.leaseSeconds * 1000,
        // PostgreSQL runs two group commits at once on two cores; PGlite has one connection.
        commitLanes: database.kind === 'postgres' ? 2 : 1,
        log: log.child({ role: 'actors' }),
        ...(metrics && { onCommit: (batch) => recordCommit(metrics, batch) }),
      });
      const host = actors;
      started({ close: () => host.stop() });
      // Messages actors send each other leave through the outbox: published once their cause is committed.
      const messages = startOutboxRelay({
        db,
        handlers: { actor_message: actorMessageHandler(bus) },
        workerId: `messages-${workerId}`,
        ...DEFAULT_MESSAGE_RELAY_SETTINGS,
        wake: bus.signals('outbox.actor_message'),
        log: log.child({ role: 'messages' }),
      });
      started({ close: () => messages.stop() });
    }
    if (roles.has('relay')) {
      const relay = startOutboxRelay({
        db,
        handlers: callbackHandlers({ db, config }),
        workerId: `relay-${workerId}`,
        ...DEFAULT_RELAY_SETTINGS,
        wake: merge(bus.signals('outbox.status_changed'), bus.signals('outbox.customer_status_changed')),
        log: log.child({ role: 'relay' }),
      });
      started({ close: () => relay.stop() });
      // Business events: a relay per destination, so a failing webhook never holds back NATS.
      if (config.events.nats && config.natsUrl !== null) {
        const stream = await openBusinessEventStream({ url: config.natsUrl, prefix: config.nats.prefix });
        started(stream);
        const events = startOutboxRelay({
          db,
          handlers: { event_nats: natsEventHandler(stream) },
          workerId: `events-nats-${workerId}`,
          ...DEFAULT_NATS_EVENT_RELAY_SETTINGS,
          wake: bus.signals('outbox.event_nats'),
          log: log.child({ role: 'events-nats' }),
        });
        started({ close: () => events.stop() });
      }
      if (config.events.webhookUrl !== null) {
        const webhook = startOutboxRelay({
          db,
          handlers: { event_webhook: webhookEventHandler({ url: config.events.webhookUrl, config }) },
          workerId: `events-webhook-${workerId}`,
          ...DEFAULT_RELAY_SETTINGS,
          wake: bus.signals('outbox.event_webhook'),
          log: log.child({ role: 'events-webhook' }),
        });
        started({ close: () => webhook.stop() });
      }
    }
    let paymentsReady: (() => Promise<void>) | null = null;
    if (roles.has('watcher')) {
      const watcherLog = log.child({ role: 'watcher' });
      const payments = configuredPaymentSource(config, watcherLog);
      paymentsReady = payments.ready;
      if (metrics) addRetentionGapGauge(metrics, payments.retentionGaps);
      const watcher = startPaymentWatcher({
        db,
        bus,
        source: payments.source,
        sourceName: payments.sourceName,
        ...(payments.cursors && { cursors: payments.cursors }),
        accounts: watchedAccounts,
        log: watcherLog,
        ...(metrics && watcherMetrics(metrics)),
        silenceMs: config.watcher.silenceTimeoutSeconds * 1000,
        startFrom: config.watcher.startFrom,
        backoff: { initialMs: 1_000, maxMs: 60_000 },
      });
      started({ close: () => watcher.stop() });
    }
    const railsIntegration =
      roles.has('execute-outgoing') || roles.has('poll-outgoing')
        ? createRailsIntegration(config.rails, { db })
        : null;
    const rails = railsIntegration && metrics ? instrumentRails(railsIntegration, metrics) : railsIntegration;
    if (roles.has('execute-outgoing')) {
      const requests = startWorker('execute-outgoing', {
        db,
        bus,
        customerTypes: payoutCustomerTypes(config),
        intervalMs: seconds(config.workers.executeOutgoingIntervalSeconds),
        log: log.child({ role: 'execute-outgoing' }),
      });
      // The payout relay carries out the execute_payout effects; its lease is the payout's claim. The
      // actor that records one signals it, so the rails are called at once; the interval is the safety net.
      const payouts = startPayoutRelay({
        db,
        bus,
        rails: rails!,
        workerId: `payouts-${workerId}`,
        ...DEFAULT_PAYOUT_RELAY_SETTINGS,
        ...payoutLease(config),
        wake: bus.signals('outbox.execute_payout'),
        log: log.child({ role: 'payouts' }),
      });
      // Refunds move money too: the same role sends them (config.refunds), one envelope per refund.
      const refunds = startRefundRelay({
        db,
        bus,
        config,
        workerId: `refunds-${workerId}`,
        log: log.child({ role: 'refunds' }),
      });
      started({ close: () => requests.stop() });
      started({ close: () => payouts.stop() });
      started({ close: () => refunds.stop() });
    }
    if (roles.has('poll-outgoing')) {
      const poller = startWorker('poll-outgoing', {
        db,
        bus,
        rails: rails!,
        intervalMs: seconds(config.workers.pollOutgoingIntervalSeconds),
        log: log.child({ role: 'poll-outgoing' }),
      });
      started({ close: () => poller.stop() });
    }
    if (roles.has('expire')) {
      const expiry = startWorker('expire', {
        db,
        bus,
        intervalMs: config.workers.expireIntervalSeconds * 1000,
        log: log.child({ role: 'expire' }),
      });
      started({ close: () => expiry.stop() });
      const reviews = startWorker('review-customers', {
        db,
        bus,
        intervalMs: config.workers.expireIntervalSeconds * 1000,
        log: log.child({ role: 'review-customers' }),
      });
      started({ close: () => reviews.stop() });
    }

    let app: FastifyInstance | null = null;
    let url: string | null = null;
    if (roles.has('http')) {
      const timeoutMs = config.actors.commandTimeoutSeconds * 1000;
      const http = await buildApp({
        config,
        ...httpPorts(db, config),
        commands: createTransactionCommands(bus, { timeoutMs }),
        customerCommands: createCustomerCommands(bus, { timeoutMs }),
        quoteCommands: createQuoteCommands(bus, { timeoutMs }),
        horizon: createHorizonAccounts(config.horizonUrl),
        readiness: {
          bus: () => bus.ready(),
          ...(paymentsReady && { payments: paymentsReady }),
          watcher: watcherReadiness({
            db,
            accounts: watchedAccounts,
            unreachableMs: config.watcher.unreachableReadySeconds * 1000,
          }),
        },
        ...(metrics && { metrics: { metrics, operatorToken: config.operatorToken } }),
        ...(integration?.sep31 && { integration: integration.sep31 }),
        ...(integration?.rates && { rates: integration.rates }),
        logger: log.child({ role: 'http' }),
      });
      app = http;
      url = await http.listen({ port: config.port, host: config.host });
      started({ close: () => http.close() });
      if (config.operatorToken !== null) log.info(`machine viewer (operator token) at ${url}${VIEWER_BASE}`);
    }
    if (metrics && config.metrics.port !== null) {
      const server = await startMetricsServer({
        metrics,
        port: config.metrics.port,
        host: config.metrics.host,
      });
      started(server);
      log.info({ url: `${server.url}/metrics` }, 'metrics listening');
    }
    log.info({ roles: [...roles], url }, 'mooring started');
    return { database, bus, actors, app, url, close: () => closeAll(opened) };
  } catch (error) {
    await closeAll(opened);
    throw error;
  }
}

function databaseOptions(config: Config, log: Logger): OpenDatabaseOptions {
  return config.databaseUrl
    ? {
        url: config.databaseUrl,
        connectTimeoutMs: config.database.connectTimeoutSeconds * 1000,
        log: log.child({ part: 'database' }),
      }
    : { dataDir: config.dataDir };
}

function openBus(config: Config, log: Logger): Promise<EventBus> {
  return createBus({
    natsUrl: config.natsUrl,
    prefix: config.nats.prefix,
    partitions: config.actors.partitions,
    requestTimeoutMs: config.actors.commandTimeoutSeconds * 1000,
    logger: log.child({ part: 'bus' }),
  });
}

/**
 * One pass of a worker, then close (`mooring execute-outgoing` without `--loop`). For execute-outgoing the
 * pass requests payouts and then carries out every payout that is due.
 */
export async function runSinglePass(config: Config, kind: 'execute-outgoing' | 'poll-outgoing', log: Logger) {
  const database = await openDatabase(databaseOptions(config, log));
  const opened: Closable[] = [database];
  try {
    await migrateToLatest(database.db);
    const db = database.db;
    const bus = await openBus(config, log);
    opened.unshift(bus);
    if (!bus.durable) {
      // The in-process bus needs the actors in this process to take what the pass publishes.
      const integration = await selectIntegrations(config);
      const actors = startActorHost({
        db,
        bus,
        transactions: { payoutCustomerTypes: payoutCustomerTypes(config), sep12: config.sep12 },
        customers: createCustomerActors({
          sep12: config.sep12,
          ...(integration.customers && { integration: integration.customers }),
        }),
        log,
      });
      opened.unshift({ close: () => actors.stop() });
    }
    const rails = createRailsIntegration(config.rails, { db });
    if (kind === 'poll-outgoing') return await runPollOutgoingPass({ db, bus, rails, log });
    // With NATS the actors of other processes request the payouts: those committed by now are carried out
    // here, the rest by the next pass (or by a running payout relay).
    const requested = await runExecuteOutgoingPass({
      db,
      bus,
      customerTypes: payoutCustomerTypes(config),
      log,
    });
    const relay = startPayoutRelay({
      db,
      bus,
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
    await closeAll(opened);
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
