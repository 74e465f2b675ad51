/**
 * The Horizon payment watcher: one `watchPayments` pipeline per receiving account, records handled in
 * order and in batches (a catch-up page at a time, `inBatches`): credits published to the transactions'
 * actors on the bus, then what could not be credited stored with the account's cursor. See README.md.
 *
 * - One active watcher per account across processes: a lease row (`leases`, `payments:<account>`)
 *   renewed every `leaseMs / 3`; an instance without the lease stands by and takes over once it expires
 *   (or at once when the holder releases it on `stop()`). Every commit checks the lease in its own
 *   database transaction (row locked), so an instance that lost its lease cannot move the cursor.
 * - The cursor moves only after the bus holds every credit before it. A failure while handling a batch
 *   (bus or database down, a bug) tears the pipeline down and restarts it, after backoff, from the stored
 *   cursor: nothing is skipped, and what is replayed is deduplicated (operation id as message id;
 *   unmatched idempotent).
 * - A fresh install (no stored cursor) starts from `now` by default: the account's latest payment,
 *   resolved through Horizon and stored at once, so a restart before the first payment misses nothing.
 *   `startFrom: 'beginning'` replays the account's whole history instead.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import {
  Subject,
  defer,
  exhaustMap,
  filter,
  firstValueFrom,
  from,
  of,
  retry,
  switchMap,
  take,
  tap,
  throwError,
  timer,
  type Subscription,
} from 'rxjs';
import type { EventBus } from '../bus/index.ts';
import type { Database, Executor } from '../db/database.ts';
import { getCursor, saveCursor } from '../db/horizon-cursors.repository.ts';
import { acquireLease, holdsLease, releaseLease } from '../db/leases.repository.ts';
import {
  backoffDelay,
  inBatches,
  watchPayments,
  type Backoff,
  type HorizonPaymentRecord,
  type PaymentSource,
  type ReconnectInfo,
} from '../../streams/index.ts';
import { outageLog } from '../outage-log.ts';
import { handlePaymentRecords, type RecordOutcome } from './handle-payment.ts';
import { HorizonUnreachableError, trackHorizonContact } from './horizon-contact.ts';

/** Structural subset of a pino logger. */
export interface WatcherLog {
  debug?(obj: object, msg?: string): void;
  info?(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface PaymentWatcherOptions {
  db: Kysely<Database>;
  /** Where credits go: the transactions' actors. */
  bus: Pick<EventBus, 'publishMany'>;
  source: PaymentSource<HorizonPaymentRecord>;
  /** The receiving (distribution) accounts to watch. */
  accounts: readonly string[];
  log: WatcherLog;
  /** Reconnect when Horizon sends nothing for this long. */
  silenceMs: number;
  /** Reconnection backoff, also used to restart after a failure to record an outcome. */
  backoff: Backoff;
  /** How long a lease holds without renewal. Default 30 s; renewed every third of it. */
  leaseMs?: number;
  /** Unique per process. Default `hostname:pid:random`. */
  holder?: string;
  /** Where a fresh install (no stored cursor) starts: `now` (default) or the account's first payment. */
  startFrom?: 'now' | 'beginning';
  /** Records per catch-up page (max 200), also the most records handled in one batch. */
  pageLimit?: number;
  /** Called after each record's outcome is committed (metrics, tests). */
  onOutcome?: (account: string, record: HorizonPaymentRecord, outcome: RecordOutcome) => void;
  /** Called before each reconnection to Horizon (metrics). */
  onReconnect?: (account: string, info: Omit<ReconnectInfo, 'error'>) => void;
  /** Default: a real clock. */
  clock?: () => Date;
  /** Where each account's cursor is kept. Default: Horizon's (`horizon_cursors`). */
  cursors?: CursorStore;
  /** Names the source in logs. Default `Horizon`. */
  sourceName?: string;
}

/** The stored position of each watched account, in its source's format. */
export interface CursorStore {
  get(db: Executor, account: string): Promise<string | null>;
  save(db: Executor, account: string, cursor: string, at: Date): Promise<void>;
}

const HORIZON_CURSORS: CursorStore = { get: getCursor, save: saveCursor };

export interface PaymentWatcher {
  /** Accounts this instance holds the lease of and watches now. */
  activeAccounts(): string[];
  /** Stops every pipeline, waits for the record in flight, saves the cursor and releases the leases. */
  stop(): Promise<void>;
}

/** Longest wait before restarting after a failure to record (database or bus away). */
const RESTART_MAX_MS = 5_000;

/** The lease is gone (expired or taken over): this instance must not record anything more. */
export class LeaseLostError extends Error {
  constructor(name: string, holder: string) {
    super(`lease ${name} is no longer held by ${holder}`);
    this.name = 'LeaseLostError';
  }
}

export function startPaymentWatcher(options: PaymentWatcherOptions): PaymentWatcher {
  const holder = options.holder ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const leaseMs = options.leaseMs ?? 30_000;
  if (!(leaseMs >= 30)) throw new RangeError(`leaseMs must be at least 30 ms (got ${leaseMs})`);
  const watchers = [...new Set(options.accounts)].map((account) =>
    watchAccount(options, account, holder, leaseMs),
  );
  return {
    activeAccounts: () => watchers.filter((w) => w.active()).map((w) => w.account),
    stop: async () => {
      await Promise.all(watchers.map((w) => w.stop()));
    },
  };
}

interface AccountWatcher {
  account: string;
  active(): boolean;
  stop(): Promise<void>;
}

function watchAccount(
  options: PaymentWatcherOptions,
  account: string,
  holder: string,
  leaseMs: number,
): AccountWatcher {
  const { db, bus, log, backoff, silenceMs } = options;
  const clock = options.clock ?? (() => new Date());
  const sourceName = options.sourceName ?? 'Horizon';
  const contact = trackHorizonContact(options.source, { db, account, log, clock, sourceName });
  const source = contact.source;
  const pageLimit = options.pageLimit ?? 200;
  const lease = `payments:${account}`;
  const cursors = options.cursors ?? HORIZON_CURSORS;
  const context = { account, holder };

  let stopped = false;
  let pipeline: Subscription | null = null;
  let inFlight: Promise<unknown> = Promise.resolve();
  let tick: Promise<unknown> = Promise.resolve();
  // Per account (in the fields of each line): each account's pipeline reports its own outage.
  const outage = outageLog(log, 'payment watcher');
  const leaseOutage = outageLog(log, 'payment watcher lease');

  /** Inside a database transaction: check the lease (locking it), then move the cursor. */
  async function commit(trx: Transaction<Database>, token: string): Promise<void> {
    const now = clock();
    if (!(await holdsLease(trx, lease, holder, now))) throw new LeaseLostError(lease, holder);
    await cursors.save(trx, account, token, now);
  }

  async function startCursor(): Promise<string> {
    const stored = await cursors.get(db, account);
    if (stored !== null) return stored;
    let start: string;
    if (options.startFrom === 'beginning') start = '0';
    else if (source.latest) start = (await firstValueFrom(from(source.latest(account)))) ?? '0';
    else return 'now'; // cannot be pinned down: not stored, so a restart asks again
    await db.transaction().execute((trx) => commit(trx, start));
    log.info?.(
      { ...context, cursor: start, startFrom: options.startFrom ?? 'now' },
      'no stored cursor: starting',
    );
    return start;
  }

  function activate(): void {
    let failures = 0;
    const run = defer(() => {
      // Records handed over by the pipeline and not yet handled. The next catch-up page is fetched while
      // the last one is handled (at most one page ahead), so Horizon's round trip overlaps the work.
      let queued = 0;
      const handled = new Subject<void>();
      const ready = () =>
        queued <= pageLimit
          ? of(true)
          : handled.pipe(
              filter(() => queued <= pageLimit),
              take(1),
            );
      return from(startCursor()).pipe(
        tap((cursor) => {
          outage.succeeded(context);
          log.info?.({ ...context, cursor }, 'watching payments');
        }),
        switchMap((cursor) =>
          watchPayments({
            account,
            cursor,
            source,
            backoff,
            silenceMs,
            ready,
            ...(options.pageLimit !== undefined ? { pageLimit: options.pageLimit } : {}),
            onReconnect: ({ error, ...info }) => {
              options.onReconnect?.(account, info);
              // Horizon sends no keep-alives: a silence reconnect on a quiet account is routine. A failure
              // is logged once per outage (by `contact`), not once per retry.
              const about = { ...context, ...info };
              if (info.cause === 'silence')
                log.debug?.(about, `${sourceName} payment stream silent; reconnecting`);
              else {
                contact.failed(error);
                log.debug?.(about, `${sourceName} payment stream failed; reconnecting`);
              }
            },
          }),
        ),
        tap(() => {
          queued += 1;
        }),
        inBatches(
          (records: HorizonPaymentRecord[]) =>
            defer(() => {
              const work = (async () => {
                await handle(records);
                queued -= records.length;
                failures = 0;
                outage.succeeded(context);
              })();
              inFlight = work.catch(() => undefined);
              return work;
            }).pipe(tap(() => handled.next())),
          { max: pageLimit },
        ),
      );
    }).pipe(
      retry({
        delay: (error: unknown) => {
          if (error instanceof LeaseLostError || stopped) return throwError(() => error);
          failures += 1;
          // Capped lower than Horizon's reconnects: a database or bus that is back is used within seconds.
          const delayMs = backoffDelay(failures, {
            ...backoff,
            maxMs: Math.min(backoff.maxMs, RESTART_MAX_MS),
          });
          // An unreachable Horizon is reported once per outage by the contact tracker.
          if (!(error instanceof HorizonUnreachableError)) {
            outage.failed(error, 'failed; restarting from the stored cursor', { ...context, delayMs });
          }
          return timer(delayMs);
        },
      }),
    );
    pipeline = run.subscribe({
      error: (error: unknown) => {
        pipeline = null;
        if (!stopped) log.warn({ ...context, err: error }, 'payment watcher lost its lease; standing by');
      },
    });
  }

  async function handle(records: HorizonPaymentRecord[]): Promise<void> {
    const outcomes = await handlePaymentRecords(
      { db, bus, account, commit: (trx, last) => commit(trx, last.paging_token) },
      records,
    );
    records.forEach((record, index) => {
      const outcome = outcomes[index]!;
      const about = { ...context, operationId: record.id, pagingToken: record.paging_token, ...outcome };
      if (outcome.outcome === 'ignored') log.debug?.(about, 'payment record ignored');
      else if (outcome.outcome === 'unmatched' && !outcome.alreadyStored)
        log.warn(about, 'payment stored as unmatched');
      else if (outcome.outcome === 'published') log.info?.(about, 'payment handed to its transaction');
      options.onOutcome?.(account, record, outcome);
    });
  }

  async function deactivate(): Promise<void> {
    pipeline?.unsubscribe();
    pipeline = null;
    await inFlight;
  }

  async function leaseTick(): Promise<void> {
    if (stopped) return;
    const held = await acquireLease(db, { name: lease, holder, ttlMs: leaseMs, now: clock() });
    if (stopped) return;
    if (held && pipeline === null) {
      log.info?.({ ...context }, 'payment watcher lease acquired');
      activate();
    } else if (!held && pipeline !== null) {
      log.warn({ ...context }, 'payment watcher lease lost; standing by');
      await deactivate();
    }
  }

  const ticks = timer(0, Math.max(10, Math.floor(leaseMs / 3)))
    .pipe(
      exhaustMap(() => {
        tick = leaseTick().then(
          () => leaseOutage.succeeded(context),
          (error: unknown) => leaseOutage.failed(error, 'lease check failed', context),
        );
        return from(tick);
      }),
    )
    .subscribe();

  return {
    account,
    active: () => pipeline !== null && !stopped,
    async stop() {
      if (stopped) return;
      stopped = true;
      ticks.unsubscribe();
      await tick;
      await deactivate();
      await releaseLease(db, lease, holder).catch((error: unknown) => {
        log.warn({ ...context, err: error }, 'could not release the payment watcher lease');
      });
      log.info?.({ ...context }, 'payment watcher stopped');
    },
  };
}
