import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { embeddedBlock, mermaidBlock, renderMachine } from '../../../src/cli/machines-export.ts';

describe('README status diagram', () => {
  it('is the diagram the transaction machine generates today (run `npm run docs` to refresh)', async () => {
    const readme = await readFile(join(import.meta.dirname, '..', '..', '..', 'README.md'), 'utf8');
    expect(embeddedBlock(readme, 'transaction')).toBe(mermaidBlock(renderMachine('transaction', 'mermaid')));
  });
});
