import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactConfig, type ConfigFile } from '../../../src/config/index.ts';
import { selectIntegrations } from '../../../src/integrations/index.ts';
import { createReferenceSep31Integration } from '../../../src/integrations/reference/sep31.ts';
import { fullConfig, tempDir, writeJson } from './helpers.ts';

async function load(file: Partial<ConfigFile>, env: Record<string, string> = {}) {
  const cwd = await tempDir();
  const path = await writeJson(cwd, 'config.json', { ...fullConfig(), ...file });
  return loadConfig({ env: { MOORING_CONFIG: path, ...env }, cwd });
}

describe('integrations: the business server and the source of each hook', () => {
  it('reads the business server from the file, the environment winning', async () => {
    const config = await load(
      {
        integrations: {
          business: { url: 'https://file.example/m/', token: 'file-token', retries: 3, sign: false },
        },
      },
      { BUSINESS_SERVER_URL: 'https://env.example/mooring', BUSINESS_SERVER_TIMEOUT: '1.5' },
    );
    expect(config.integrations).toEqual({
      business: {
        url: 'https://env.example/mooring',
        token: 'file-token',
        timeoutSeconds: 1.5,
        retries: 3,
        sign: false,
      },
      sep31: null,
      customers: null,
      rates: null,
    });
    expect(JSON.stringify(redactConfig(config))).not.toContain('file-token');
    expect((await load({})).integrations.business).toBeNull();
  });

  it('refuses a hook on "business" without a server, and a bad URL', async () => {
    await expect(load({ integrations: { rates: 'business' } })).rejects.toThrow(
      /integrations\.rates.*no business server is configured/,
    );
    await expect(load({}, { BUSINESS_SERVER_URL: 'ftp://x' })).rejects.toBeInstanceOf(ConfigError);
  });

  it('chooses per hook: explicit, else the module part, else the business server, else the reference', async () => {
    const dir = await tempDir();
    const module = join(dir, 'anchor.ts');
    await writeFile(module, `export default { sep31: ${moduleSep31} };\n`);
    const config = await load(
      { integration: module, integrations: { rates: 'reference' } },
      { BUSINESS_SERVER_URL: 'http://127.0.0.1:1' },
    );
    const selected = await selectIntegrations(config);
    expect(await selected.sep31!.info(config.assets[0]!, null)).toEqual({ from: 'module' });
    expect(selected.customers?.deleted).toBeTypeOf('function'); // the HTTP adapter
    expect(selected.rates).toBeUndefined(); // the reference
    const forced = await selectIntegrations({
      ...config,
      integrations: { ...config.integrations, sep31: 'business' },
    });
    expect(forced.sep31).not.toBe(selected.sep31);
    await expect(
      selectIntegrations({
        ...config,
        integration: null,
        integrations: { ...config.integrations, sep31: 'module' },
      }),
    ).rejects.toThrow(/integrations\.sep31 is "module"/);
    expect(
      createReferenceSep31Integration({ sendingAnchors: [], allowAnySendingAnchor: true })
        .processPatchRequest,
    ).toBeTypeOf('function');
  });
});

const moduleSep31 = `{
  info: async () => ({ from: 'module' }),
  validSendingAnchor: async () => true,
  processPostRequest: async () => ({ ok: true }),
}`;

describe('the printed config', () => {
  it('hides the HTTP rails token and a password in their URL', async () => {
    const config = await load({
      rails: {
        kind: 'http',
        baseUrl: 'https://bank:rails-password@rails.example/',
        authToken: 'rails-token',
      },
    });
    const printed = JSON.stringify(redactConfig(config));
    expect(printed).not.toContain('rails-token');
    expect(printed).not.toContain('rails-password');
    expect(printed).toContain('rails.example');
  });
});
