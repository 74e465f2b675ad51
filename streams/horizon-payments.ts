/**
 * The Horizon payment pipeline of one watched account: catch up through REST from a stored cursor, then
 * follow the live stream; reconnect in-process on any failure; never complete, never error.
 *
 * Guarantees (each has a marble test in `test/unit/streams/horizon-payments.test.ts`):
 * - Resume exactly: every (re)connection starts from the paging token of the last record this pipeline
 *   emitted (or the cursor it was given), so nothing after it is skipped and nothing before it is asked for
 *   again. A record the source sends twice or out of order (token not after the last one) is dropped, so
 *   the resume point never moves back.
 * - Order: records are emitted in the order the source delivers them (REST pages ascending, then the
 *   stream), one connection at a time.
 * - Backoff: after an error (network, 5xx, stream error, stream that ends) the next connection waits
 *   `initialMs`, then `factor` times longer after each further failure, up to `maxMs`; any record or
 *   keep-alive resets it.
 * - Silence: when nothing (no record, no keep-alive) arrives for `silenceMs` (a page request included),
 *   the connection is torn down and a new one starts at once. Horizon itself sends no keep-alives, so on
 *   a quiet account this reconnects every `silenceMs`; catch-up from the last token makes that lossless.
 *
 * Delivery is at least once across process restarts: the consumer stores the cursor with the outcome of
 * each record and dedupes on the operation id.
 */
import {
  asyncScheduler,
  concat,
  defer,
  EMPTY,
  expand,
  filter,
  from,
  ignoreElements,
  mergeMap,
  retry,
  take,
  tap,
  throwError,
  timeout,
  timer,
  type Observable,
  type ObservableInput,
  type SchedulerLike,
} from 'rxjs';

/** A keep-alive from the source: proof the connection is alive, carrying no record. */
export interface Heartbeat {
  readonly kind: 'heartbeat';
}

export const HEARTBEAT: Heartbeat = Object.freeze({ kind: 'heartbeat' });

export function isHeartbeat(value: unknown): value is Heartbeat {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'heartbeat';
}

/** Anything Horizon pages: operation records carry their position as `paging_token`. */
export interface Paged {
  readonly paging_token: string;
}

export interface PaymentPage<R extends Paged> {
  /** Ascending by paging token. */
  records: readonly R[];
  /** Cursor of the next page; default: the last record's paging token. */
  next?: string;
}

/**
 * Where payments come from: Horizon's `/accounts/:account/payments?join=transactions&order=asc`.
 * Promises and Observables are both accepted (tests pass cold Observables on a TestScheduler).
 */
export interface PaymentSource<R extends Paged> {
  /** Up to `limit` records strictly after `cursor`, ascending (`cursor` may be `now`). */
  page(account: string, cursor: string, limit: number): ObservableInput<PaymentPage<R>>;
  /** Live records strictly after `cursor`, plus keep-alives if the source has any. Closed on unsubscribe. */
  stream(account: string, cursor: string): ObservableInput<R | Heartbeat>;
  /** The paging token of the account's latest payment, or null if it has none (resolves `now`). */
  latest?(account: string): ObservableInput<string | null>;
}

export interface Backoff {
  /** Delay before the first reconnection after an error. */
  initialMs: number;
  /** Upper bound of the delay. */
  maxMs: number;
  /** Each further consecutive failure multiplies the delay by this. Default 2. */
  factor?: number;
}

export interface ReconnectInfo {
  /** `error`: the source failed; `silence`: nothing arrived for `silenceMs`; `ended`: the stream completed. */
  cause: 'error' | 'silence' | 'ended';
  error: unknown;
  /** Consecutive failures so far (silence does not count). */
  failures: number;
  delayMs: number;
  /** Where the next connection resumes. */
  cursor: string;
}

export interface WatchPaymentsOptions<R extends Paged> {
  account: string;
  /** Paging token to resume after (exclusive), or `now`. */
  cursor: string;
  source: PaymentSource<R>;
  backoff: Backoff;
  silenceMs: number;
  /** Default: asyncScheduler. Tests pass a TestScheduler's to run in virtual time. */
  scheduler?: SchedulerLike;
  /** Records per REST page, at most 200 (Horizon's maximum). Default 200. */
  pageLimit?: number;
  /**
   * Awaited before each further catch-up page: lets the consumer bound what it holds in memory while it
   * works through a backlog (e.g. wait until it has processed what it was given). Its wait does not count
   * as silence.
   */
  ready?: () => ObservableInput<unknown>;
  /** Called before each reconnection (for logs and metrics). */
  onReconnect?: (info: ReconnectInfo) => void;
}

/** Nothing arrived for `silenceMs`: the connection is presumed dead. */
export class SilenceError extends Error {
  readonly silenceMs: number;
  constructor(silenceMs: number) {
    super(`no record or keep-alive from Horizon for ${silenceMs} ms`);
    this.name = 'SilenceError';
    this.silenceMs = silenceMs;
  }
}

/** The live stream completed, which a Horizon stream never should: reconnect. */
export class StreamEndedError extends Error {
  constructor() {
    super('the Horizon stream ended');
    this.name = 'StreamEndedError';
  }
}

/** The delay before the next connection after `failures` consecutive failures (1 → `initialMs`). */
export function backoffDelay(failures: number, backoff: Backoff): number {
  const delay = backoff.initialMs * (backoff.factor ?? 2) ** Math.max(0, failures - 1);
  return Math.min(Number.isFinite(delay) ? delay : backoff.maxMs, backoff.maxMs);
}

/**
 * True when `token` comes after `last`. Horizon paging tokens compare as numbers, Stellar RPC event ids
 * (`<19 digits>-<10 digits>`) as strings; tokens of neither kind, or of two kinds (e.g. `now`), always pass.
 */
export function isAfter(token: string, last: string): boolean {
  const rpcId = /^\d{19}-\d{10}$/;
  if (rpcId.test(token) && rpcId.test(last)) return token > last;
  if (!/^\d+$/.test(token) || !/^\d+$/.test(last)) return true;
  return BigInt(token) > BigInt(last);
}

/**
 * The payments of `account` from `cursor` on, forever: catch-up pages, then the live stream, reconnecting
 * with backoff on errors and at once on silence. Emits records only (keep-alives are swallowed).
 *
 * @example
 * watchPayments({ account, cursor: '123', source, backoff: { initialMs: 1_000, maxMs: 60_000 }, silenceMs: 30_000 })
 *   .pipe(concatMap((record) => handle(record)))
 *   .subscribe();
 */
export function watchPayments<R extends Paged>(options: WatchPaymentsOptions<R>): Observable<R> {
  const { account, source, backoff, silenceMs, onReconnect } = options;
  const scheduler = options.scheduler ?? asyncScheduler;
  const pageLimit = options.pageLimit ?? 200;
  if (!(silenceMs > 0)) throw new RangeError(`silenceMs must be positive (got ${silenceMs})`);
  if (!Number.isInteger(pageLimit) || pageLimit < 1 || pageLimit > 200) {
    throw new RangeError(`pageLimit must be an integer from 1 to 200 (got ${pageLimit})`);
  }
  if (!(backoff.initialMs >= 0) || !(backoff.maxMs >= backoff.initialMs) || (backoff.factor ?? 2) < 1) {
    throw new RangeError('backoff needs 0 <= initialMs <= maxMs and factor >= 1');
  }

  const silence = () => throwError(() => new SilenceError(silenceMs));

  return defer(() => {
    // Per subscription: where the next connection resumes, and the consecutive failures so far.
    let last = options.cursor;
    let failures = 0;

    const fetchPage = (cursor: string) =>
      defer(() => from(source.page(account, cursor, pageLimit))).pipe(
        take(1),
        timeout({ first: silenceMs, with: silence, scheduler }),
      );

    const gate = (): Observable<never> =>
      options.ready ? defer(() => from(options.ready!())).pipe(take(1), ignoreElements()) : EMPTY;

    const catchUp = (cursor: string): Observable<R> =>
      fetchPage(cursor).pipe(
        expand(
          (page, _index) =>
            page.records.length < pageLimit
              ? EMPTY
              : concat(gate(), fetchPage(page.next ?? page.records[page.records.length - 1]!.paging_token)),
          1,
        ),
        mergeMap((page) => page.records),
      );

    const follow = (cursor: string) =>
      defer(() => from(source.stream(account, cursor))).pipe(
        timeout({ each: silenceMs, with: silence, scheduler }),
      );

    const connection = defer(() =>
      concat(
        catchUp(last),
        defer(() => follow(last)),
        defer(() => throwError(() => new StreamEndedError())),
      ),
    );

    return connection.pipe(
      tap(() => {
        failures = 0;
      }),
      filter((item): item is R => !isHeartbeat(item) && isAfter(item.paging_token, last)),
      tap((record) => {
        last = record.paging_token;
      }),
      retry({
        delay: (error: unknown) => {
          const cause =
            error instanceof SilenceError ? 'silence' : error instanceof StreamEndedError ? 'ended' : 'error';
          if (cause !== 'silence') failures += 1;
          const delayMs = cause === 'silence' ? 0 : backoffDelay(failures, backoff);
          onReconnect?.({ cause, error, failures, delayMs, cursor: last });
          return timer(delayMs, scheduler);
        },
      }),
    );
  });
}
