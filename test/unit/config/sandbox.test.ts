import { Keypair } from '@stellar/stellar-sdk';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/index.ts';
import { fullConfig, JWT_SECRET, secretSeed, tempDir, writeJson } from './helpers.ts';

describe('sandbox mode', () => {
  it('generates keys once, in a 0600 file, and reuses them on the next start', async () => {
    const cwd = await tempDir();
    const first = await loadConfig({ env: {}, cwd });
    const path = join(cwd, '.mooring', 'sandbox.json');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(await readFile(path, 'utf8')) as { signingSecret: string; jwtSecret: string };
    expect(stored.signingSecret).toBe(first.signingSecret);
    expect(first.jwtSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(first.assets[0]).toMatchObject({
      code: 'USDC',
      significantDecimals: 2,
      sep31: { enabled: true, minAmount: '0.1', maxAmount: '1000000', fundingMethods: ['SEPA', 'SWIFT'] },
    });
    expect(first.warnings.join('\n')).toContain(`using generated signing key ${first.signingKey}`);

    const second = await loadConfig({ env: {}, cwd });
    expect(second.signingSecret).toBe(first.signingSecret);
    expect(second.jwtSecret).toBe(first.jwtSecret);
    expect(second.assets).toEqual(first.assets);
  });

  it('agrees on one set of keys when two starts race', async () => {
    const cwd = await tempDir();
    const [a, b] = await Promise.all([loadConfig({ env: {}, cwd }), loadConfig({ env: {}, cwd })]);
    expect(a.signingSecret).toBe(b.signingSecret);
  });

  it('fills in only what is missing', async () => {
    const cwd = await tempDir();
    const signingSecret = secretSeed();
    const config = await loadConfig({ env: { SIGNING_SECRET: signingSecret }, cwd });
    expect(config.sandbox).toBe(true);
    expect(config.signingSecret).toBe(signingSecret);
    expect(config.signingKey).toBe(Keypair.fromSecret(signingSecret).publicKey());
    expect(config.warnings.join('\n')).not.toContain('signing key');
  });

  it('allows any sending anchor only in sandbox mode', async () => {
    const cwd = await tempDir();
    const { sendingAnchors: _, ...file } = fullConfig();
    const path = await writeJson(cwd, 'config.json', file);
    const config = await loadConfig({ env: { MOORING_CONFIG: path }, cwd });
    expect(config.sandbox).toBe(false);
    expect(config.allowAnySendingAnchor).toBe(false);
    expect(config.warnings).toEqual(['no sendingAnchors configured: every SEP-31 request will be refused']);
  });

  it.each([
    [{ JWT_SECRET }, 'config: signingSecret: is required on pubnet'],
    [{ SIGNING_SECRET: secretSeed() }, 'config: jwtSecret: is required on pubnet'],
    [{ SIGNING_SECRET: secretSeed(), JWT_SECRET }, 'config: assets: is required on pubnet'],
  ])('refuses to generate anything on pubnet (%o)', async (env, message) => {
    const cwd = await tempDir();
    const error = await loadConfig({ env: { STELLAR_NETWORK: 'pubnet', ...env }, cwd }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(message);
    await expect(stat(join(cwd, '.mooring', 'sandbox.json'))).rejects.toThrow(/ENOENT/);
  });

  it('writes nothing when the rest of the file is invalid', async () => {
    const cwd = await tempDir();
    const path = await writeJson(cwd, 'config.json', {
      sendingAnchors: [{ name: 'acme', signingKeys: ['nope'] }],
    });
    await expect(loadConfig({ env: { MOORING_CONFIG: path }, cwd })).rejects.toThrow(
      /^config: sendingAnchors\[0\]\.signingKeys\[0\]: /,
    );
    await expect(stat(join(cwd, '.mooring'))).rejects.toThrow(/ENOENT/);
  });

  it('names a damaged sandbox file', async () => {
    const cwd = await tempDir();
    await mkdir(join(cwd, '.mooring'));
    await writeJson(cwd, '.mooring/sandbox.json', { signingSecret: 'nope' });
    await expect(loadConfig({ env: {}, cwd })).rejects.toThrow(
      /^sandbox file .*sandbox\.json: unusable .*delete it/,
    );
  });
});
