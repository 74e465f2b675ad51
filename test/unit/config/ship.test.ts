import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/index.ts';
import { fullConfig, tempDir, writeJson } from './helpers.ts';

async function load(file: object, env: Record<string, string> = {}) {
  const cwd = await tempDir();
  const path = await writeJson(cwd, 'mooring.config.json', { ...fullConfig(), ...file });
  return loadConfig({ env: { MOORING_CONFIG: path, ...env }, cwd });
}

describe('metrics config', () => {
  it('is on by default, on the HTTP port only, its listener bound like HTTP', async () => {
    expect((await load({})).metrics).toEqual({ enabled: true, port: null, host: '127.0.0.1' });
    expect((await load({}, { HOST: '0.0.0.0' })).metrics.host).toBe('0.0.0.0');
  });

  it('reads enabled, port and host from the file', async () => {
    const config = await load({ metrics: { enabled: false, port: 9464, host: '10.0.0.5' } });
    expect(config.metrics).toEqual({ enabled: false, port: 9464, host: '10.0.0.5' });
  });

  it('refuses a port out of range with one line naming the key', async () => {
    await expect(load({ metrics: { port: 70000 } })).rejects.toThrow(/metrics\.port/);
  });
});

describe('watcher.unreachableReadySeconds', () => {
  it('defaults to 120 s, or twice the silence timeout when that is longer', async () => {
    expect((await load({})).watcher.unreachableReadySeconds).toBe(120);
    const slow = await load({ watcher: { silenceTimeoutSeconds: 90 } });
    expect(slow.watcher.unreachableReadySeconds).toBe(180);
  });

  it('must be longer than the silence timeout: a quiet account reaches Horizon once per timeout', async () => {
    expect(
      (await load({ watcher: { unreachableReadySeconds: 30, silenceTimeoutSeconds: 10 } })).watcher,
    ).toMatchObject({ unreachableReadySeconds: 30, silenceTimeoutSeconds: 10 });
    const refused = load({ watcher: { unreachableReadySeconds: 60 } });
    await expect(refused).rejects.toBeInstanceOf(ConfigError);
    await expect(refused).rejects.toThrow(
      /watcher\.unreachableReadySeconds.*longer than watcher\.silenceTimeoutSeconds \(60\)/,
    );
  });
});
