/**
 * Finding, reading and shape-checking the config file. JSON files are parsed; `.ts`/`.js` modules are
 * imported and their default export (an object, or a function returning one) is used.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Value } from 'typebox/value';
import { CONFIG_FILE_NAMES } from './defaults.ts';
import type { Sourced } from './env.ts';
import { ConfigError, fileKey, show, showSecret } from './errors.ts';
import { ConfigFileSchema, type ConfigFile } from './schema.ts';

const MODULE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];

/** The config file to read: the one named by `MOORING_CONFIG` (or `--config`), else one found in `cwd`. */
export function locateConfigFile(named: Sourced<string> | undefined, cwd: string): string | null {
  if (named !== undefined) {
    const path = resolve(cwd, named.value);
    if (!existsSync(path)) throw new ConfigError(named.where, `file not found: ${path}`);
    return path;
  }
  const found = CONFIG_FILE_NAMES.map((name) => join(cwd, name)).filter((path) => existsSync(path));
  if (found.length > 1) {
    throw new ConfigError('config', `found ${found.join(' and ')}: keep one, or choose with MOORING_CONFIG`);
  }
  return found[0] ?? null;
}

/** Reads and shape-checks the file. */
export async function readConfigFile(path: string): Promise<ConfigFile> {
  const raw = await readRaw(path);
  checkShape(raw);
  return raw;
}

async function readRaw(path: string): Promise<unknown> {
  const where = `config file ${path}`;
  const extension = extname(path).toLowerCase();
  if (extension === '.json') {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new ConfigError(where, `cannot read: ${(error as Error).message}`, { cause: error });
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new ConfigError(where, `invalid JSON: ${(error as Error).message}`, { cause: error });
    }
  }
  if (MODULE_EXTENSIONS.includes(extension)) {
    let module: { default?: unknown };
    try {
      module = (await import(pathToFileURL(path).href)) as { default?: unknown };
    } catch (error) {
      throw new ConfigError(where, `cannot import: ${(error as Error).message}`, { cause: error });
    }
    if (module.default === undefined) {
      throw new ConfigError(where, 'has no default export (use `export default defineConfig({ ... })`)');
    }
    const exported = module.default;
    return typeof exported === 'function' ? await (exported as () => unknown)() : exported;
  }
  throw new ConfigError(
    where,
    `unsupported file type "${extension}" (use .json, ${MODULE_EXTENSIONS.join(', ')})`,
  );
}

/** Throws a one-line ConfigError for the first structural problem TypeBox finds. */
function checkShape(raw: unknown): asserts raw is ConfigFile {
  rejectNativeAssets(raw);
  const [first, ...rest] = Value.Errors(ConfigFileSchema, raw);
  if (first === undefined) return;
  const path = instancePath(raw, first.instancePath);

  if (first.keyword === 'boolean' && first.schemaPath.endsWith('/additionalProperties')) {
    const parent = schemaAt(first.schemaPath.slice(0, -'/additionalProperties'.length));
    throw new ConfigError(fileKey(path), unknownKey(String(path.at(-1)), parent));
  }
  if (first.keyword === 'additionalProperties') {
    const [key = ''] = first.params.additionalProperties;
    throw new ConfigError(fileKey([...path, key]), unknownKey(key, schemaAt(first.schemaPath)));
  }
  if (first.keyword === 'required') {
    const [key = ''] = first.params.requiredProperties;
    throw new ConfigError(fileKey([...path, key]), 'is required');
  }
  // A union reports one error per branch and then its own: use the outermost schema's wording.
  const outermost = [first, ...rest]
    .filter((error) => error.instancePath === first.instancePath)
    .reduce((a, b) => (b.schemaPath.length < a.schemaPath.length ? b : a));
  const schema = schemaAt(outermost.schemaPath);
  const value = valueAt(raw, first.instancePath);
  const got = schema.secret === true ? showSecret(value) : show(value);
  const expected = typeof schema.expected === 'string' ? `must be ${schema.expected}` : outermost.message;
  throw new ConfigError(fileKey(path), `${expected} (got ${got})`);
}

/** Native XLM has no issuer, so say why before the schema complains that the issuer is missing. */
function rejectNativeAssets(raw: unknown): void {
  const assets: unknown = raw !== null && typeof raw === 'object' ? Reflect.get(raw, 'assets') : undefined;
  if (!Array.isArray(assets)) return;
  assets.forEach((asset: unknown, index) => {
    const code: unknown =
      asset !== null && typeof asset === 'object' ? Reflect.get(asset, 'code') : undefined;
    if (typeof code === 'string' && code.trim().toLowerCase() === 'native') {
      throw new ConfigError(
        fileKey(['assets', index, 'code']),
        'native XLM is not supported as a receive asset yet; configure an issued asset ("code" plus "issuer" G...)',
      );
    }
  });
}

function unknownKey(key: string, parent: Record<string, unknown>): string {
  const known = Object.keys((parent.properties as Record<string, unknown> | undefined) ?? {});
  const near = known.find((name) => name.toLowerCase() === key.toLowerCase() || editDistance(name, key) <= 2);
  return near !== undefined
    ? `unknown key (did you mean "${near}"?)`
    : `unknown key (known keys: ${known.join(', ')})`;
}

function pointer(path: string): string[] {
  return path === '' ? [] : path.split('/').map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** JSON-pointer instance path → key path, with array positions as numbers. */
function instancePath(root: unknown, path: string): (string | number)[] {
  const parts: (string | number)[] = [];
  let node = root;
  for (const part of pointer(path).slice(1)) {
    parts.push(Array.isArray(node) ? Number(part) : part);
    node = node !== null && typeof node === 'object' ? Reflect.get(node, part) : undefined;
  }
  return parts;
}

function valueAt(root: unknown, path: string): unknown {
  let node = root;
  for (const part of pointer(path).slice(1)) {
    node = node !== null && typeof node === 'object' ? Reflect.get(node, part) : undefined;
  }
  return node;
}

function schemaAt(schemaPath: string): Record<string, unknown> {
  let node: unknown = ConfigFileSchema;
  for (const part of pointer(schemaPath.replace(/^#/, '')).slice(1)) {
    node = node !== null && typeof node === 'object' ? Reflect.get(node, part) : undefined;
  }
  return node !== null && typeof node === 'object' ? (node as Record<string, unknown>) : {};
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
