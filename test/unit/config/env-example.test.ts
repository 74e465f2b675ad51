import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ENV_VARS } from '../../../src/config/index.ts';

describe('.env.example', () => {
  it('documents every variable loadConfig reads', async () => {
    const text = await readFile(new URL('../../../.env.example', import.meta.url), 'utf8');
    const documented = [...text.matchAll(/^#?\s*([A-Z_]+)=/gm)].map((match) => match[1]);
    expect([...documented].sort()).toEqual([...ENV_VARS].sort());
  });
});
