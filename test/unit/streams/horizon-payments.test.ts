import { describe, expect, it } from 'vitest';
import type { TestScheduler } from 'rxjs/testing';
import {
  HEARTBEAT,
  SilenceError,
  StreamEndedError,
  backoffDelay,
  watchPayments,
  type PaymentPage,
  type PaymentSource,
  type ReconnectInfo,
  type WatchPaymentsOptions,
} from '../../../streams/index.ts';
import { page, rec, scheduler, scriptedSource, type Rec } from './scripted-source.ts';

function options(
  ts: TestScheduler,
  source: PaymentSource<Rec>,
  extra: Partial<WatchPaymentsOptions<Rec>> = {},
): WatchPaymentsOptions<Rec> {
  return {
    account: 'GWATCHED',
    cursor: '100',
    source,
    backoff: { initialMs: 50, maxMs: 1_000 },
    silenceMs: 1_000,
    scheduler: ts,
    ...extra,
  };
}

describe('watchPayments', () => {
  it('catches up through REST pages from the cursor, then follows the stream from the last token', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const { source, calls } = scriptedSource(ts, {
        pages: [
          () => cold('10ms (a|)', { a: page('101', '102') }),
          () => cold('10ms (a|)', { a: page('103') }),
        ],
        streams: [() => cold('10ms a 9ms b', { a: rec('104'), b: rec('105') })],
      });
      const out = watchPayments(options(ts, source, { pageLimit: 2 }));
      // 101, 102 at 10; 103 at 20; the stream opens at 20: 104 at 30, 105 at 40.
      expectObservable(out, '^ 100ms !').toBe('10ms (ab) 6ms c 9ms d 9ms e', {
        a: rec('101'),
        b: rec('102'),
        c: rec('103'),
        d: rec('104'),
        e: rec('105'),
      });
      ts.flush();
      expect(calls.page).toEqual([
        ['100', 0],
        ['102', 10],
      ]);
      expect(calls.stream).toEqual([['103', 20]]);
    });
  });

  it('on a stream error waits the backoff, then resumes from the last emitted token', () => {
    const ts = scheduler();
    const reconnects: ReconnectInfo[] = [];
    ts.run(({ cold, expectObservable }) => {
      const { source, calls } = scriptedSource(ts, {
        pages: [() => cold('10ms (a|)', { a: page('101') }), () => cold('10ms (a|)', { a: page() })],
        streams: [
          () => cold('10ms a 9ms #', { a: rec('102') }, new Error('socket hang up')),
          () => cold('10ms a', { a: rec('103') }),
        ],
      });
      const out = watchPayments(options(ts, source, { onReconnect: (info) => reconnects.push(info) }));
      // 101 at 10; the stream opens at 10: 102 at 20, error at 30; backoff 50 → page at 80, stream at 90.
      expectObservable(out, '^ 200ms !').toBe('10ms a 9ms b 79ms c', {
        a: rec('101'),
        b: rec('102'),
        c: rec('103'),
      });
      ts.flush();
      expect(calls.page).toEqual([
        ['100', 0],
        ['102', 80],
      ]);
      expect(calls.stream).toEqual([
        ['101', 10],
        ['102', 90],
      ]);
    });
    expect(reconnects).toEqual([
      { cause: 'error', error: new Error('socket hang up'), failures: 1, delayMs: 50, cursor: '102' },
    ]);
  });

  it('a REST error (e.g. a 503) is retried the same way, from the same cursor', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const { source, calls } = scriptedSource(ts, {
        pages: [
          () => cold('5ms #', {}, new Error('503 Service Unavailable')),
          () => cold('10ms (a|)', { a: page('101') }),
        ],
        streams: [],
      });
      expectObservable(watchPayments(options(ts, source)), '^ 100ms !').toBe('65ms a', { a: rec('101') });
      ts.flush();
      expect(calls.page).toEqual([
        ['100', 0],
        ['100', 55],
      ]);
    });
  });

  it('when nothing arrives for silenceMs, tears the stream down and reconnects at once', () => {
    const ts = scheduler();
    const reconnects: ReconnectInfo[] = [];
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const silent = cold<Rec>('-');
      const { source, calls } = scriptedSource(ts, {
        pages: [() => cold('10ms (a|)', { a: page() }), () => cold('10ms (a|)', { a: page() })],
        streams: [() => silent, () => cold('10ms a', { a: rec('101') })],
      });
      const out = watchPayments(
        options(ts, source, { silenceMs: 100, onReconnect: (info) => reconnects.push(info) }),
      );
      // Stream opens at 10, silent until 110: torn down, page again at 110, stream at 120, 101 at 130.
      expectObservable(out, '^ 200ms !').toBe('130ms a', { a: rec('101') });
      expectSubscriptions(silent.subscriptions).toBe('10ms ^ 99ms !');
      ts.flush();
      expect(calls.page.map(([, at]) => at)).toEqual([0, 110]);
      expect(calls.stream).toEqual([
        ['100', 10],
        ['100', 120],
      ]);
    });
    expect(reconnects).toMatchObject([{ cause: 'silence', delayMs: 0, failures: 0, cursor: '100' }]);
    expect(reconnects[0]!.error).toBeInstanceOf(SilenceError);
  });

  it('a REST page that hangs counts as silence too', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const { source, calls } = scriptedSource(ts, {
        pages: [() => cold('-'), () => cold('10ms (a|)', { a: page('101') })],
        streams: [],
      });
      expectObservable(watchPayments(options(ts, source, { silenceMs: 100 })), '^ 200ms !').toBe('110ms a', {
        a: rec('101'),
      });
      ts.flush();
      expect(calls.page).toEqual([
        ['100', 0],
        ['100', 100],
      ]);
    });
  });

  it('keep-alives hold the connection open and are not emitted', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const { source, calls } = scriptedSource(ts, {
        pages: [() => cold('10ms (a|)', { a: page() })],
        streams: [() => cold('60ms h 59ms h 59ms h 59ms a', { h: HEARTBEAT, a: rec('101') })],
      });
      // 240 ms with silenceMs 100: without the keep-alives it would reconnect twice.
      expectObservable(watchPayments(options(ts, source, { silenceMs: 100 })), '^ 300ms !').toBe('250ms a', {
        a: rec('101'),
      });
      ts.flush();
      expect(calls.stream).toHaveLength(1);
    });
  });

  it('preserves order and never goes back: a record at or before the last token is dropped', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const { source, calls } = scriptedSource(ts, {
        pages: [() => cold('10ms (a|)', { a: page('101', '102') }), () => cold('10ms (a|)', { a: page() })],
        streams: [
          () =>
            cold(
              '10ms a 9ms b 9ms c 9ms d 9ms #',
              { a: rec('104'), b: rec('103'), c: rec('104'), d: rec('105') },
              new Error('reset'),
            ),
        ],
      });
      expectObservable(watchPayments(options(ts, source)), '^ 200ms !').toBe('10ms (ab) 6ms c 29ms d', {
        a: rec('101'),
        b: rec('102'),
        c: rec('104'),
        d: rec('105'),
      });
      ts.flush();
      // The reconnection after the error resumes after 105, not after the stale 103 or 104.
      expect(calls.page.map(([cursor]) => cursor)).toEqual(['100', '105']);
    });
  });

  it('backoff grows with consecutive failures, is capped, and resets after a success', () => {
    const ts = scheduler();
    const delays: number[] = [];
    ts.run(({ cold, expectObservable }) => {
      const fail = () => cold<PaymentPage<Rec>>('#', {}, new Error('ECONNREFUSED'));
      const { source, calls } = scriptedSource(ts, {
        pages: [fail, fail, fail, fail, () => cold('(a|)', { a: page('101') }), () => cold('-')],
        streams: [() => cold('#', {}, new Error('ECONNRESET'))],
      });
      const out = watchPayments(
        options(ts, source, {
          backoff: { initialMs: 10, maxMs: 40 },
          onReconnect: (info) => delays.push(info.delayMs),
        }),
      );
      expectObservable(out, '^ 200ms !').toBe('110ms a', { a: rec('101') });
      ts.flush();
      // Failures at 0, 10, 30, 70 (delays 10, 20, 40, 40); success at 110, then the stream fails: 10 again.
      expect(calls.page.map(([, at]) => at)).toEqual([0, 10, 30, 70, 110, 120]);
    });
    expect(delays).toEqual([10, 20, 40, 40, 10]);
  });

  it('a stream that completes is reconnected, never completing the pipeline', () => {
    const ts = scheduler();
    const reconnects: ReconnectInfo[] = [];
    ts.run(({ cold, expectObservable }) => {
      const { source, calls } = scriptedSource(ts, {
        pages: [() => cold('(a|)', { a: page() }), () => cold('(a|)', { a: page() })],
        streams: [() => cold('10ms a|', { a: rec('101') }), () => cold('10ms a', { a: rec('102') })],
      });
      const out = watchPayments(options(ts, source, { onReconnect: (info) => reconnects.push(info) }));
      // 101 at 10, the stream ends at 11; backoff 50 → reconnect at 61 from 101; 102 at 71.
      expectObservable(out, '^ 200ms !').toBe('10ms a 60ms b', { a: rec('101'), b: rec('102') });
      ts.flush();
      expect(calls.stream).toEqual([
        ['100', 0],
        ['101', 61],
      ]);
    });
    expect(reconnects[0]!.error).toBeInstanceOf(StreamEndedError);
  });

  it('fetches the next catch-up page only when the consumer is ready, without counting the wait as silence', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const { source, calls } = scriptedSource(ts, {
        pages: [() => cold('10ms (a|)', { a: page('101') }), () => cold('10ms (a|)', { a: page('102') })],
        streams: [],
      });
      const out = watchPayments(
        options(ts, source, { pageLimit: 1, silenceMs: 20, ready: () => cold('40ms r', { r: true }) }),
      );
      expectObservable(out, '^ 70ms !').toBe('10ms a 49ms b', { a: rec('101'), b: rec('102') });
      ts.flush();
      expect(calls.page).toEqual([
        ['100', 0],
        ['101', 50],
      ]);
    });
  });

  it('unsubscribing closes the live stream', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const live = cold<Rec>('-');
      const { source } = scriptedSource(ts, {
        pages: [() => cold('(a|)', { a: page() })],
        streams: [() => live],
      });
      expectObservable(watchPayments(options(ts, source)), '^ 30ms !').toBe('-');
      expectSubscriptions(live.subscriptions).toBe('^ 30ms !');
    });
  });

  it('rejects options that would spin or stall', () => {
    const { source } = scriptedSource(scheduler(), { pages: [], streams: [] });
    const base = options(scheduler(), source);
    expect(() => watchPayments({ ...base, silenceMs: 0 })).toThrow(/silenceMs/);
    expect(() => watchPayments({ ...base, pageLimit: 201 })).toThrow(/pageLimit/);
    expect(() => watchPayments({ ...base, backoff: { initialMs: 10, maxMs: 5 } })).toThrow(/backoff/);
  });
});

describe('backoffDelay', () => {
  it.each([
    [1, 1_000],
    [2, 2_000],
    [3, 4_000],
    [7, 60_000],
    [10_000, 60_000],
  ])('after %i failures waits %i ms', (failures, delay) => {
    expect(backoffDelay(failures, { initialMs: 1_000, maxMs: 60_000 })).toBe(delay);
  });
});
