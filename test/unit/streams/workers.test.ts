import { defer, finalize, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { workerLoop } from '../../../streams/workers.ts';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('workerLoop (interval worker pipeline)', () => {
  it('runs a pass at once, then one per interval, emitting what each pass emits', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const pass = cold('-(a|)', { a: { requested: 1 } });
      expectObservable(workerLoop({ intervalMs: 10, pass: () => pass, scheduler: ts }), '^ 25ms !').toBe(
        '-a 9ms a 9ms a',
        { a: { requested: 1 } },
      );
    });
  });

  it('waits initialDelayMs before the first pass', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const pass = cold('(a|)');
      expectObservable(
        workerLoop({ intervalMs: 10, initialDelayMs: 5, pass: () => pass, scheduler: ts }),
        '^ 20ms !',
      ).toBe('5ms a 9ms a');
    });
  });

  it('a failing pass is reported and the loop goes on with the next tick', () => {
    const ts = scheduler();
    const errors: unknown[] = [];
    ts.run(({ cold, expectObservable }) => {
      const passes = [cold('-(a|)'), cold('-#', {}, new Error('database down')), cold('-(c|)')];
      let call = 0;
      const loop = workerLoop({
        intervalMs: 10,
        pass: () => passes[Math.min(call++, passes.length - 1)]!,
        onError: (error) => errors.push(error),
        scheduler: ts,
      });
      expectObservable(loop, '^ 35ms !').toBe('-a 19ms c 9ms c');
    });
    expect(errors).toEqual([new Error('database down')]);
  });

  it('a pass that throws synchronously is reported too, and does not stop the loop', () => {
    const ts = scheduler();
    const errors: unknown[] = [];
    ts.run(({ cold, expectObservable }) => {
      let call = 0;
      const loop = workerLoop({
        intervalMs: 10,
        pass: (): Observable<string> => {
          if (call++ === 0) throw new Error('bad query');
          return cold('(b|)');
        },
        onError: (error) => errors.push(error),
        scheduler: ts,
      });
      expectObservable(loop, '^ 15ms !').toBe('10ms b');
    });
    expect(errors).toEqual([new Error('bad query')]);
  });

  it('passes never overlap: ticks during a slow pass are dropped, not queued', () => {
    const ts = scheduler();
    let running = 0;
    let most = 0;
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const slow = cold('15ms (a|)');
      const pass = () =>
        defer(() => {
          most = Math.max(most, ++running);
          return slow;
        }).pipe(finalize(() => running--));
      expectObservable(workerLoop({ intervalMs: 10, pass, scheduler: ts }), '^ 45ms !').toBe('15ms a 19ms a');
      // Ticks at 0, 20 and 40 start passes; those at 10 and 30 come while one runs and are dropped.
      // Unsubscribing the loop unsubscribes the pass in flight.
      expectSubscriptions(slow.subscriptions).toBe(['^ 14ms !', '20ms ^ 14ms !', '40ms ^ 5ms !']);
    });
    expect(most).toBe(1);
  });

  it('rejects a non-positive interval', () => {
    expect(() => workerLoop({ intervalMs: 0, pass: () => [] })).toThrow(/intervalMs must be positive/);
  });
});
