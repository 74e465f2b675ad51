/**
 * Interval workers: a tick every `intervalMs`, and on each tick one pass that finds due work (payouts to
 * request, payouts to poll, transactions to expire) and hands events to the actor host. The pass itself is
 * injected; this file owns only the timing rules every worker shares:
 *
 * - Passes never overlap: a tick that comes while a pass runs is dropped (`exhaustMap`), so a slow pass
 *   delays the next one instead of piling work up.
 * - A failed pass is reported to `onError` and the loop goes on: one database hiccup never stops a worker
 *   (the weakness of a watcher that needs an outside supervisor).
 * - The first pass runs at once (after `initialDelayMs`), not one interval later.
 */
import {
  EMPTY,
  catchError,
  defer,
  exhaustMap,
  timer,
  type Observable,
  type ObservableInput,
  type SchedulerLike,
} from 'rxjs';

export interface WorkerLoopOptions<T> {
  /** Time between ticks. */
  intervalMs: number;
  /** One pass; its values (e.g. counts) are emitted by the loop. Called once per accepted tick. */
  pass: () => ObservableInput<T>;
  /** A pass that failed; the loop carries on with the next tick. */
  onError?: (error: unknown) => void;
  /** Delay before the first tick. Default 0. */
  initialDelayMs?: number;
  /** Tests pass a TestScheduler. */
  scheduler?: SchedulerLike;
}

/** The loop of one worker: emits what each pass emits; never errors, never completes on its own. */
export function workerLoop<T>(options: WorkerLoopOptions<T>): Observable<T> {
  const { intervalMs, pass, onError, initialDelayMs = 0, scheduler } = options;
  if (!(intervalMs > 0)) throw new Error(`workerLoop: intervalMs must be positive (got ${intervalMs})`);
  return timer(initialDelayMs, intervalMs, scheduler).pipe(
    exhaustMap(() =>
      defer(pass).pipe(
        catchError((error: unknown) => {
          onError?.(error);
          return EMPTY;
        }),
      ),
    ),
  );
}
