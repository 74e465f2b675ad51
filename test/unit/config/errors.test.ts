import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type ConfigFile } from '../../../src/config/index.ts';
import { fullConfig, publicKey, secretSeed, tempDir, writeJson } from './helpers.ts';

/** Loads `file` (merged over a valid one) with `env`, and returns the error's message. */
async function failure(file: Record<string, unknown>, env: Record<string, string> = {}): Promise<string> {
  const cwd = await tempDir();
  const path = await writeJson(cwd, 'config.json', { ...fullConfig(), ...file });
  const error = await loadConfig({ env: { MOORING_CONFIG: path, ...env }, cwd }).then(
    () => new Error('loadConfig succeeded'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  const { message } = error as ConfigError;
  expect(message).not.toContain('\n');
  return message;
}

/** A valid asset with `sep31` (or other keys) replaced. */
function asset(changes: Record<string, unknown>): ConfigFile['assets'] {
  const [base] = fullConfig().assets ?? [];
  return [{ ...base, ...changes } as NonNullable<ConfigFile['assets']>[number]];
}

function sep31(changes: Record<string, unknown>): ConfigFile['assets'] {
  return asset({ sep31: changes });
}

describe('config file errors: one line naming the key', () => {
  it.each<[string, Record<string, unknown>, string]>([
    [
      'a non-decimal amount',
      { assets: sep31({ minAmount: 'abc' }) },
      'config: assets[0].sep31.minAmount: must be a decimal string with at most 7 decimal places (got "abc")',
    ],
    [
      'too many decimal places',
      { assets: sep31({ feeFixed: '0.12345678' }) },
      'config: assets[0].sep31.feeFixed: must be a decimal string with at most 7 decimal places (got "0.12345678")',
    ],
    [
      'a negative amount',
      { assets: sep31({ maxAmount: -1 }) },
      'config: assets[0].sep31.maxAmount: must be a decimal string with at most 7 decimal places (got -1)',
    ],
    [
      'an amount of the wrong type',
      { assets: sep31({ maxAmount: true }) },
      'config: assets[0].sep31.maxAmount: must be a decimal string with at most 7 decimal places (got true)',
    ],
    [
      'minAmount above maxAmount',
      { assets: sep31({ minAmount: '10', maxAmount: '9.9999999' }) },
      'config: assets[0].sep31.minAmount: must not exceed maxAmount (got 10 > 9.9999999)',
    ],
    [
      'feePercent above 100',
      { assets: sep31({ feePercent: '100.5' }) },
      'config: assets[0].sep31.feePercent: must be a percentage 0-100 (got "100.5")',
    ],
    [
      'empty fundingMethods',
      { assets: sep31({ fundingMethods: [] }) },
      'config: assets[0].sep31.fundingMethods: must be a non-empty list of strings, e.g. ["SEPA", "SWIFT"] (got [])',
    ],
    [
      'quotesRequired without quotesSupported',
      { assets: sep31({ quotesRequired: true }) },
      'config: assets[0].sep31.quotesRequired: can only be true when quotesSupported is true',
    ],
    [
      'significantDecimals out of range',
      { assets: asset({ significantDecimals: 8 }) },
      'config: assets[0].significantDecimals: must be an integer 0-7 (got 8)',
    ],
    [
      'a bad asset code',
      { assets: asset({ code: 'TOOLONGASSETCODE' }) },
      'config: assets[0].code: must be an asset code of 1-12 letters and digits (got "TOOLONGASSETCODE")',
    ],
    [
      'native XLM',
      { assets: [{ code: 'native' }] },
      'config: assets[0].code: native XLM is not supported as a receive asset yet',
    ],
    [
      'a missing issuer',
      { assets: [{ code: 'USDC', distributionAccount: publicKey() }] },
      'config: assets[0].issuer: is required',
    ],
    [
      'an invalid issuer',
      { assets: asset({ issuer: 'GABC' }) },
      'config: assets[0].issuer: must be a Stellar public key (G..., 56 characters) (got "GABC")',
    ],
    [
      'a secret seed where a public key belongs',
      { assets: asset({ distributionAccount: secretSeed() }) },
      'config: assets[0].distributionAccount: must be a Stellar public key (G...), not a secret seed (S...)',
    ],
    [
      'a bad sending anchor key',
      { sendingAnchors: [{ name: 'acme', signingKeys: ['nope'] }] },
      'config: sendingAnchors[0].signingKeys[0]: must be a Stellar public key',
    ],
    [
      'a bad signing secret, without echoing it',
      { signingSecret: 'SECRETSECRET' },
      'config: signingSecret: must be a Stellar secret seed (S..., 56 characters) (got a 12-character string)',
    ],
    [
      'a short JWT secret',
      { jwtSecret: 'short' },
      'config: jwtSecret: must be a string of at least 32 characters',
    ],
    [
      'a bad network',
      { network: 'mainnet' },
      'config: network: must be "testnet" or "pubnet" (got "mainnet")',
    ],
    ['a bad port', { port: 70000 }, 'config: port: must be an integer 1-65535 (got 70000)'],
    [
      'a home domain with a scheme',
      { homeDomain: 'https://anchor.example.com' },
      'config: homeDomain: must be a domain with optional port and no scheme',
    ],
    [
      'a bad worker interval',
      { workers: { pollOutgoingIntervalSeconds: 0 } },
      'config: workers.pollOutgoingIntervalSeconds: must be a positive number of seconds (got 0)',
    ],
    [
      'a bad rails kind',
      { rails: { kind: 'swift' } },
      'config: rails.kind: must be "reference" or "http" (got "swift")',
    ],
    [
      'http rails without a base URL',
      { rails: { kind: 'http' } },
      'config: rails.baseUrl: is required when rails.kind is "http"',
    ],
    [
      'http rails with a base URL that is not http(s)',
      { rails: { kind: 'http', baseUrl: 'ftp://bank.example' } },
      'config: rails.baseUrl: must be an http(s) URL',
    ],
    [
      'a failure rate above 1',
      { rails: { kind: 'reference', failureRate: 2 } },
      'config: rails.failureRate: must be a number from 0 to 1',
    ],
    [
      'an upload cap that is not a positive whole number of bytes',
      { sep12: { uploads: { maxRequestBytes: 0 } } },
      'config: sep12.uploads.maxRequestBytes: must be a number of bytes (1-2147483647)',
    ],
    [
      'a non-string documentation value',
      { documentation: { ORG_NAME: 1 } },
      'config: documentation.ORG_NAME: must be a string (got 1)',
    ],
  ])('%s', async (_name, file, expected) => {
    expect(await failure(file)).toContain(expected);
  });

  it('rejects an unknown top-level key and suggests the near one', async () => {
    expect(await failure({ homedomain: 'x' })).toBe(
      'config: homedomain: unknown key (did you mean "homeDomain"?)',
    );
    expect(await failure({ zzz: 1 })).toMatch(/^config: zzz: unknown key \(known keys: port, host, .*\)$/);
  });

  it('rejects an unknown nested key', async () => {
    expect(await failure({ assets: sep31({ minAmmount: '1' }) })).toBe(
      'config: assets[0].sep31.minAmmount: unknown key (did you mean "minAmount"?)',
    );
  });

  it('rejects duplicate assets and sending anchors', async () => {
    const [one] = fullConfig().assets ?? [];
    expect(await failure({ assets: [one, one] })).toMatch(/^config: assets\[1\]: duplicates assets\[0\]/);
    const key = publicKey();
    expect(
      await failure({
        sendingAnchors: [
          { name: 'a', signingKeys: [key] },
          { name: 'b', signingKeys: [key] },
        ],
      }),
    ).toMatch(/^config: sendingAnchors\[1\]\.signingKeys\[0\]: is already a key of sendingAnchors\[0\]/);
  });

  it('names the file on invalid JSON', async () => {
    const cwd = await tempDir();
    const path = await writeJson(cwd, 'config.json', {});
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path, '{ "port": 8000,, }');
    await expect(loadConfig({ env: { MOORING_CONFIG: path }, cwd })).rejects.toThrow(
      new RegExp(`^config file ${path}: invalid JSON: `),
    );
  });
});

describe('environment errors: one line naming the variable', () => {
  it.each<[Record<string, string>, string]>([
    [{ PORT: 'x' }, 'env PORT: must be an integer 1-65535 (got "x")'],
    [{ PORT: '0' }, 'env PORT: must be an integer 1-65535 (got "0")'],
    [
      { STELLAR_NETWORK: 'futurenet' },
      'env STELLAR_NETWORK: must be "testnet" or "pubnet" (got "futurenet")',
    ],
    [
      { HORIZON_URL: 'horizon.stellar.org' },
      'env HORIZON_URL: must be an http(s) URL (got "horizon.stellar.org")',
    ],
    [
      { DATABASE_URL: 'mysql://u:hunter2@db/x' },
      'env DATABASE_URL: must be a postgres:// URL (got "mysql://u:***@db/x")',
    ],
    [{ NATS_URL: 'http://127.0.0.1:4222' }, 'env NATS_URL: must be a NATS URL'],
    [
      { SIGNING_SECRET: 'GABC' },
      'env SIGNING_SECRET: must be a Stellar secret seed (S..., 56 characters) (got a 4-character string)',
    ],
    [{ JWT_SECRET: 'short' }, 'env JWT_SECRET: must be a string of at least 32 characters'],
    [
      { EXECUTE_OUTGOING_INTERVAL: '-1' },
      'env EXECUTE_OUTGOING_INTERVAL: must be a positive number of seconds (got "-1")',
    ],
    [
      { POLL_OUTGOING_INTERVAL: '1m' },
      'env POLL_OUTGOING_INTERVAL: must be a positive number of seconds (got "1m")',
    ],
    [
      { LOG_LEVEL: 'loud' },
      'env LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
    ],
    [{ HOME_DOMAIN: 'localhost:99999' }, 'env HOME_DOMAIN: must be a domain with optional port'],
    [{ MOORING_CONFIG: 'missing.json' }, 'env MOORING_CONFIG: file not found: '],
    [
      { STELLAR_NETWORK: 'testnet', NETWORK_PASSPHRASE: 'Public Global Stellar Network ; September 2015' },
      'env NETWORK_PASSPHRASE: is the pubnet passphrase, but env STELLAR_NETWORK says testnet',
    ],
    [
      { NETWORK_PASSPHRASE: 'Standalone Network ; February 2017' },
      'config: horizonUrl: is required with a custom network passphrase',
    ],
  ])('%o', async (env, expected) => {
    const cwd = await tempDir();
    const error = await loadConfig({ env, cwd }).then(
      () => new Error('loadConfig succeeded'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).not.toContain('\n');
    expect((error as Error).message).toContain(expected);
    expect((error as Error).message.startsWith(expected.split(':')[0] ?? '')).toBe(true);
  });
});
