// The viewer's browser assets, built in memory with esbuild from src/viewer/client/ the first time they are asked
// for, then kept for the life of the process. Paths come from this file's location, so any cwd works.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export interface ViewerAsset {
  body: string;
  contentType: string;
  /** A strong ETag of the body. */
  etag: string;
}

export interface ViewerAssets {
  html: ViewerAsset;
  script: ViewerAsset;
  stylesheet: ViewerAsset;
}

export interface BundleSources {
  /** The browser entry (TypeScript); its CSS imports become the stylesheet. */
  entry: string;
  /** The page. */
  html: string;
}

export const VIEWER_SOURCES: BundleSources = {
  entry: fileURLToPath(new URL('./client/main.ts', import.meta.url)),
  html: fileURLToPath(new URL('./client/index.html', import.meta.url)),
};

const asset = (body: string, contentType: string): ViewerAsset => ({
  body,
  contentType,
  etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
});

/** Builds the assets from `sources` (not memoised: `viewerAssets` is). */
export async function buildViewerAssets(sources: BundleSources = VIEWER_SOURCES): Promise<ViewerAssets> {
  const [result, html] = await Promise.all([
    build({
      entryPoints: { viewer: sources.entry },
      bundle: true,
      format: 'esm',
      minify: true,
      target: 'es2022',
      platform: 'browser',
      write: false,
      outdir: '/viewer-assets',
      logLevel: 'silent',
      define: { 'process.env.NODE_ENV': '"production"' },
    }),
    readFile(sources.html, 'utf8'),
  ]);
  const output = (name: string) =>
    result.outputFiles.find((file) => basename(file.path) === name)?.text ?? null;
  const script = output('viewer.js');
  if (script === null) throw new Error(`esbuild produced no viewer.js from ${sources.entry}`);
  return {
    html: asset(html, 'text/html; charset=utf-8'),
    script: asset(script, 'text/javascript; charset=utf-8'),
    // An entry without CSS imports has no stylesheet: serve an empty one, so the page's <link> still loads.
    stylesheet: asset(output('viewer.css') ?? '', 'text/css; charset=utf-8'),
  };
}

let built: Promise<ViewerAssets> | undefined;

/** The assets of this process, built once; a failed build is tried again on the next call. */
export function viewerAssets(): Promise<ViewerAssets> {
  built ??= buildViewerAssets().catch((error: unknown) => {
    built = undefined;
    throw error;
  });
  return built;
}
