import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keypair } from '@stellar/stellar-sdk';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { createTransactionHost, type TransactionHost } from '../../src/actors/transaction-host.ts';
import { loadConfig, type Config, type ConfigFile } from '../../src/config/index.ts';
import type { Database } from '../../src/db/index.ts';
import { buildApp, type AppDeps } from '../../src/http/app.ts';
import { signSep10Token } from '../../src/http/auth.ts';
import type { HorizonAccounts } from '../../src/stellar/horizon-accounts.ts';
import { testDatabases } from './database.ts';

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
  host: TransactionHost;
  close(): Promise<void>;
}

/** The real app on a fresh PGlite database, driven with `app.inject`. */
export async function buildTestApp(
  options: { file?: ConfigFile; env?: Record<string, string>; horizon?: HorizonAccounts } & Partial<
    Pick<AppDeps, 'clock' | 'integration' | 'customerIntegration'>
  > = {},
): Promise<TestApp> {
  const { config, cleanup } = await testConfig(options.file, options.env);
  const database = await testDatabases()[0]!.open();
  const host = createTransactionHost({ db: database.db });
  const noHorizon: HorizonAccounts = {
    loadAccount: () => Promise.reject(new Error('no Horizon in this test')),
  };
  const app = await buildApp({
    config,
    db: database.db,
    host,
    horizon: options.horizon ?? noHorizon,
    ...(options.clock && { clock: options.clock }),
    ...(options.integration && { integration: options.integration }),
    ...(options.customerIntegration && { customerIntegration: options.customerIntegration }),
  });
  return {
    app,
    config,
    db: database.db,
    host,
    async close() {
      await app.close();
      await database.close();
      await cleanup();
    },
  };
}
