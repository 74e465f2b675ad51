import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type ConfigFile } from '../../../src/config/index.ts';
import { fullConfig, JWT_SECRET, secretSeed, tempDir, writeJson } from './helpers.ts';

async function load(file: ConfigFile, env: Record<string, string> = {}) {
  const cwd = await tempDir();
  const path = await writeJson(cwd, 'config.json', file);
  return loadConfig({ env: { MOORING_CONFIG: path, ...env }, cwd });
}

describe('http, rateLimit and callbacks config', () => {
  it('has production defaults: timeouts, a connection cap, limits on, no trusted proxy, no loopback callbacks', async () => {
    const config = await load(fullConfig());
    expect(config.http).toEqual({
      requestTimeoutSeconds: 30,
      connectionTimeoutSeconds: 60,
      keepAliveTimeoutSeconds: 72,
      maxConnections: 1024,
      bodyLimitBytes: 1_048_576,
      trustProxy: false,
    });
    expect(config.rateLimit).toEqual({
      enabled: true,
      signIn: { max: 10, windowSeconds: 60 },
      sep10: { max: 60, windowSeconds: 60 },
      writes: { max: 6000, windowSeconds: 60 },
    });
    expect(config.callbacks).toEqual({ allowLoopback: false });
  });

  it('reads each key, a group key by key', async () => {
    const config = await load({
      ...fullConfig(),
      http: { requestTimeoutSeconds: 5, maxConnections: 10, trustProxy: ['10.0.0.0/8', 'loopback'] },
      rateLimit: { enabled: false, sep10: { max: 5 } },
    });
    expect(config.http).toMatchObject({
      requestTimeoutSeconds: 5,
      maxConnections: 10,
      trustProxy: ['10.0.0.0/8', 'loopback'],
    });
    expect(config.rateLimit).toMatchObject({ enabled: false, sep10: { max: 5, windowSeconds: 60 } });
  });

  it.each([
    ['true', true],
    ['false', false],
    ['127.0.0.1, 10.0.0.0/8,::1', ['127.0.0.1', '10.0.0.0/8', '::1']],
  ])('reads TRUST_PROXY=%s, which wins over the file', async (value, expected) => {
    const config = await load({ ...fullConfig(), http: { trustProxy: true } }, { TRUST_PROXY: value });
    expect(config.http.trustProxy).toEqual(expected);
  });

  it.each(['2', 'yes', '10.0.0.0/33', 'proxy.example'])(
    'refuses TRUST_PROXY=%s in one line',
    async (value) => {
      await expect(load(fullConfig(), { TRUST_PROXY: value })).rejects.toThrow(
        /^env TRUST_PROXY: must be true, false or a list of addresses\/CIDRs/,
      );
    },
  );

  it('warns loudly when loopback callbacks are on', async () => {
    const config = await load({ ...fullConfig(), callbacks: { allowLoopback: true } });
    expect(config.callbacks.allowLoopback).toBe(true);
    expect(config.warnings).toEqual([
      expect.stringMatching(/^LOOPBACK CALLBACKS ON \(callbacks\.allowLoopback\)/),
    ]);
  });

  it('refuses loopback callbacks on pubnet in one line', async () => {
    const error = await load({
      ...fullConfig(),
      network: 'pubnet',
      callbacks: { allowLoopback: true },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/^config: callbacks\.allowLoopback: must not be true on pubnet/);
    expect((error as Error).message).not.toContain('\n');
  });
});

describe('sandbox detection', () => {
  it('is off when both secrets and sendingAnchors are set, even with the demo asset in place', async () => {
    const { assets: _demo, ...file } = fullConfig();
    const config = await load(file);
    expect(config.assets[0]?.code).toBe('USDC'); // the demo asset, from sandbox.json
    expect(config.sandbox).toBe(false);
    expect(config.allowAnySendingAnchor).toBe(false);
  });

  it('is on with the demo asset and no sendingAnchors, and with any generated secret', async () => {
    const { assets: _demo, sendingAnchors: _none, ...noAnchors } = fullConfig();
    expect((await load(noAnchors)).sandbox).toBe(true);
    const { jwtSecret: _generated, ...noJwt } = fullConfig();
    expect((await load(noJwt)).sandbox).toBe(true);
    expect((await load({ ...fullConfig(), signingSecret: undefined }, { JWT_SECRET })).sandbox).toBe(true);
    expect((await load(fullConfig(), { SIGNING_SECRET: secretSeed() })).sandbox).toBe(false);
  });
});
