/**
 * The payment pipeline over a Stellar RPC shaped source: positions are RPC event ids and checkpoints
 * (`<TOID>-<event index>`), the live follow is polls that each end with a keep-alive. Same guarantees as
 * over Horizon: resume exactly, drop what is not after the last position, backoff, silence.
 */
import { describe, expect, it } from 'vitest';
import { HEARTBEAT, isAfter, watchPayments, type ReconnectInfo } from '../../../streams/index.ts';
import { endOfLedger, formatRpcCursor } from '../../../src/stellar/rpc-cursor.ts';
import { page, rec, scheduler, scriptedSource } from './scripted-source.ts';

const id = (ledger: number, event = 0) => formatRpcCursor({ ledger, tx: 1, op: 0, event });
const START = endOfLedger(100);

describe('isAfter with Stellar RPC ids', () => {
  it('orders event ids and checkpoints by ledger, transaction, operation and event', () => {
    expect(isAfter(id(101), id(100))).toBe(true);
    expect(isAfter(id(101, 1), id(101, 0))).toBe(true);
    expect(isAfter(id(101), id(101))).toBe(false);
    expect(isAfter(id(100), endOfLedger(100))).toBe(false);
    expect(isAfter(id(101), endOfLedger(100))).toBe(true);
    // Lexical, not numeric: "0000000000000000010-…" is after "0000000000000000009-…".
    expect(
      isAfter(
        formatRpcCursor({ ledger: 0, tx: 0, op: 10, event: 0 }),
        formatRpcCursor({ ledger: 0, tx: 0, op: 9, event: 9 }),
      ),
    ).toBe(true);
  });
});

describe('watchPayments over Stellar RPC positions', () => {
  it('resumes exactly after the last id or checkpoint, and drops a replayed page', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const checkpoint = endOfLedger(105);
      const { source, calls } = scriptedSource(ts, {
        pages: [
          () => cold('10ms (a|)', { a: page(id(101), id(102), checkpoint) }),
          () => cold('10ms (a|)', { a: page(id(102), id(106)) }), // a node that replays 102
        ],
        streams: [
          () => cold('10ms #', {}, new Error('503')),
          () => cold('10ms a 5ms b', { a: HEARTBEAT, b: rec(id(107)) }),
        ],
      });
      const out = watchPayments({
        account: 'G',
        cursor: START,
        source,
        backoff: { initialMs: 50, maxMs: 1_000 },
        silenceMs: 1_000,
        scheduler: ts,
        pageLimit: 3,
      });
      // Page 1 (full) at 10; page 2 from the checkpoint at 20, where only 106 is new; the follow from 106.
      expectObservable(out, '^ 75ms !').toBe('10ms (abc) 5ms d', {
        a: rec(id(101)),
        b: rec(id(102)),
        c: rec(checkpoint),
        d: rec(id(106)),
      });
      ts.flush();
      expect(calls.page).toEqual([
        [START, 0],
        [checkpoint, 10],
      ]);
      expect(calls.stream).toEqual([[id(106), 20]]);
    });
  });

  it('backs off after RPC errors, doubling, and resumes from the last position', () => {
    const ts = scheduler();
    const reconnects: ReconnectInfo[] = [];
    ts.run(({ cold, expectObservable }) => {
      const { source, calls } = scriptedSource(ts, {
        pages: [
          () => cold('5ms #', {}, new Error('connect ECONNREFUSED')),
          () => cold('5ms #', {}, new Error('connect ECONNREFUSED')),
          () => cold('5ms (a|)', { a: page(id(101)) }),
        ],
        streams: [() => cold('5ms a', { a: HEARTBEAT })],
      });
      const out = watchPayments({
        account: 'G',
        cursor: START,
        source,
        backoff: { initialMs: 50, maxMs: 1_000 },
        silenceMs: 1_000,
        scheduler: ts,
        onReconnect: (info) => reconnects.push(info),
      });
      // Error at 5, wait 50: page at 55, error at 60, wait 100: page at 160, record at 165.
      expectObservable(out, '^ 300ms !').toBe('165ms a', { a: rec(id(101)) });
      ts.flush();
      expect(calls.page).toEqual([
        [START, 0],
        [START, 55],
        [START, 160],
      ]);
    });
    expect(reconnects.map((r) => [r.cause, r.delayMs, r.cursor])).toEqual([
      ['error', 50, START],
      ['error', 100, START],
    ]);
  });

  it('keep-alives after each poll hold the follow open; an RPC that stops answering is silence', () => {
    const ts = scheduler();
    const reconnects: ReconnectInfo[] = [];
    ts.run(({ cold, expectObservable }) => {
      const { source, calls } = scriptedSource(ts, {
        pages: [() => cold('5ms (a|)', { a: page() }), () => cold('5ms (a|)', { a: page() })],
        streams: [
          // Polls answered every 40 ms (keep-alives), then no answer any more.
          () => cold('40ms a 39ms b 39ms c', { a: HEARTBEAT, b: HEARTBEAT, c: rec(id(101)) }),
          () => cold('10ms a', { a: rec(id(102)) }),
        ],
      });
      const out = watchPayments({
        account: 'G',
        cursor: START,
        source,
        backoff: { initialMs: 50, maxMs: 1_000 },
        silenceMs: 100,
        scheduler: ts,
        onReconnect: (info) => reconnects.push(info),
      });
      // Follow opens at 5: keep-alives at 45 and 85, 101 at 125; silent from 125: torn down at 225,
      // page at 225, follow at 230, 102 at 240.
      expectObservable(out, '^ 300ms !').toBe('125ms a 114ms b', { a: rec(id(101)), b: rec(id(102)) });
      ts.flush();
      expect(calls.stream).toEqual([
        [START, 5],
        [id(101), 230],
      ]);
    });
    expect(reconnects.map((r) => [r.cause, r.delayMs, r.cursor])).toEqual([['silence', 0, id(101)]]);
  });
});
