import { map, of, throwError, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { ViewerCounts, ViewerTransition } from '../../../src/viewer/api.ts';
import { createLiveFeed, liveUpdates, sameCounts, type LiveReader } from '../../../src/viewer/live.ts';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

/** A fake event log: rows with ids 1, 2, ...; the counts say how many rows there are and in which state. */
function world(initialRows = 0) {
  const rows: ViewerTransition[] = [];
  let extra = 0;
  const calls = { counts: 0, transitions: 0 };
  const state = {
    failTransitions: 0,
    failCounts: 0,
  };
  const add = (n = 1) => {
    for (let i = 0; i < n; i++) {
      const id = String(rows.length + 1);
      rows.push({
        id,
        transactionId: 't1',
        seq: rows.length + 1,
        eventType: 'E',
        statusBefore: null,
        statusAfter: 'pending_sender',
        stateAfter: 'transaction.pending_sender',
        edge: null,
        at: '2026-11-24T10:00:00.000Z',
      });
    }
  };
  add(initialRows);
  const counts = (): ViewerCounts => ({
    machine: 'transaction',
    total: rows.length + extra,
    counts: { 'transaction.pending_sender': rows.length + extra },
    latestEventId: String(rows.length),
    at: `read ${calls.counts}`,
  });
  const reader: LiveReader = {
    counts: () => {
      calls.counts++;
      if (state.failCounts > 0) {
        state.failCounts--;
        return throwError(() => new Error('counts failed'));
      }
      return of(counts());
    },
    transitionsSince: (afterId, limit) => {
      calls.transitions++;
      if (state.failTransitions > 0) {
        state.failTransitions--;
        return throwError(() => new Error('poll failed'));
      }
      return of(rows.filter((r) => BigInt(r.id) > BigInt(afterId)).slice(0, limit));
    },
  };
  return {
    rows,
    reader,
    calls,
    state,
    add,
    /** A change the log does not show (e.g. a row committed behind the cursor). */
    addUnseen: () => extra++,
    counts,
  };
}

/** Values with `at` left out of the counts (it says when they were read). */
const strip = (update: { counts?: ViewerCounts; transitions: ViewerTransition[] }) => ({
  ...(update.counts && { counts: { ...update.counts, at: 'x' } }),
  transitions: update.transitions.map((t) => t.id),
});

describe('liveUpdates', () => {
  it('starts with the counts, then emits new transitions with the new counts, and nothing when quiet', () => {
    const ts = scheduler();
    const w = world(2);
    ts.run(({ expectObservable }) => {
      timer(25).subscribe(() => w.add(2));
      const feed = liveUpdates({ reader: w.reader, pollIntervalMs: 10, countsRefreshMs: 1000 });
      expectObservable(feed.pipe(map(strip)), '^ 75ms !').toBe('a 29ms b', {
        a: { counts: { ...countsOf(2), at: 'x' }, transitions: [] },
        b: { counts: { ...countsOf(4), at: 'x' }, transitions: ['3', '4'] },
      });
    });
  });

  it('re-reads the counts every countsRefreshMs, and emits them only when they changed', () => {
    const ts = scheduler();
    const w = world(1);
    ts.run(({ expectObservable }) => {
      timer(35).subscribe(() => w.addUnseen());
      const feed = liveUpdates({ reader: w.reader, pollIntervalMs: 10, countsRefreshMs: 100 });
      // Counts at 0; refreshed at 100 (changed: emitted) and at 200 (same: not emitted).
      expectObservable(feed.pipe(map(strip)), '^ 250ms !').toBe('a 99ms b', {
        a: { counts: { ...countsOf(1), at: 'x' }, transitions: [] },
        b: { counts: { ...countsOf(1, 2), at: 'x' }, transitions: [] },
      });
    });
    // 26 ticks: counts at 0, 100 and 200 only.
    expect(w.calls.counts).toBe(3);
  });

  it('reads at most batchSize rows per poll and catches up over the next ticks', () => {
    const ts = scheduler();
    const w = world(0);
    ts.run(({ expectObservable }) => {
      timer(5).subscribe(() => w.add(5));
      const feed = liveUpdates({ reader: w.reader, pollIntervalMs: 10, countsRefreshMs: 1000, batchSize: 2 });
      expectObservable(feed.pipe(map(strip)), '^ 45ms !').toBe('a 9ms b 9ms c 9ms d', {
        a: { counts: { ...countsOf(0), at: 'x' }, transitions: [] },
        b: { counts: { ...countsOf(5), at: 'x' }, transitions: ['1', '2'] },
        c: { transitions: ['3', '4'] },
        d: { transitions: ['5'] },
      });
    });
  });

  it('never errors: a failed poll is reported and the next tick goes on from where it was', () => {
    const ts = scheduler();
    const w = world(1);
    const errors: unknown[] = [];
    const reports: string[] = [];
    ts.run(({ expectObservable }) => {
      timer(5).subscribe(() => {
        w.add();
        w.state.failTransitions = 2;
      });
      const feed = liveUpdates({
        reader: w.reader,
        pollIntervalMs: 10,
        countsRefreshMs: 1000,
        onError: (error) => {
          errors.push(error);
          reports.push('failed');
        },
        onSuccess: () => reports.push('ok'),
      });
      expectObservable(feed.pipe(map(strip)), '^ 35ms !').toBe('a 29ms b', {
        a: { counts: { ...countsOf(1), at: 'x' }, transitions: [] },
        b: { counts: { ...countsOf(2), at: 'x' }, transitions: ['2'] },
      });
    });
    expect(errors).toEqual([new Error('poll failed'), new Error('poll failed')]);
    // What the outage log needs: reads that worked, then the failures, then a read that worked again.
    expect(reports.join(' ')).toMatch(/^(ok )+failed failed( ok)+$/);
  });

  it('a failed first counts read is retried; transitions go out even when their counts fail', () => {
    const ts = scheduler();
    const w = world(1);
    const errors: unknown[] = [];
    w.state.failCounts = 1;
    ts.run(({ expectObservable }) => {
      timer(15).subscribe(() => {
        w.add();
        w.state.failCounts = 1;
      });
      const feed = liveUpdates({
        reader: w.reader,
        pollIntervalMs: 10,
        countsRefreshMs: 1000,
        onError: (error) => {
          errors.push(error);
          throw new Error('a reporter that throws does not stop the feed either');
        },
      });
      // 0: counts fail; 10: counts; 20: the row, counts fail; 30: the counts again (still owed).
      expectObservable(feed.pipe(map(strip)), '^ 45ms !').toBe('10ms a 9ms b 9ms c', {
        a: { counts: { ...countsOf(1), at: 'x' }, transitions: [] },
        b: { transitions: ['2'] },
        c: { counts: { ...countsOf(2), at: 'x' }, transitions: [] },
      });
    });
    expect(errors).toHaveLength(2);
  });
});

describe('createLiveFeed', () => {
  it('one poller for all subscribers, only while someone listens; a later subscriber starts afresh', () => {
    const ts = scheduler();
    const w = world(1);
    ts.run(({ expectObservable }) => {
      // A poller that outlived its subscribers would tick forever: end the virtual clock instead of hanging.
      ts.maxFrames = 1_000;
      timer(25).subscribe(() => w.add());
      const { updates } = createLiveFeed({ reader: w.reader, pollIntervalMs: 10, countsRefreshMs: 1000 });
      const a = { counts: { ...countsOf(1), at: 'x' }, transitions: [] };
      const b = { counts: { ...countsOf(2), at: 'x' }, transitions: ['2'] };
      const c = { counts: { ...countsOf(2), at: 'x' }, transitions: [] };
      expectObservable(updates.pipe(map(strip)), '^ 34ms !').toBe('a 29ms b', { a, b });
      // Joins a running feed: no counts of its own (the SSE route sends those), the same transitions.
      expectObservable(updates.pipe(map(strip)), '15ms ^ 39ms !').toBe('30ms b', { b });
      // After everyone left at 55, polling stopped; this one starts a new poller with its own first counts.
      expectObservable(updates.pipe(map(strip)), '100ms ^ 14ms !').toBe('100ms c', { c });
    });
    // Polls at 0..50 (6) while someone listened, and at 100 and 110: counts at 0, 30 and 100.
    expect(w.calls.counts).toBe(3);
    expect(w.calls.transitions).toBe(6);
  });

  it('stop() completes current subscribers and every later one', () => {
    const ts = scheduler();
    const w = world(0);
    ts.run(({ expectObservable }) => {
      const feed = createLiveFeed({ reader: w.reader, pollIntervalMs: 10 });
      timer(45).subscribe(() => feed.stop());
      expectObservable(feed.updates.pipe(map(strip)), '^ 100ms !').toBe('a 44ms |', {
        a: { counts: { ...countsOf(0), at: 'x' }, transitions: [] },
      });
      expectObservable(feed.updates, '60ms ^ 10ms !').toBe('60ms |');
    });
    expect(w.calls.transitions).toBe(4);
  });
});

describe('sameCounts', () => {
  it('ignores the time of reading only', () => {
    const base: ViewerCounts = { machine: 'm', total: 1, counts: { a: 1 }, latestEventId: '1', at: 'then' };
    expect(sameCounts(base, { ...base, at: 'now' })).toBe(true);
    expect(sameCounts(base, { ...base, total: 2 })).toBe(false);
    expect(sameCounts(base, { ...base, latestEventId: '2' })).toBe(false);
    expect(sameCounts(base, { ...base, counts: { a: 2 } })).toBe(false);
    expect(sameCounts(base, { ...base, counts: { a: 1, b: 0 } })).toBe(false);
    expect(sameCounts(base, undefined)).toBe(false);
  });
});

function countsOf(rows: number, total = rows) {
  return {
    machine: 'transaction',
    total,
    counts: { 'transaction.pending_sender': total },
    latestEventId: String(rows),
  };
}
