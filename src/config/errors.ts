/**
 * Configuration errors: one class, one line. Every message names where the bad value came from (`env PORT`,
 * `config: assets[0].code`, `option --port`) and what is wrong with it, so an operator can fix it without
 * reading a stack trace.
 */

/** Thrown by {@link loadConfig} for any invalid, missing or unreadable setting. The message is one line. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  /** Where the value came from, e.g. `env PORT` or `config: assets[0].sep31.minAmount`. */
  readonly where: string;

  constructor(where: string, problem: string, options?: ErrorOptions) {
    super(oneLine(`${where}: ${problem}`), options);
    this.where = where;
  }
}

/** Label for a key path inside the config file: `config: assets[0].code`. */
export function fileKey(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return `config: ${out === '' ? '(root)' : out}`;
}

/** Label for an environment variable: `env PORT`. */
export function envKey(name: string): string {
  return `env ${name}`;
}

const MAX_SHOWN = 60;

/** Renders a rejected value for a message: JSON-quoted, single-line, shortened. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  if (typeof value === 'function') text = 'a function';
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

/** Renders a rejected secret without revealing it. */
export function showSecret(value: unknown): string {
  return typeof value === 'string' ? `a ${value.length}-character string` : show(value);
}

/** Hides the passwords in a URL (or a comma-separated list of URLs). */
export function redactUrl(url: string, mask = '***'): string {
  return url.replace(/\/\/([^/@:]*):[^/@]*@/g, `//$1:${mask}@`);
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ');
}
