import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type ConfigFile } from '../../../src/config/index.ts';
import { fullConfig, tempDir, writeJson } from './helpers.ts';

async function load(file: ConfigFile, env: Record<string, string> = {}) {
  const cwd = await tempDir();
  const path = await writeJson(cwd, 'config.json', file);
  return loadConfig({ env: { MOORING_CONFIG: path, ...env }, cwd });
}

const NATS = { NATS_URL: 'nats://127.0.0.1:4222' };

describe('events config', () => {
  it('publishes on NATS by default when the bus is NATS, never on the in-process bus; no webhook', async () => {
    expect((await load(fullConfig(), NATS)).events).toEqual({ nats: true, webhookUrl: null });
    const inProcess = await load(fullConfig());
    expect(inProcess.events).toEqual({ nats: false, webhookUrl: null });
    expect(inProcess.warnings).toEqual([]);
  });

  it('reads events.nats and events.webhookUrl from the file, and the environment wins', async () => {
    const file = { ...fullConfig(), events: { nats: false, webhookUrl: 'https://biz.example/events/' } };
    expect((await load(file, NATS)).events).toEqual({
      nats: false,
      webhookUrl: 'https://biz.example/events',
    });
    const env = { ...NATS, EVENTS_NATS: 'true', EVENTS_WEBHOOK_URL: 'http://10.0.0.5:9000/hook' };
    expect((await load(file, env)).events).toEqual({ nats: true, webhookUrl: 'http://10.0.0.5:9000/hook' });
  });

  it('warns when NATS events are asked for without a NATS bus', async () => {
    const config = await load(fullConfig(), { EVENTS_NATS: 'yes' });
    expect(config.events.nats).toBe(false);
    expect(config.warnings).toEqual([expect.stringMatching(/EVENTS_NATS.*no NATS_URL/)]);
  });

  it('refuses a webhook that is not an http(s) URL, or a switch that is not a boolean, in one line', async () => {
    for (const [env, key] of [
      [{ EVENTS_WEBHOOK_URL: 'ftp://biz.example' }, 'EVENTS_WEBHOOK_URL'],
      [{ EVENTS_NATS: 'maybe' }, 'EVENTS_NATS'],
    ] as const) {
      const error = await load(fullConfig(), env).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain(key);
      expect((error as Error).message).not.toContain('\n');
    }
  });
});
