import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/index.ts';
import { fullConfig, tempDir, writeJson } from './helpers.ts';

async function load(stellar: unknown, env: Record<string, string> = {}) {
  const cwd = await tempDir();
  const path = await writeJson(cwd, 'config.json', {
    ...fullConfig(),
    ...(stellar !== undefined && { stellar }),
  });
  return loadConfig({ cwd, env: { MOORING_CONFIG: path, ...env } });
}

describe('stellar (payment source)', () => {
  it('defaults to Horizon, reading payments from horizonUrl', async () => {
    expect((await load(undefined)).stellar).toEqual({
      source: 'horizon',
      rpcUrl: null,
      horizonUrl: 'https://horizon-testnet.stellar.org',
      rpcPollIntervalSeconds: 5,
    });
  });

  it("rpc reads SDF's public RPC on testnet unless told otherwise; pubnet needs an RPC URL", async () => {
    expect((await load({ source: 'rpc' })).stellar).toMatchObject({
      source: 'rpc',
      rpcUrl: 'https://soroban-testnet.stellar.org',
    });
    const cwd = await tempDir();
    const path = await writeJson(cwd, 'config.json', {
      ...fullConfig(),
      network: 'pubnet',
      stellar: { source: 'rpc' },
    });
    const pubnet = loadConfig({ cwd, env: { MOORING_CONFIG: path } });
    await expect(pubnet).rejects.toThrow(ConfigError);
    await expect(pubnet).rejects.toThrow(/stellar\.source.*STELLAR_RPC_URL/);
    expect((await load({ source: 'rpc' }, { STELLAR_RPC_URL: 'http://127.0.0.1:8000/' })).stellar).toEqual({
      source: 'rpc',
      rpcUrl: 'http://127.0.0.1:8000',
      horizonUrl: null,
      rpcPollIntervalSeconds: 5,
    });
    expect(
      (await load(undefined, { STELLAR_PAYMENT_SOURCE: 'rpc', STELLAR_RPC_URL: 'https://rpc.example' }))
        .stellar,
    ).toMatchObject({
      source: 'rpc',
    });
  });

  it('with rpc, a Horizon is used only when stellar.horizonUrl names one (to catch up)', async () => {
    const config = await load({
      source: 'rpc',
      rpcUrl: 'https://soroban-testnet.stellar.org',
      horizonUrl: 'https://horizon-testnet.stellar.org/',
      rpcPollIntervalSeconds: 1,
    });
    expect(config.stellar).toEqual({
      source: 'rpc',
      rpcUrl: 'https://soroban-testnet.stellar.org',
      horizonUrl: 'https://horizon-testnet.stellar.org',
      rpcPollIntervalSeconds: 1,
    });
  });

  it('refuses bad values with the key named', async () => {
    await expect(load({ source: 'soroban' })).rejects.toThrow(/stellar\.source/);
    await expect(load({ rpcUrl: 'ftp://x' })).rejects.toThrow(/stellar\.rpcUrl/);
    await expect(load(undefined, { STELLAR_PAYMENT_SOURCE: 'both' })).rejects.toThrow(
      /STELLAR_PAYMENT_SOURCE/,
    );
    await expect(load({ horizonUrl: 'nope' })).rejects.toThrow(/stellar\.horizonUrl/);
    await expect(load({ pollSeconds: 1 })).rejects.toThrow(/stellar/);
  });
});
