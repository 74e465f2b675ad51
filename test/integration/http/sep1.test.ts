import { Keypair, Networks, StellarToml } from '@stellar/stellar-sdk';
import { parse } from 'smol-toml';
import { afterEach, describe, expect, it } from 'vitest';
import { buildTestApp, KEYS, testConfigFile, type TestApp } from '../../helpers/app.ts';

const TOML_PATH = '/.well-known/stellar.toml';

describe('SEP-1 GET /.well-known/stellar.toml', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('publishes every key a sending anchor needs, with http URLs for a localhost home domain', async () => {
    t = await buildTestApp();
    const response = await t.app.inject({ method: 'GET', url: TOML_PATH });

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(response.headers['access-control-allow-origin']).toBe('*');
    expect(Buffer.byteLength(response.body)).toBeLessThan(100 * 1024);

    const toml = parse(response.body);
    expect({ ...toml, CURRENCIES: undefined }).toEqual({
      VERSION: '2.7.0',
      NETWORK_PASSPHRASE: Networks.TESTNET,
      SIGNING_KEY: KEYS.server.publicKey(),
      WEB_AUTH_ENDPOINT: 'http://localhost:8000/auth',
      DIRECT_PAYMENT_SERVER: 'http://localhost:8000/sep31',
      KYC_SERVER: 'http://localhost:8000/sep12',
      ACCOUNTS: [KEYS.distribution.publicKey()],
      CURRENCIES: undefined,
    });
    expect(toml.CURRENCIES).toEqual([
      {
        code: 'USDC',
        issuer: KEYS.issuer.publicKey(),
        status: 'test',
        desc: expect.stringContaining('USDC'),
        is_asset_anchored: true,
        anchor_asset_type: 'fiat',
        display_decimals: 2,
      },
    ]);
    // No [DOCUMENTATION] table when the config has none; no SEP-38 server when no asset offers quotes.
    expect(toml).not.toHaveProperty('DOCUMENTATION');
    expect(toml).not.toHaveProperty('ANCHOR_QUOTE_SERVER');
  });

  it('on pubnet with a public home domain: https URLs, live currencies, documentation, de-duplicated accounts', async () => {
    const base = testConfigFile();
    const second = Keypair.random().publicKey();
    t = await buildTestApp({
      file: {
        ...base,
        homeDomain: 'anchor.example.com',
        network: 'pubnet',
        documentation: { ORG_NAME: 'Example Anchor', ORG_URL: 'https://anchor.example.com' },
        assets: [
          base.assets![0]!,
          { ...base.assets![0]!, code: 'EURC', issuer: second, significantDecimals: 7 },
          {
            ...base.assets![0]!,
            code: 'BRLT',
            distributionAccount: second,
            significantDecimals: 0,
            sep31: { ...base.assets![0]!.sep31, quotesSupported: true },
          },
        ],
      },
    });
    const response = await t.app.inject({ method: 'GET', url: TOML_PATH });
    expect(response.statusCode).toBe(200);
    const toml = parse(response.body);

    expect(toml.NETWORK_PASSPHRASE).toBe(Networks.PUBLIC);
    expect(toml.WEB_AUTH_ENDPOINT).toBe('https://anchor.example.com/auth');
    expect(toml.DIRECT_PAYMENT_SERVER).toBe('https://anchor.example.com/sep31');
    expect(toml.KYC_SERVER).toBe('https://anchor.example.com/sep12');
    expect(toml.ANCHOR_QUOTE_SERVER).toBe('https://anchor.example.com/sep38');
    expect(toml.ACCOUNTS).toEqual([KEYS.distribution.publicKey(), second]);
    expect({ ...(toml.DOCUMENTATION as object) }).toEqual({
      ORG_NAME: 'Example Anchor',
      ORG_URL: 'https://anchor.example.com',
    });
    const currencies = toml.CURRENCIES as Record<string, unknown>[];
    expect(currencies.map((c) => [c.code, c.issuer, c.status, c.display_decimals])).toEqual([
      ['USDC', KEYS.issuer.publicKey(), 'live', 2],
      ['EURC', second, 'live', 7],
      ['BRLT', KEYS.issuer.publicKey(), 'live', 0],
    ]);
    for (const url of [toml.WEB_AUTH_ENDPOINT, toml.DIRECT_PAYMENT_SERVER, toml.KYC_SERVER] as string[]) {
      expect(url).not.toMatch(/\/$/);
    }
  });

  it("is read by the SDK's StellarToml.Resolver over real HTTP", async () => {
    t = await buildTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as { port: number };

    const toml = await StellarToml.Resolver.resolve(`127.0.0.1:${port}`, { allowHttp: true, timeout: 5000 });

    expect(toml.SIGNING_KEY).toBe(KEYS.server.publicKey());
    expect(toml.WEB_AUTH_ENDPOINT).toBe('http://localhost:8000/auth');
    expect(toml.DIRECT_PAYMENT_SERVER).toBe('http://localhost:8000/sep31');
    expect(toml.KYC_SERVER).toBe('http://localhost:8000/sep12');
    expect(toml.NETWORK_PASSPHRASE).toBe(Networks.TESTNET);
    expect(toml.ACCOUNTS).toEqual([KEYS.distribution.publicKey()]);
    expect(toml.CURRENCIES?.[0]).toMatchObject({
      code: 'USDC',
      issuer: KEYS.issuer.publicKey(),
      status: 'test',
      is_asset_anchored: true,
      anchor_asset_type: 'fiat',
      display_decimals: 2,
    });
  });
});
