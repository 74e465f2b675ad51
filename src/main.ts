import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { routeEventsToActors } from './actors/event-router.ts';
import { createTransactionHost, type TransactionHost } from './actors/transaction-host.ts';
import { createBus, type BusSubscription, type EventBus } from './bus/index.ts';
import type { Config } from './config/index.ts';
import { migrateToLatest, openDatabase, type DatabaseHandle } from './db/index.ts';
import { buildApp } from './http/app.ts';
import { callbackHandlers, DEFAULT_RELAY_SETTINGS, startOutboxRelay } from './effects/index.ts';
import { loadIntegration } from './integrations/index.ts';
import { createHorizonAccounts } from './stellar/horizon-accounts-sdk.ts';
import { hostname } from 'node:os';

/** `relay` delivers outbox effects (signed callbacks); any number may run, each claims its own rows. */
export const ROLES = ['http', 'actors', 'relay'] as const;
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

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'mooring' } });
}

/** Composition root: config → database → bus → actor host → HTTP. Nothing else imports this file. */
export async function startMooring(
  config: Config,
  options: { roles?: readonly Role[]; log?: Logger } = {},
): Promise<Mooring> {
  const roles = new Set(options.roles ?? ROLES);
  const log = options.log ?? createLogger(config.logLevel);
  const database = await openDatabase(
    config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir },
  );
  const opened: { close(): Promise<void> }[] = [database];
  try {
    await migrateToLatest(database.db);
    log.info({ database: database.kind }, 'database migrated');
    const bus = await createBus({ natsUrl: config.natsUrl ?? undefined, logger: log.child({ part: 'bus' }) });
    opened.unshift(bus);
    log.info({ bus: config.natsUrl ? 'nats' : 'in-process' }, 'bus connected');
    const host = createTransactionHost({ db: database.db });

    let subscription: BusSubscription | null = null;
    if (roles.has('actors')) {
      subscription = await routeEventsToActors(bus, host, log.child({ role: 'actors' }));
      opened.unshift({ close: () => subscription!.stop() });
    }

    if (roles.has('relay')) {
      const relay = startOutboxRelay({
        db: database.db,
        handlers: callbackHandlers({ db: database.db, config }),
        workerId: `relay-${hostname()}-${process.pid}`,
        ...DEFAULT_RELAY_SETTINGS,
        log: log.child({ role: 'relay' }),
      });
      opened.unshift({ close: () => relay.stop() });
    }

    let app: FastifyInstance | null = null;
    let url: string | null = null;
    if (roles.has('http')) {
      const integration = await loadIntegration(config.integration);
      app = await buildApp({
        config,
        db: database.db,
        host,
        ...(integration.sep31 && { integration: integration.sep31 }),
        ...(integration.customers && { customerIntegration: integration.customers }),
        horizon: createHorizonAccounts(config.horizonUrl),
        logger: log.child({ role: 'http' }),
      });
      url = await app.listen({ port: config.port, host: config.host });
      opened.unshift({ close: () => app!.close() });
    }
    log.info({ roles: [...roles], url }, 'mooring started');
    return { database, bus, host, app, url, close: () => closeAll(opened) };
  } catch (error) {
    await closeAll(opened);
    throw error;
  }
}

/** Closes in reverse order of opening: stop taking work before dropping the bus and the database. */
async function closeAll(opened: { close(): Promise<void> }[]): Promise<void> {
  for (const part of opened) {
    try {
      await part.close();
    } catch {
      // Best effort: one part failing to close must not keep the others open.
    }
  }
}
