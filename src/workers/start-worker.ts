import type { SchedulerLike } from 'rxjs';
import { workerLoop } from '../../streams/workers.ts';
import { runExecuteOutgoingPass, type ExecuteOutgoingDeps } from './execute-outgoing.ts';
import { runExpirePass, type ExpireDeps } from './expire.ts';
import { runPollOutgoingPass, type PollOutgoingDeps } from './poll-outgoing.ts';
import { runReviewCustomersPass, type ReviewCustomersDeps } from './review-customers.ts';
import { outageLog } from '../outage-log.ts';
import type { WorkerLog } from './worker-deps.ts';

export type WorkerKind = 'execute-outgoing' | 'poll-outgoing' | 'expire' | 'review-customers';

export interface WorkerDepsByKind {
  'execute-outgoing': ExecuteOutgoingDeps;
  'poll-outgoing': PollOutgoingDeps;
  expire: ExpireDeps;
  'review-customers': ReviewCustomersDeps;
}

export interface WorkerLoopSettings {
  /** Time between passes (CLI `--interval` seconds × 1000). A pass longer than this delays the next. */
  intervalMs: number;
  log: WorkerLog;
  /** Default: RxJS's async scheduler (real time). */
  scheduler?: SchedulerLike;
  /** Called after each pass that completed, with its counts. */
  onPass?: (counts: Record<string, number>) => void;
}

export interface RunningWorker {
  /** Stops ticking and waits for the pass in flight. Idempotent. */
  stop(): Promise<void>;
}

const PASSES: { [K in WorkerKind]: (deps: WorkerDepsByKind[K]) => Promise<object> } = {
  'execute-outgoing': runExecuteOutgoingPass,
  'poll-outgoing': runPollOutgoingPass,
  expire: runExpirePass,
  'review-customers': runReviewCustomersPass,
};

/**
 * Runs a worker in a loop (`mooring execute-outgoing --loop --interval 10`): one pass at once, then one per
 * interval, never two at a time, and a failed pass is logged and followed by the next.
 */
export function startWorker<K extends WorkerKind>(
  kind: K,
  options: WorkerDepsByKind[K] & WorkerLoopSettings,
): RunningWorker {
  const { intervalMs, log, scheduler, onPass } = options;
  const pass = PASSES[kind] as (deps: WorkerDepsByKind[K]) => Promise<object>;
  let inFlight: Promise<unknown> = Promise.resolve();
  const outage = outageLog(log, kind);
  const subscription = workerLoop({
    intervalMs,
    ...(scheduler !== undefined && { scheduler }),
    pass: () => {
      const running = pass(options);
      inFlight = running.catch(() => undefined);
      return running;
    },
    onError: (error) => outage.failed(error, 'pass failed', { worker: kind }),
  }).subscribe((counts) => {
    outage.succeeded({ worker: kind });
    const record = counts as Record<string, number>;
    const entry = { worker: kind, ...record };
    // Quiet when there was nothing to do.
    if (Object.values(record).some((n) => n > 0)) log.info?.(entry, `${kind} pass`);
    else log.debug?.(entry, `${kind} pass`);
    onPass?.(record);
  });
  return {
    async stop() {
      subscription.unsubscribe();
      await inFlight;
    },
  };
}
