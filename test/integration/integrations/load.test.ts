import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIntegration } from '../../../src/integrations/index.ts';
import { KEYS, buildTestApp, testConfigFile, tokenFor } from '../../helpers/app.ts';
import { testConfig } from '../../helpers/app.ts';

/** The anchor's own integration, named by path in the config file, decides for real requests. */
describe('an integration module named in config', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mooring-integration-'));
    await writeFile(
      join(dir, 'my-anchor.ts'),
      `export default {
        sep31: {
          info: async () => ({}),
          validSendingAnchor: async () => true,
          processPostRequest: async (request) =>
            Number(request.amount) > 500 ? { error: 'amounts over 500 need a manual review' } : { ok: true },
        },
      };\n`,
    );
    await writeFile(join(dir, 'broken.ts'), `export default { sep31: { info: async () => ({}) } };\n`);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('resolves the path against the config file and loads the module', async () => {
    const { config, cleanup } = await testConfig({
      ...testConfigFile(),
      integration: join(dir, 'my-anchor.ts'),
    });
    try {
      expect(config.integration).toBe(join(dir, 'my-anchor.ts'));
      const loaded = await loadIntegration(config.integration);
      expect(typeof loaded.sep31?.processPostRequest).toBe('function');
      expect(loaded.customers).toBeUndefined();
    } finally {
      await cleanup();
    }
  });

  it('refuses a module that does not implement the interface, naming what is missing', async () => {
    await expect(loadIntegration(join(dir, 'broken.ts'))).rejects.toThrow(
      /sep31 must implement info, validSendingAnchor, processPostRequest/,
    );
    await expect(loadIntegration(join(dir, 'missing.ts'))).rejects.toThrow(/cannot be loaded/);
  });

  it("answers POST /transactions with the integration's decision", async () => {
    const { sep31 } = await loadIntegration(join(dir, 'my-anchor.ts'));
    const t = await buildTestApp({ file: testConfigFile({ sep12: { types: {} } }), integration: sep31! });
    try {
      const token = await tokenFor(t.config, KEYS.acme.publicKey());
      const post = (amount: string) =>
        t.app.inject({
          method: 'POST',
          url: '/sep31/transactions',
          headers: { authorization: `Bearer ${token}` },
          payload: { amount, asset_code: 'USDC', funding_method: 'SEPA' },
        });
      const refused = await post('600');
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toEqual({ error: 'amounts over 500 need a manual review' });
      expect((await post('100')).statusCode).toBe(201);
    } finally {
      await t.close();
    }
  });
});
