/**
 * The outbox relay: carries out the effects the actor host committed with each state change.
 *
 * Each pass claims due rows (a lease, so a crashed relay's rows are taken over when it expires), hands
 * each to the handler for its kind, and settles it: done on success, back to pending with exponential
 * backoff on failure, failed for good after `maxAttempts` (or at once for a `PermanentEffectError`). The
 * delivery state stays visible in the outbox table (`state`, `attempts`, `last_error`, `next_attempt_at`).
 *
 * Guarantees:
 * - At least once: a row is settled only after its handler returned. A relay that dies mid-delivery, or
 *   fails to record the outcome, leaves the row in flight until the lease expires; then it is redone.
 * - Never twice at once: claims are atomic (SKIP LOCKED) and settling is fenced by `workerId`, so two
 *   relays never hold the same row, and one whose lease was taken over cannot settle it.
 * - Per-transaction order: rows are claimed `inOrder`, so a transaction's later effect of one kind (e.g.
 *   `status_changed`) waits while an earlier one of the same kind is pending or in flight; the sending
 *   anchor sees statuses in the order they happened. A row that failed for good stops holding back later
 *   ones.
 * - Only the kinds it has handlers for: other rows (e.g. `execute_payout`, owned by the payout worker)
 *   are never claimed.
 * - A handler that throws or hangs (per-call timeout) is a failed attempt, never a stopped loop.
 */
import type { Kysely } from 'kysely';
import { merge, timer, type Observable, type Subscription } from 'rxjs';
import type { Database } from '../db/database.ts';
import { claimDue, markDone, markFailed } from '../db/outbox.repository.ts';
import type { OutboxRow } from '../db/outbox.table.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { outageLog } from '../outage-log.ts';

export interface EffectContext {
  /** The relay's clock, read when the handler is called. */
  now: Date;
  /** Aborted when the per-call timeout passes (or the handler is otherwise abandoned). */
  signal: AbortSignal;
  /** 1 for the first attempt. */
  attempt: number;
}

/** Carries out one outbox row. Resolves when done; throws to have it retried (or failed for good). */
export type EffectHandler = (row: OutboxRow, context: EffectContext) => Promise<void>;

/** Thrown by a handler when retrying cannot help (e.g. a malformed payload): the row fails at once. */
export class PermanentEffectError extends Error {
  override name = 'PermanentEffectError';
}

export interface BackoffOptions {
  /** Delay after the first failed attempt. Default 5 s. */
  initialMs?: number;
  /** Each further failure multiplies the delay by this. Default 2. */
  factor?: number;
  /** Upper bound of the delay. Default 1 h. */
  maxMs?: number;
}

/** Structural subset of a pino logger. */
export interface RelayLog {
  debug?(obj: object, msg?: string): void;
  info?(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface OutboxRelayOptions {
  db: Kysely<Database>;
  handlers: Readonly<Record<string, EffectHandler>>;
  /** Unique per relay process; fences settling to the holder of the lease. */
  workerId: string;
  /** Time between passes of the background loop. */
  intervalMs: number;
  /** Rows claimed per round. */
  batchSize: number;
  /** How long a claim holds; must exceed `handlerTimeoutMs`. */
  leaseMs: number;
  backoff?: BackoffOptions;
  /** Attempts before a row fails for good (at least 1). */
  maxAttempts: number;
  /** Per-call handler timeout. Default: 30 s, or half the lease if that is shorter. */
  handlerTimeoutMs?: number;
  /** A pass claims again while the last round found work, at most this many rounds. Default 10. */
  maxRoundsPerPass?: number;
  /** Default: a real clock. Tests inject one they advance. */
  clock?: () => Date;
  log: RelayLog;
  /** Start the background loop. Default true; with false, only `runOnce` drives the relay (tests). */
  autoStart?: boolean;
  /**
   * A pass as soon as this emits (the bus signalling new outbox rows), besides the interval, which stays
   * as the safety net. A signal during a pass runs another pass right after it.
   */
  wake?: Observable<unknown>;
}

export interface OutboxRelay {
  /** Runs one pass now (after any pass in flight); resolves with the number of rows it settled. */
  runOnce(): Promise<number>;
  /** Stops the loop and waits for the pass in flight. Idempotent. */
  stop(): Promise<void>;
}

/** Longest pause between tries to record an outcome while the database is away. */
const RECORD_RETRY_MAX_MS = 2_000;

const DEFAULT_BACKOFF: Required<BackoffOptions> = { initialMs: 5_000, factor: 2, maxMs: 3_600_000 };

/** The delay before attempt `attempts + 1`, after `attempts` failed ones. */
export function backoffDelay(attempts: number, backoff: BackoffOptions = {}): number {
  const { initialMs, factor, maxMs } = { ...DEFAULT_BACKOFF, ...backoff };
  const delay = initialMs * factor ** Math.max(0, attempts - 1);
  return Math.min(Number.isFinite(delay) ? delay : maxMs, maxMs);
}

export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { db, handlers, workerId, batchSize, leaseMs, maxAttempts, log } = options;
  const clock = options.clock ?? (() => new Date());
  const handlerTimeoutMs = options.handlerTimeoutMs ?? Math.min(30_000, Math.floor(leaseMs / 2));
  const maxRounds = options.maxRoundsPerPass ?? 10;
  const kinds = Object.keys(handlers);
  if (handlerTimeoutMs >= leaseMs) {
    throw new Error(
      `outbox relay: handlerTimeoutMs (${handlerTimeoutMs}) must be shorter than leaseMs (${leaseMs}), ` +
        'or a slow delivery could be taken over and sent twice at once',
    );
  }
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new Error(`outbox relay: maxAttempts must be a positive integer (got ${maxAttempts})`);
  }

  const outage = outageLog(log, 'outbox relay');
  // Passes run one at a time: the loop's and any `runOnce` caller's are chained.
  let tail: Promise<unknown> = Promise.resolve();
  let stopped = false;

  function runOnce(): Promise<number> {
    const pass = tail.then(() => pass_());
    tail = pass.catch(() => undefined);
    return pass;
  }

  async function pass_(): Promise<number> {
    let settled = 0;
    for (let round = 0; round < maxRounds; round++) {
      const rows = await claimDue(db, {
        workerId,
        limit: batchSize,
        leaseMs,
        now: clock(),
        kinds,
        inOrder: true,
      });
      if (rows.length === 0) break;
      // At most one row per (transaction, kind) is claimed at a time, so the batch can run in parallel.
      const results = await Promise.all(rows.map(carryOut));
      settled += results.filter(Boolean).length;
      if (stopped) break;
    }
    return settled;
  }

  async function carryOut(row: OutboxRow): Promise<boolean> {
    const handler = Object.hasOwn(handlers, row.kind) ? handlers[row.kind] : undefined;
    let failure: { message: string; permanent: boolean } | null = null;
    if (handler === undefined) {
      failure = { message: `no handler for effect kind "${row.kind}"`, permanent: false };
    } else {
      try {
        await withTimeout(handler, row, { now: clock(), attempt: row.attempts }, handlerTimeoutMs);
      } catch (error) {
        failure = { message: errorMessage(error), permanent: error instanceof PermanentEffectError };
      }
    }
    const fields = {
      outboxId: row.id,
      kind: row.kind,
      transactionId: row.transaction_id,
      attempt: row.attempts,
    };
    // While the database is away the outcome is recorded again (with backoff) rather than dropped: a
    // dropped one leaves the row in flight until its lease expires, and a payout lease is minutes.
    const record = async (): Promise<boolean> => {
      if (failure === null) {
        const held = await markDone(db, row.id, workerId, clock());
        if (!held) log.warn(fields, 'outbox effect done, but its lease had been taken over');
        else log.debug?.(fields, 'outbox effect done');
        return held;
      }
      const final = failure.permanent || row.attempts >= maxAttempts;
      const retryAt = final
        ? null
        : new Date(clock().getTime() + backoffDelay(row.attempts, options.backoff));
      const held = await markFailed(db, row.id, failure.message, retryAt, workerId);
      const detail = { ...fields, error: failure.message, retryAt };
      if (!held) log.warn(detail, 'outbox effect failed, and its lease had been taken over');
      else if (final) log.error(detail, 'outbox effect failed for good');
      else log.warn(detail, 'outbox effect failed; will retry');
      return held;
    };
    for (let retries = 0; ; retries++) {
      try {
        return await record();
      } catch (error) {
        const leaseLeft = (row.claim_expires_at?.getTime() ?? 0) - clock().getTime();
        if (isDatabaseUnavailable(error) && !stopped && leaseLeft > RECORD_RETRY_MAX_MS) {
          outage.failed(error, 'could not record the outcome of an outbox effect; retrying', fields);
          await new Promise((resolve) =>
            setTimeout(resolve, Math.min(RECORD_RETRY_MAX_MS, 100 * 2 ** retries)),
          );
          continue;
        }
        // Not recorded: the row stays in flight until its lease expires, then is redone.
        log.error({ ...fields, err: error }, 'could not record the outcome of an outbox effect');
        return false;
      }
    }
  }

  let subscription: Subscription | undefined;
  if (options.autoStart ?? true) {
    // `running` is the only guard against overlapping passes: a trigger while it is set asks for one more
    // pass, and the loop checks that and clears `running` in one synchronous step, so no trigger can fall
    // between the end of a pass and the next (as one could while an operator like exhaustMap still held
    // the finished pass for a few microtasks).
    let running = false;
    let again = false;
    const passes = async () => {
      running = true;
      try {
        do {
          again = false;
          await runOnce();
        } while (again && !stopped);
        outage.succeeded({ workerId });
      } catch (error) {
        outage.failed(error, 'pass failed', { workerId });
      } finally {
        running = false;
      }
    };
    const triggers = options.wake
      ? merge(timer(0, options.intervalMs), options.wake)
      : timer(0, options.intervalMs);
    subscription = triggers.subscribe(() => {
      if (running) again = true;
      else void passes();
    });
  }

  async function stop(): Promise<void> {
    stopped = true;
    subscription?.unsubscribe();
    subscription = undefined;
    await tail;
  }

  return { runOnce, stop };
}

/** Runs a handler with an abort signal and a deadline; a handler that ignores the signal is abandoned. */
async function withTimeout(
  handler: EffectHandler,
  row: OutboxRow,
  context: Omit<EffectContext, 'signal'>,
  timeoutMs: number,
): Promise<void> {
  const controller = new AbortController();
  let timeout: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timeout = setTimeout(() => {
      const error = new Error(`handler timed out after ${timeoutMs} ms`);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    await Promise.race([
      Promise.resolve().then(() => handler(row, { ...context, signal: controller.signal })),
      deadline,
    ]);
  } finally {
    clearTimeout(timeout);
  }
}

function errorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message || 'unknown error').slice(0, 1000);
}
