import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildViewerAssets, VIEWER_SOURCES } from '../../../src/viewer/bundle.ts';

describe('buildViewerAssets', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mooring-viewer-bundle-'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>viewer</title>');
    await writeFile(join(dir, 'style.css'), 'body {\n  color: red;\n}\n');
    await writeFile(
      join(dir, 'greet.ts'),
      'export const greet = (name: string): string => `hello ${name}`;\n',
    );
    await writeFile(
      join(dir, 'main.ts'),
      "import './style.css';\nimport { greet } from './greet.ts';\ndocument.title = greet('viewer');\n",
    );
    await writeFile(join(dir, 'plain.ts'), 'document.title = "plain";\n');
    await writeFile(join(dir, 'broken.ts'), 'import { nothing } from "./missing.ts";\nnothing();\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('bundles the TypeScript entry and its imports into one minified script, and its CSS apart', async () => {
    const assets = await buildViewerAssets({ entry: join(dir, 'main.ts'), html: join(dir, 'index.html') });
    expect(assets.script.contentType).toBe('text/javascript; charset=utf-8');
    expect(assets.script.body).toContain('hello ');
    expect(assets.script.body).not.toContain('import');
    expect(assets.script.body).not.toContain(': string');
    expect(assets.stylesheet.contentType).toBe('text/css; charset=utf-8');
    expect(assets.stylesheet.body.trim()).toBe('body{color:red}');
    expect(assets.html).toMatchObject({
      body: '<!doctype html><title>viewer</title>',
      contentType: 'text/html; charset=utf-8',
    });
    expect(new Set([assets.html.etag, assets.script.etag, assets.stylesheet.etag]).size).toBe(3);
  });

  it('an entry without CSS gets an empty stylesheet; a broken one fails the build', async () => {
    const plain = await buildViewerAssets({ entry: join(dir, 'plain.ts'), html: join(dir, 'index.html') });
    expect(plain.stylesheet.body).toBe('');
    await expect(
      buildViewerAssets({ entry: join(dir, 'broken.ts'), html: join(dir, 'index.html') }),
    ).rejects.toThrow();
  });

  it('finds the client next to itself, whatever the working directory', () => {
    expect(VIEWER_SOURCES.entry).toMatch(/src\/viewer\/client\/main\.ts$/);
    expect(VIEWER_SOURCES.html).toMatch(/src\/viewer\/client\/index\.html$/);
  });
});
