/**
 * `mooring operator <method> [params…]`: one call of the operator API (docs/operator-api.md) against a
 * running Mooring. Prints the result as JSON; a JSON-RPC or HTTP error is one line on stderr and exit 1.
 *
 * Params: `--params '<json object>'`, and/or `key=value` (a string) and `key:=<json>` (a number, boolean,
 * object…); dots nest (`refund.amount=5`).
 */
import { userInfo } from 'node:os';

export interface OperatorCallOptions {
  method: string;
  /** `--params`: a JSON object. */
  paramsJson?: string;
  /** `key=value` / `key:=json` arguments. */
  assignments: readonly string[];
  url: string;
  token: string | undefined;
  /** Sent as X-Operator: recorded with every event the call sends. */
  operator: string;
  /** Mooring's answer within this, or a one-line error. */
  timeoutMs?: number;
}

export class OperatorCliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OperatorCliError';
  }
}

/** The default base URL: $MOORING_URL, else this machine on $PORT (8000). */
export function defaultOperatorUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.MOORING_URL ?? `http://127.0.0.1:${env.PORT ?? '8000'}`;
}

/** The default operator name: $MOORING_OPERATOR, else the login name. */
export function defaultOperatorName(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MOORING_OPERATOR) return env.MOORING_OPERATOR;
  try {
    return userInfo().username || 'operator';
  } catch {
    return 'operator';
  }
}

/** The params object from `--params` and the assignments (an assignment wins over the JSON). */
export function parseOperatorParams(paramsJson: string | undefined, assignments: readonly string[]) {
  let params: Record<string, unknown> = {};
  if (paramsJson !== undefined) {
    const parsed = parseJson(paramsJson, '--params');
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new OperatorCliError('--params must be a JSON object');
    }
    params = parsed as Record<string, unknown>;
  }
  for (const assignment of assignments) {
    const match = /^([A-Za-z0-9_.]+)(:?=)(.*)$/s.exec(assignment);
    if (!match) throw new OperatorCliError(`not key=value or key:=json: ${assignment}`);
    const [, path, operator, raw] = match as unknown as [string, string, string, string];
    const value = operator === ':=' ? parseJson(raw, path) : raw;
    set(params, path.split('.'), value, path);
  }
  return params;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new OperatorCliError(`${what}: not valid JSON`);
  }
}

function set(target: Record<string, unknown>, keys: string[], value: unknown, path: string) {
  const [key, ...rest] = keys;
  if (key === undefined || key === '') throw new OperatorCliError(`bad parameter name: ${path}`);
  if (rest.length === 0) {
    target[key] = value;
    return;
  }
  const inner = target[key];
  if (inner !== undefined && (typeof inner !== 'object' || inner === null || Array.isArray(inner))) {
    throw new OperatorCliError(`${path}: ${key} is not an object`);
  }
  const next = (inner as Record<string, unknown> | undefined) ?? {};
  target[key] = next;
  set(next, rest, value, path);
}

/** Calls the method; resolves with the result, rejects with a one-line OperatorCliError. */
export async function callOperator(options: OperatorCallOptions): Promise<unknown> {
  if (!options.token) throw new OperatorCliError('no operator token: set OPERATOR_TOKEN or pass --token');
  const params = parseOperatorParams(options.paramsJson, options.assignments);
  const endpoint = new URL('/operator/rpc', options.url);
  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${options.token}`,
        'x-operator': options.operator,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: options.method, params }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
  } catch (error) {
    const cause =
      error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
    throw new OperatorCliError(`cannot reach ${endpoint.origin}: ${cause}`);
  }
  const text = await response.text();
  let body: { result?: unknown; error?: { code: number; message: string; data?: unknown } } | undefined;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const message = (body as { error?: unknown } | undefined)?.error;
    throw new OperatorCliError(
      `HTTP ${response.status}: ${typeof message === 'string' ? message : text.slice(0, 200)}`,
    );
  }
  if (body === undefined) throw new OperatorCliError(`not a JSON-RPC answer: ${text.slice(0, 200)}`);
  if (body.error) {
    const data = body.error.data === undefined ? '' : ` ${JSON.stringify(body.error.data)}`;
    throw new OperatorCliError(`error ${body.error.code}: ${body.error.message}${data}`);
  }
  return body.result;
}
