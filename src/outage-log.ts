/**
 * How a loop that retries (a worker, a relay, the watcher, the actor host, a lease renewal) reports an
 * outage of the database or the bus: one line when it starts, one when it ends, nothing per retry in
 * between (at debug level only). Any other failure is a bug and is logged in full every time.
 */
import { BusClosedError, BusTimeoutError, BusUnavailableError } from './bus/event-bus.ts';
import { isDatabaseUnavailable } from './db/unavailable.ts';

/** Structural subset of a pino logger. */
export interface OutageLogTarget {
  debug?(obj: object, msg?: string): void;
  info?(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** True when `error` means the database or the bus is away: waiting, not fixing, makes it pass. */
export function isOutage(error: unknown): boolean {
  return (
    isDatabaseUnavailable(error) ||
    error instanceof BusUnavailableError ||
    error instanceof BusTimeoutError ||
    error instanceof BusClosedError
  );
}

export interface OutageLog {
  /**
   * A failed attempt. An outage is logged once (warn, the error's message, no stack) until `succeeded`;
   * anything else at error with the full error. `message` says what failed and that it is retried.
   */
  failed(error: unknown, message: string, fields?: object): void;
  /** An attempt that worked: ends an outage that was reported, with one info line. */
  succeeded(fields?: object): void;
}

/** One per loop (or per account, partition…): each reports its own outage once. */
export function outageLog(log: OutageLogTarget, what: string): OutageLog {
  let failures = 0;
  let since: number | null = null;
  return {
    failed(error, message, fields = {}) {
      if (!isOutage(error)) {
        log.error({ ...fields, err: error }, `${what}: ${message}`);
        return;
      }
      failures += 1;
      const detail = { ...fields, error: error instanceof Error ? error.message : String(error), failures };
      if (since === null) {
        since = Date.now();
        log.warn(detail, `${what}: ${message} (the database or the bus is unavailable; retrying quietly)`);
      } else {
        log.debug?.(detail, `${what}: ${message}`);
      }
    },
    succeeded(fields = {}) {
      if (since === null) return;
      log.info?.({ ...fields, failures, downMs: Date.now() - since }, `${what}: recovered`);
      since = null;
      failures = 0;
    },
  };
}
