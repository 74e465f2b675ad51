/**
 * Work in batches without losing order: values are handed to `work` in the order they arrived, one batch
 * at a time, each batch being everything that arrived while the previous one ran (at most `max`). A
 * burst of values (a catch-up page) is one batch; a trickle (a live stream) is batches of one, handled
 * at once. The next batch starts only after `work` for the previous one completed.
 */
import {
  Observable,
  asapScheduler,
  from,
  type ObservableInput,
  type OperatorFunction,
  type SchedulerLike,
} from 'rxjs';

export function inBatches<T, R>(
  work: (batch: T[]) => ObservableInput<R>,
  options: { max: number; scheduler?: SchedulerLike },
): OperatorFunction<T, R> {
  const { max } = options;
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`max must be a positive integer (got ${max})`);
  const scheduler = options.scheduler ?? asapScheduler;
  return (source) =>
    new Observable<R>((subscriber) => {
      const queue: T[] = [];
      let busy = false;
      let scheduled = false;
      let sourceDone = false;

      const next = () => {
        scheduled = false;
        if (busy || subscriber.closed) return;
        if (queue.length === 0) {
          if (sourceDone) subscriber.complete();
          return;
        }
        busy = true;
        const batch = queue.splice(0, max);
        inner = from(work(batch)).subscribe({
          next: (value) => subscriber.next(value),
          error: (error: unknown) => subscriber.error(error),
          complete: () => {
            busy = false;
            next();
          },
        });
      };
      // Starts at the end of the current turn, so a synchronous burst lands in one batch.
      const kick = () => {
        if (busy || scheduled) return;
        scheduled = true;
        scheduler.schedule(next);
      };

      let inner: { unsubscribe(): void } | undefined;
      const outer = source.subscribe({
        next: (value) => {
          queue.push(value);
          kick();
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          sourceDone = true;
          kick();
        },
      });
      return () => {
        outer.unsubscribe();
        inner?.unsubscribe();
      };
    });
}
