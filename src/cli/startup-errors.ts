/**
 * What `mooring` prints when it cannot start: one line for the mistakes an operator makes (a bad config, a
 * database or NATS server that cannot be reached, an unknown machine), the whole error for anything else.
 */
import { ConfigError } from '../config/index.ts';
import { UnknownMachineError } from './machines-export.ts';

/** The URLs the failed command was configured with (null: not loaded yet, or not used). */
export interface StartupTargets {
  databaseUrl: string | null;
  natsUrl: string | null;
}

/** PostgreSQL error classes that mean "cannot connect": connection exceptions, auth, no such database. */
const CONNECT_SQLSTATES = /^(08...|28...|3D000|57P03|53300)$/;

export function startupErrorLine(error: unknown, targets: StartupTargets | null): string | null {
  if (error instanceof ConfigError || error instanceof UnknownMachineError) return error.message;
  const chain = causes(error);
  if (
    targets?.natsUrl &&
    chain.some((e) => e.name === 'ConnectionError' || e.name === 'ClosedConnectionError')
  ) {
    return `NATS_URL: cannot connect to ${redactUrl(targets.natsUrl)} (${innermost(chain)})`;
  }
  if (targets?.databaseUrl && chain.some(isConnectionFailure)) {
    return `DATABASE_URL: cannot connect to ${redactUrl(targets.databaseUrl)} (${innermost(chain)})`;
  }
  return null;
}

function isConnectionFailure(error: Error): boolean {
  const { syscall, code } = error as { syscall?: unknown; code?: unknown };
  return typeof syscall === 'string' || (typeof code === 'string' && CONNECT_SQLSTATES.test(code));
}

/** The error and its causes, outermost first. */
function causes(error: unknown): Error[] {
  const chain: Error[] = [];
  for (let e = error; e instanceof Error && chain.length < 10; e = e.cause) chain.push(e);
  return chain;
}

function innermost(chain: readonly Error[]): string {
  return chain.at(-1)?.message.split('\n')[0] ?? 'unknown error';
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}
