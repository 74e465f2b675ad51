/**
 * Which errors mean "the database is away" (unreachable, restarting, shutting down, pool exhausted) rather
 * than "this query is wrong": the first are waited out and answered 503, the second are bugs.
 *
 * Classified by shape, not by class, so the same test holds for `pg`, `pg-pool`, Node's sockets and PGlite.
 */

/** Node socket errors of a server that is down or went away. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs of an outage: class 08 (connection exception), class 53 (insufficient resources: disk full,
 * out of memory, too many connections), 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03
 * cannot_connect_now (starting up or in recovery).
 */
const OUTAGE_SQLSTATES = /^(08...|53...|57P01|57P02|57P03)$/;

/** What `pg`, `pg-pool` and PGlite say when the connection is gone or cannot be had. */
const OUTAGE_MESSAGES = [
  /connection terminated/i, // pg: "Connection terminated unexpectedly", "… due to connection timeout"
  /timeout exceeded when trying to connect/i, // pg-pool: connectionTimeoutMillis passed
  /client has encountered a connection error and is not queryable/i,
  /cannot use a pool after calling end/i,
  /pglite is closed/i,
];

/** True when `error` (or its cause, or any error it aggregates) says the database cannot be reached. */
export function isDatabaseUnavailable(error: unknown): boolean {
  return some(error, (e) => {
    const code = typeof e.code === 'string' ? e.code : undefined;
    if (code !== undefined && (SOCKET_CODES.has(code) || OUTAGE_SQLSTATES.test(code))) return true;
    const message = typeof e.message === 'string' ? e.message : '';
    return OUTAGE_MESSAGES.some((pattern) => pattern.test(message));
  });
}

/** Walks `cause` chains and AggregateError members (a refused IPv4 + IPv6 connect is one). */
function some(
  error: unknown,
  test: (e: { code?: unknown; message?: unknown }) => boolean,
  depth = 0,
): boolean {
  if (typeof error !== 'object' || error === null || depth > 5) return false;
  const e = error as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (test(e)) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => some(inner, test, depth + 1))) return true;
  return some(e.cause, test, depth + 1);
}
