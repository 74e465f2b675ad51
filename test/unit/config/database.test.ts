import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';
import { ConfigError } from '../../../src/config/errors.ts';
import { tempDir, writeJson } from './helpers.ts';

describe('database settings', () => {
  it('gives a PostgreSQL connection 5 s by default', async () => {
    const config = await loadConfig({ env: {}, cwd: await tempDir() });
    expect(config.database).toEqual({ connectTimeoutSeconds: 5 });
  });

  it('reads database.connectTimeoutSeconds from the file, and refuses a non-positive one', async () => {
    const cwd = await tempDir();
    const good = await writeJson(cwd, 'good.json', { database: { connectTimeoutSeconds: 1.5 } });
    expect((await loadConfig({ env: { MOORING_CONFIG: good }, cwd })).database.connectTimeoutSeconds).toBe(
      1.5,
    );
    const bad = await writeJson(cwd, 'bad.json', { database: { connectTimeoutSeconds: 0 } });
    await expect(loadConfig({ env: { MOORING_CONFIG: bad }, cwd })).rejects.toThrow(ConfigError);
  });
});
