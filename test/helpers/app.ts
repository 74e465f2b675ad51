import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keypair } from '@stellar/stellar-sdk';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { startActorHost, type ActorHost } from '../../src/actors/actor-host.ts';
import { createTransactionCommands } from '../../src/actors/commands.ts';
import { createCustomerActors } from '../../src/actors/customer-actors.ts';
import { createCustomerCommands } from '../../src/actors/customer-commands.ts';
import { createQuoteCommands } from '../../src/actors/quote-commands.ts';
import { createTransactionHost, type TransactionHost } from '../../src/actors/transaction-host.ts';
import { createInProcessBus, silentLogger, type EventBus } from '../../src/bus/index.ts';
import { loadConfig, type Config, type ConfigFile } from '../../src/config/index.ts';
import type { Database } from '../../src/db/index.ts';
import { actorMessageHandler, startOutboxRelay, type OutboxRelay } from '../../src/effects/index.ts';
import { buildApp, type AppDeps } from '../../src/http/app.ts';
import { signSep10Token } from '../../src/http/auth.ts';
import type { HorizonAccounts } from '../../src/stellar/horizon-accounts.ts';
import type { CustomerIntegration } from '../../src/integrations/customer-integration.ts';
import { payoutCustomerTypes } from '../../src/workers/index.ts';
import { testDatabases, type TestDatabase } from './database.ts';
import { httpPorts } from '../../src/read-model/index.ts';

/** Keys of the test world. Sending anchor "acme" is contracted; "stranger" is not. */
export const KEYS = {
  server: Keypair.random(),
  issuer: Keypair.random(),
  distribution: Keypair.random(),
  acme: Keypair.random(),
  rival: Keypair.random(),
  stranger: Keypair.random(),
};

export function testConfigFile(overrides: Partial<ConfigFile> = {}): ConfigFile {
  return {
    homeDomain: 'localhost:8000',
    network: 'testnet',
    signingSecret: KEYS.server.secret(),
    jwtSecret: 'test-jwt-secret-that-is-long-enough-0123456789',
    assets: [
      {
        code: 'USDC',
        issuer: KEYS.issuer.publicKey(),
        distributionAccount: KEYS.distribution.publicKey(),
        significantDecimals: 2,
        sep31: {
          enabled: true,
          minAmount: '1',
          maxAmount: '100000',
          feeFixed: '0.5',
          feePercent: '1',
          fundingMethods: ['SEPA', 'SWIFT'],
          quotesSupported: false,
          quotesRequired: false,
        },
      },
    ],
    sep12: {
      types: {
        'sep31-sender': { description: 'the sender', fields: ['first_name', 'last_name'] },
        'sep31-receiver': {
          description: 'the receiver',
          fields: ['first_name', 'last_name', 'bank_account_number', 'bank_number'],
        },
      },
    },
    sendingAnchors: [
      { name: 'acme', signingKeys: [KEYS.acme.publicKey()] },
      { name: 'rival', signingKeys: [KEYS.rival.publicKey()] },
    ],
    // On, but out of reach: the suite bursts from one address and one account on purpose. The limits
    // themselves are tested in test/integration/http/rate-limits.test.ts.
    rateLimit: { signIn: { max: 1_000_000 }, sep10: { max: 1_000_000 }, writes: { max: 1_000_000 } },
    ...overrides,
  } as ConfigFile;
}

/** A fully resolved Config from a config file object, in a throwaway folder. */
export async function testConfig(
  file: ConfigFile = testConfigFile(),
  env: Record<string, string> = {},
): Promise<{ config: Config; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'mooring-test-'));
  await writeFile(join(dir, 'mooring.json'), JSON.stringify(file));
  const config = await loadConfig({
    env: { MOORING_CONFIG: join(dir, 'mooring.json'), MOORING_DATA_DIR: join(dir, 'data'), ...env },
    cwd: dir,
  });
  return { config, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A SEP-10 token as our /auth would issue it, for tests of the other SEPs. */
export function tokenFor(config: Config, sub: string, options: { clientDomain?: string; now?: Date } = {}) {
  return signSep10Token(config, {
    sub,
    jti: `test-${Math.random().toString(36).slice(2)}`,
    clientDomain: options.clientDomain ?? null,
    issuedAt: options.now ?? new Date(),
    ttlSeconds: 3600,
  });
}

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  db: Kysely<Database>;
  /** Applies events directly (fixtures); the app's own commands go over `bus` to `actors`. */
  host: TransactionHost;
  bus: EventBus;
  actors: ActorHost;
  /** Publishes the messages actors send each other (`actor_message` effects). */
  messages: OutboxRelay;
  close(): Promise<void>;
}

/** A log that keeps nothing (the actor host's chatter in tests). */
export const quietLog = { warn: () => {}, error: () => {}, info: () => {}, debug: () => {} };

/** The real app on a fresh PGlite database, its own in-process bus and actor host, driven with `app.inject`. */
export async function buildTestApp(
  options: {
    file?: ConfigFile;
    env?: Record<string, string>;
    horizon?: HorizonAccounts;
    /** Default PGlite. */
    database?: TestDatabase;
    /** SEP-12 decisions of the customer actors; default the reference integration. */
    customerIntegration?: CustomerIntegration;
  } & Partial<Pick<AppDeps, 'clock' | 'integration'>> = {},
): Promise<TestApp> {
  const { config, cleanup } = await testConfig(options.file, options.env);
  const database = await (options.database ?? testDatabases()[0]!).open();
  // Knows the SEP-12 types, so a CUSTOMER_INFO_NEEDED applied here tells the customers like the actors do.
  const host = createTransactionHost({ db: database.db, sep12: config.sep12 });
  const bus = createInProcessBus({ logger: silentLogger });
  const actors = startActorHost({
    db: database.db,
    bus,
    transactions: { payoutCustomerTypes: payoutCustomerTypes(config), sep12: config.sep12 },
    customers: createCustomerActors({
      sep12: config.sep12,
      ...(options.customerIntegration && { integration: options.customerIntegration }),
      ...(options.clock && { clock: options.clock }),
    }),
    log: quietLog,
    ...(options.clock && { clock: options.clock }),
  });
  const messages = startOutboxRelay({
    db: database.db,
    handlers: { actor_message: actorMessageHandler(bus) },
    workerId: 'test-messages',
    intervalMs: 50,
    batchSize: 100,
    leaseMs: 10_000,
    maxAttempts: 100,
    backoff: { initialMs: 50, factor: 2, maxMs: 1_000 },
    wake: bus.signals('outbox.actor_message'),
    log: quietLog,
  });
  const noHorizon: HorizonAccounts = {
    loadAccount: () => Promise.reject(new Error('no Horizon in this test')),
  };
  const app = await buildApp({
    config,
    ...httpPorts(database.db, config, { ...(options.clock && { clock: options.clock }) }),
    commands: createTransactionCommands(bus, { ...(options.clock && { clock: options.clock }) }),
    customerCommands: createCustomerCommands(bus),
    quoteCommands: createQuoteCommands(bus),
    horizon: options.horizon ?? noHorizon,
    ...(options.clock && { clock: options.clock }),
    ...(options.integration && { integration: options.integration }),
  });
  return {
    app,
    config,
    db: database.db,
    host,
    bus,
    actors,
    messages,
    async close() {
      await app.close();
      // Before the actors: a publish in flight waits for them to apply it.
      await messages.stop();
      await actors.stop();
      await bus.close();
      await database.close();
      await cleanup();
    },
  };
}

/**
 * Polls `check` until it holds: what actors tell each other (through the outbox and the bus) lands a
 * moment after the command that caused it answered.
 */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
