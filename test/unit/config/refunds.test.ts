import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactConfig } from '../../../src/config/index.ts';
import { fullConfig, secretSeed, tempDir, writeJson } from './helpers.ts';

describe('refunds config', () => {
  it('a sandbox refunds on Stellar with its generated distribution key, excess automatically', async () => {
    const config = await loadConfig({ env: {}, cwd: await tempDir() });
    expect(config.refunds.kind).toBe('stellar');
    expect(config.refunds.excess).toBe('auto');
    expect(config.refunds.signerSecret).toMatch(/^S[A-Z2-7]{55}$/);
  });

  it('without a signer the business sends refunds; REFUND_SIGNER_SECRET makes Mooring send them', async () => {
    const cwd = await tempDir();
    const path = await writeJson(cwd, 'config.json', fullConfig());
    const business = await loadConfig({ env: { MOORING_CONFIG: path }, cwd });
    expect(business.refunds).toEqual({ kind: 'business', excess: 'auto', signerSecret: null });
    const secret = secretSeed();
    const stellar = await loadConfig({ env: { MOORING_CONFIG: path, REFUND_SIGNER_SECRET: secret }, cwd });
    expect(stellar.refunds).toEqual({ kind: 'stellar', excess: 'auto', signerSecret: secret });
    // Never printed.
    expect(JSON.stringify(redactConfig(stellar))).not.toContain(secret);
  });

  it('refuses kind "stellar" with no signer, and a malformed signer', async () => {
    const cwd = await tempDir();
    const path = await writeJson(cwd, 'config.json', {
      ...fullConfig(),
      refunds: { kind: 'stellar', excess: 'approve' },
    });
    await expect(loadConfig({ env: { MOORING_CONFIG: path }, cwd })).rejects.toThrow(ConfigError);
    await expect(
      loadConfig({ env: { MOORING_CONFIG: path, REFUND_SIGNER_SECRET: 'not-a-seed' }, cwd }),
    ).rejects.toThrow(/REFUND_SIGNER_SECRET/);
  });
});
