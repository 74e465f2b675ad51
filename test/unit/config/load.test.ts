import { Keypair, Networks } from '@stellar/stellar-sdk';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';
import { fullConfig, JWT_SECRET, publicKey, secretSeed, tempDir, writeJson } from './helpers.ts';

describe('loadConfig defaults', () => {
  it('serves a testnet sandbox with no file and no environment', async () => {
    const cwd = await tempDir();
    const config = await loadConfig({ env: {}, cwd });
    expect(config).toMatchObject({
      port: 8000,
      host: '127.0.0.1',
      databaseUrl: null,
      natsUrl: null,
      dataDir: join(cwd, '.mooring'),
      homeDomain: 'localhost:8000',
      network: 'testnet',
      networkPassphrase: Networks.TESTNET,
      horizonUrl: 'https://horizon-testnet.stellar.org',
      sendingAnchors: [],
      allowAnySendingAnchor: true,
      rails: { kind: 'reference', payoutDelaySeconds: 0, failureRate: 0 },
      workers: {
        executeOutgoingIntervalSeconds: 10,
        pollOutgoingIntervalSeconds: 60,
        expireIntervalSeconds: 30,
      },
      documentation: {},
      paymentDeadlineSeconds: 86400,
      operatorToken: null,
      sandbox: true,
      logLevel: 'info',
      configFile: null,
    });
    expect(Object.keys(config.sep12.types)).toEqual(['sep31-sender', 'sep31-receiver']);
    expect(config.sep12.types['sep31-receiver']?.fields).toEqual([
      'first_name',
      'last_name',
      'bank_account_number',
      'bank_number',
    ]);
    expect(config.signingKey).toBe(Keypair.fromSecret(config.signingSecret).publicKey());
  });

  it('reads http rails (base URL without trailing slash, default timeout) and the expiry interval', async () => {
    const cwd = await tempDir();
    const path = await writeJson(cwd, 'config.json', {
      rails: { kind: 'http', baseUrl: 'https://bank.example/api/', authToken: 'token-123' },
      workers: { expireIntervalSeconds: 5 },
      watcher: { silenceTimeoutSeconds: 15, startFrom: 'beginning' },
    });
    const config = await loadConfig({ env: { MOORING_CONFIG: path }, cwd });
    expect(config.rails).toEqual({
      kind: 'http',
      baseUrl: 'https://bank.example/api',
      timeoutSeconds: 20,
      authToken: 'token-123',
    });
    expect(config.workers.expireIntervalSeconds).toBe(5);
    expect(config.watcher).toEqual({
      silenceTimeoutSeconds: 15,
      startFrom: 'beginning',
      unreachableReadySeconds: 120,
    });
  });

  it('caps SEP-12 uploads: 5 MiB a file, 20 MiB a request, 30 MiB a customer, each settable alone', async () => {
    const defaults = await loadConfig({ env: {}, cwd: await tempDir() });
    expect(defaults.sep12.uploads).toEqual({
      maxFileBytes: 5 * 1024 * 1024,
      maxRequestBytes: 20 * 1024 * 1024,
      maxCustomerBytes: 30 * 1024 * 1024,
    });
    const cwd = await tempDir();
    const path = await writeJson(cwd, 'config.json', { sep12: { uploads: { maxCustomerBytes: 1000 } } });
    const config = await loadConfig({ env: { MOORING_CONFIG: path }, cwd });
    expect(config.sep12.uploads).toEqual({ ...defaults.sep12.uploads, maxCustomerBytes: 1000 });
    expect(Object.keys(config.sep12.types)).toEqual(['sep31-sender', 'sep31-receiver']);
  });

  it('derives the home domain from the port', async () => {
    const config = await loadConfig({ env: { PORT: '9123' }, cwd: await tempDir() });
    expect(config.homeDomain).toBe('localhost:9123');
  });

  it('is not a sandbox when the file sets every key, and admits only the configured anchors', async () => {
    const cwd = await tempDir();
    const file = fullConfig();
    const path = await writeJson(cwd, 'config.json', file);
    const config = await loadConfig({ env: { MOORING_CONFIG: path }, cwd });
    expect(config.sandbox).toBe(false);
    expect(config.allowAnySendingAnchor).toBe(false);
    expect(config.configFile).toBe(path);
    expect(config.sendingAnchors).toEqual(file.sendingAnchors);
    expect(config.warnings).toEqual([]);
    expect(config.assets[0]?.sep31).toEqual({
      enabled: true,
      minAmount: '1',
      maxAmount: '100000',
      feeFixed: '0.5',
      feePercent: '1',
      fundingMethods: ['SEPA', 'SWIFT'],
      quotesSupported: false,
      quotesRequired: false,
    });
  });
});

describe('loadConfig sources', () => {
  it('lets the environment override the file', async () => {
    const cwd = await tempDir();
    const fileSecret = secretSeed();
    const envSecret = secretSeed();
    const path = await writeJson(cwd, 'config.json', {
      ...fullConfig(),
      port: 7000,
      host: '0.0.0.0',
      homeDomain: 'file.example.com',
      signingSecret: fileSecret,
      logLevel: 'warn',
      workers: { executeOutgoingIntervalSeconds: 3, pollOutgoingIntervalSeconds: 4 },
    });
    const config = await loadConfig({
      cwd,
      env: {
        MOORING_CONFIG: path,
        PORT: '7001',
        HOME_DOMAIN: 'env.example.com:7001',
        SIGNING_SECRET: envSecret,
        DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/mooring',
        NATS_URL: 'nats://127.0.0.1:4222',
        MOORING_DATA_DIR: 'data',
        EXECUTE_OUTGOING_INTERVAL: '0.5',
        OPERATOR_TOKEN: 'operator-token',
        LOG_LEVEL: 'debug',
        HOST: '',
      },
    });
    expect(config).toMatchObject({
      port: 7001,
      host: '0.0.0.0',
      homeDomain: 'env.example.com:7001',
      signingSecret: envSecret,
      signingKey: Keypair.fromSecret(envSecret).publicKey(),
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/mooring',
      natsUrl: 'nats://127.0.0.1:4222',
      dataDir: join(cwd, 'data'),
      workers: { executeOutgoingIntervalSeconds: 0.5, pollOutgoingIntervalSeconds: 4 },
      operatorToken: 'operator-token',
      logLevel: 'debug',
    });
  });

  it('warns at start-up about an operator token short enough to guess', async () => {
    const cwd = await tempDir();
    const short = await loadConfig({ cwd, env: { OPERATOR_TOKEN: 'operator-token' } });
    expect(short.operatorToken).toBe('operator-token');
    expect(short.warnings).toEqual(
      expect.arrayContaining([expect.stringMatching(/^OPERATOR_TOKEN is shorter/)]),
    );
    const long = await loadConfig({ cwd, env: { OPERATOR_TOKEN: 'o'.repeat(24) } });
    expect(long.warnings.filter((w) => w.includes('OPERATOR_TOKEN'))).toEqual([]);
  });

  it('lets command-line overrides win over the environment', async () => {
    const cwd = await tempDir();
    const config = await loadConfig({ cwd, env: { PORT: '7001', HOST: '::1' }, overrides: { port: '7002' } });
    expect(config.port).toBe(7002);
    expect(config.host).toBe('::1');
  });

  it('reads a .ts module whose default export uses defineConfig', async () => {
    const cwd = await tempDir();
    const index = new URL('../../../src/config/index.ts', import.meta.url).href;
    const issuer = publicKey();
    const path = join(cwd, 'mooring.config.ts');
    await writeFile(
      path,
      [
        `import { defineConfig, type ConfigFile } from ${JSON.stringify(index)};`,
        `const documentation: ConfigFile['documentation'] = { ORG_NAME: 'Acme' };`,
        'export default defineConfig({',
        `  homeDomain: 'anchor.example.com',`,
        `  documentation,`,
        `  assets: [{ code: 'EURC', issuer: '${issuer}', distributionAccount: '${publicKey()}' }],`,
        '});',
      ].join('\n'),
    );
    // Found in the working directory without MOORING_CONFIG.
    const config = await loadConfig({ env: { JWT_SECRET, SIGNING_SECRET: secretSeed() }, cwd });
    expect(config.configFile).toBe(path);
    expect(config.homeDomain).toBe('anchor.example.com');
    expect(config.documentation).toEqual({ ORG_NAME: 'Acme' });
    expect(config.assets).toHaveLength(1);
    expect(config.assets[0]).toMatchObject({ code: 'EURC', issuer, significantDecimals: 7 });
  });

  it('resolves pubnet and a custom network', async () => {
    const file = fullConfig();
    const cwd = await tempDir();
    const path = await writeJson(cwd, 'config.json', file);
    const pubnet = await loadConfig({ cwd, env: { MOORING_CONFIG: path, STELLAR_NETWORK: 'pubnet' } });
    expect(pubnet).toMatchObject({
      network: 'pubnet',
      networkPassphrase: Networks.PUBLIC,
      horizonUrl: 'https://horizon.stellar.org',
    });
    const custom = await loadConfig({
      cwd,
      env: {
        MOORING_CONFIG: path,
        NETWORK_PASSPHRASE: 'Standalone Network ; February 2017',
        HORIZON_URL: 'http://localhost:8001/',
      },
    });
    expect(custom).toMatchObject({
      network: 'custom',
      networkPassphrase: 'Standalone Network ; February 2017',
      horizonUrl: 'http://localhost:8001',
    });
  });
});

describe('loadConfig values', () => {
  it('converts JSON numbers and padded strings to canonical decimal strings', async () => {
    const cwd = await tempDir();
    const file = fullConfig();
    const [asset] = file.assets ?? [];
    const path = await writeJson(cwd, 'config.json', {
      ...file,
      assets: [
        { ...asset, sep31: { minAmount: 0.0000001, maxAmount: 100000, feeFixed: '0.50', feePercent: 1.5 } },
      ],
    });
    const config = await loadConfig({ cwd, env: { MOORING_CONFIG: path } });
    expect(config.assets[0]?.sep31).toMatchObject({
      minAmount: '0.0000001',
      maxAmount: '100000',
      feeFixed: '0.5',
      feePercent: '1.5',
    });
  });

  it('returns a deeply frozen object', async () => {
    const config = await loadConfig({ env: {}, cwd: await tempDir() });
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (config.assets as unknown[]).push({});
    }).toThrow(TypeError);
    expect(() => {
      (config.assets[0]?.sep31 as { minAmount: string }).minAmount = '0';
    }).toThrow(TypeError);
    expect(() => {
      (config.sep12.types['sep31-sender']?.fields as string[]).push('email_address');
    }).toThrow(TypeError);
  });
});
