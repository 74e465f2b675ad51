/**
 * The machine viewer's live feed: one poller per app, shared by every server-sent-events connection.
 *
 * - Polls the event log for rows after the last one seen every `pollIntervalMs`, one poll at a time (a slow
 *   poll makes the next tick wait, never overlap: `workerLoop`'s rules).
 * - Re-reads the counts when new rows arrived, and every `countsRefreshMs` anyway: bigserial ids are taken
 *   before commit, so a row can become visible after a higher id was seen; the poller never goes back for it,
 *   but the periodic counts put the numbers right.
 * - Emits only when something changed: transitions, or counts different from the last counts emitted.
 * - Polls only while someone listens (refCount): the first subscriber starts it, the last one stops it, and
 *   the next one starts afresh from the newest row.
 * - Never errors: a failed poll is reported to `onError` and the next tick tries again.
 */
import {
  asyncScheduler,
  catchError,
  defer,
  EMPTY,
  filter,
  from,
  map,
  mergeMap,
  of,
  ReplaySubject,
  scan,
  share,
  takeUntil,
  type Observable,
  type ObservableInput,
  type SchedulerLike,
} from 'rxjs';
import { workerLoop } from '../../streams/workers.ts';
import type { ViewerCounts, ViewerTransition } from './api.ts';

export const POLL_INTERVAL_MS = 1_000;
export const COUNTS_REFRESH_MS = 15_000;
/** Rows read per poll at most; a busier log catches up over the next ticks. */
export const TRANSITIONS_PER_POLL = 500;

/** One emission: new transitions (oldest first), and the counts when they changed. */
export interface LiveUpdate {
  counts?: ViewerCounts;
  transitions: ViewerTransition[];
}

/** Where the feed reads from (the database in the app, plain observables in tests). */
export interface LiveReader {
  counts(): ObservableInput<ViewerCounts>;
  transitionsSince(afterId: string, limit: number): ObservableInput<ViewerTransition[]>;
}

export interface LiveOptions {
  reader: LiveReader;
  pollIntervalMs?: number;
  countsRefreshMs?: number;
  batchSize?: number;
  scheduler?: SchedulerLike;
  /** A failed poll; the feed goes on. */
  onError?: (error: unknown) => void;
  /** A read that worked (after failures: the outage is over). */
  onSuccess?: () => void;
}

/** Counts that say the same (the time they were read aside). */
export function sameCounts(a: ViewerCounts | undefined, b: ViewerCounts | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.machine !== b.machine || a.total !== b.total || a.latestEventId !== b.latestEventId) return false;
  const keys = Object.keys(a.counts);
  return keys.length === Object.keys(b.counts).length && keys.every((k) => a.counts[k] === b.counts[k]);
}

/** The feed, cold and unshared: each subscription polls on its own. Apps use `createLiveFeed`. */
export function liveUpdates(options: LiveOptions): Observable<LiveUpdate> {
  const {
    reader,
    pollIntervalMs = POLL_INTERVAL_MS,
    countsRefreshMs = COUNTS_REFRESH_MS,
    batchSize = TRANSITIONS_PER_POLL,
    scheduler = asyncScheduler,
    onError = () => {},
    onSuccess = () => {},
  } = options;

  const polls = defer(() => {
    // Per subscription: the newest row seen (null until the first counts tell), and when counts were read.
    let cursor: string | null = null;
    let countsReadAt = -Infinity;
    let countsStale = false;

    const readCounts = (transitions: ViewerTransition[]): Observable<LiveUpdate> =>
      from(reader.counts()).pipe(
        map((counts) => {
          onSuccess();
          countsReadAt = scheduler.now();
          countsStale = false;
          cursor ??= counts.latestEventId;
          return { counts, transitions };
        }),
      );

    const poll = (): Observable<LiveUpdate> => {
      if (cursor === null) return readCounts([]);
      return from(reader.transitionsSince(cursor, batchSize)).pipe(
        mergeMap((transitions) => {
          onSuccess();
          const last = transitions.at(-1);
          if (last !== undefined) {
            cursor = last.id;
            countsStale = true;
          }
          if (!countsStale && scheduler.now() - countsReadAt < countsRefreshMs) return of({ transitions });
          // The transitions are delivered even when the counts fail; the next tick reads counts again.
          return readCounts(transitions).pipe(
            catchError((error: unknown) => {
              report(error);
              return transitions.length > 0 ? of({ transitions }) : EMPTY;
            }),
          );
        }),
      );
    };

    const report = (error: unknown) => {
      try {
        onError(error);
      } catch {
        // a reporter that throws must not stop the feed
      }
    };

    return workerLoop({ intervalMs: pollIntervalMs, pass: poll, onError: report, scheduler });
  });

  return polls.pipe(
    scan<LiveUpdate, { last: ViewerCounts | undefined; out: LiveUpdate | null }>(
      (state, update) => {
        const changed = update.counts !== undefined && !sameCounts(update.counts, state.last);
        const last = changed ? update.counts : state.last;
        if (!changed && update.transitions.length === 0) return { last, out: null };
        return {
          last,
          out: changed
            ? { counts: update.counts!, transitions: update.transitions }
            : { transitions: update.transitions },
        };
      },
      { last: undefined, out: null },
    ),
    map((state) => state.out),
    filter((out): out is LiveUpdate => out !== null),
  );
}

export interface LiveFeed {
  /** Hot while subscribed: polling starts with the first subscriber and stops after the last. */
  readonly updates: Observable<LiveUpdate>;
  /** Stops for good: current subscribers complete, later ones complete at once. */
  stop(): void;
}

/** The shared feed of one app. */
export function createLiveFeed(options: LiveOptions): LiveFeed {
  const stopped = new ReplaySubject<void>(1);
  const updates = liveUpdates(options).pipe(takeUntil(stopped), share());
  return {
    updates,
    stop() {
      stopped.next();
    },
  };
}
