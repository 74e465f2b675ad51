import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/db/connect.ts';
import { claimDue, insertEffects, markDone, markFailed } from '../../../src/db/outbox.repository.ts';
import { testDatabases, type OpenTestDatabase } from '../../helpers/database.ts';
import { transactionRow } from './fixtures.ts';

const T0 = new Date('2026-11-24T12:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const LEASE = 30_000;

describe.each(testDatabases())('outbox on $name', (database) => {
  let t: OpenTestDatabase;
  beforeEach(async () => {
    t = await database.open();
    await t.db.insertInto('transactions').values(transactionRow('tx-1')).execute();
  });
  afterEach(async () => {
    await t.close();
  });

  async function addEffects(count: number, nextAttemptAt = T0): Promise<void> {
    const effects = Array.from({ length: count }, (_, i) => ({
      transactionId: 'tx-1',
      seq: i + 1,
      kind: 'status_changed',
      payload: { kind: 'status_changed', status: 'pending_receiver', n: i },
      idempotencyKey: `tx-1:${i + 1}:0`,
      nextAttemptAt,
    }));
    await insertEffects(t.db, effects);
  }

  const claim = (workerId: string, now: Date, limit = 10) =>
    claimDue(t.db, { workerId, limit, leaseMs: LEASE, now });

  it('inserts effects once per idempotency key', async () => {
    expect(await insertEffects(t.db, [])).toBe(0);
    const payout = {
      transactionId: 'tx-1',
      seq: 3,
      kind: 'execute_payout',
      payload: [1, 'two'],
      idempotencyKey: 'tx-1:1',
    };
    expect(await insertEffects(t.db, [payout])).toBe(1);
    expect(await insertEffects(t.db, [payout, { ...payout, idempotencyKey: 'tx-1:2' }])).toBe(1);
    const rows = await t.db.selectFrom('outbox').selectAll().orderBy('id').execute();
    expect(rows.map((r) => [r.idempotency_key, r.state, r.attempts])).toEqual([
      ['tx-1:1', 'pending', 0],
      ['tx-1:2', 'pending', 0],
    ]);
    expect(rows[0]?.payload).toEqual([1, 'two']);
  });

  it('gives each due row to one worker only', async () => {
    await addEffects(3);
    const a = await claim('worker-a', T0, 2);
    const b = await claim('worker-b', T0);
    const c = await claim('worker-c', T0);
    expect(a.map((r) => r.seq)).toEqual([1, 2]);
    expect(b.map((r) => r.seq)).toEqual([3]);
    expect(c).toEqual([]);
    expect(a[0]).toMatchObject({
      state: 'in_flight',
      claimed_by: 'worker-a',
      attempts: 1,
      claim_expires_at: at(LEASE),
    });
  });

  it('does not claim a row before its next attempt is due', async () => {
    await addEffects(1, at(5_000));
    expect(await claim('worker-a', at(4_999))).toEqual([]);
    expect(await claim('worker-a', at(5_000))).toHaveLength(1);
  });

  it('keeps a claimed row until its lease expires, then lets another worker reclaim it', async () => {
    await addEffects(1);
    const [first] = await claim('worker-a', T0);
    expect(first?.claimed_by).toBe('worker-a');
    expect(await claim('worker-b', at(LEASE - 1))).toEqual([]);

    const [again] = await claim('worker-b', at(LEASE));
    expect(again).toMatchObject({
      id: first?.id,
      claimed_by: 'worker-b',
      attempts: 2,
      claim_expires_at: at(2 * LEASE),
    });

    // The worker that lost its lease can no longer settle the row; the new holder can.
    expect(await markDone(t.db, first?.id ?? '', 'worker-a')).toBe(false);
    expect(await markDone(t.db, first?.id ?? '', 'worker-b', at(LEASE + 1))).toBe(true);
    expect(await claim('worker-c', at(100 * LEASE))).toEqual([]);
    const row = await t.db.selectFrom('outbox').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ state: 'done', completed_at: at(LEASE + 1), claim_expires_at: null });
  });

  it('retries a failed row at retryAt, and never again once failed for good', async () => {
    await addEffects(1);
    const [row] = await claim('worker-a', T0);
    const id = row?.id ?? '';
    expect(await markFailed(t.db, id, 'callback answered 503', at(60_000), 'worker-a')).toBe(true);
    expect(await markFailed(t.db, id, 'again', at(60_000))).toBe(false); // no longer in flight
    expect(await claim('worker-b', at(59_999))).toEqual([]);

    const [retry] = await claim('worker-b', at(60_000));
    expect(retry).toMatchObject({ id, attempts: 2, last_error: 'callback answered 503' });
    expect(await markFailed(t.db, id, 'callback answered 410', null)).toBe(true);
    expect(await claim('worker-c', at(1_000 * LEASE))).toEqual([]);
    expect(await t.db.selectFrom('outbox').select(['state', 'last_error']).executeTakeFirst()).toEqual({
      state: 'failed',
      last_error: 'callback answered 410',
    });
  });

  it('claims only the kinds asked for and leaves the others untouched', async () => {
    await insertEffects(t.db, [
      {
        transactionId: 'tx-1',
        seq: 1,
        kind: 'execute_payout',
        payload: {},
        idempotencyKey: 'p',
        nextAttemptAt: T0,
      },
      {
        transactionId: 'tx-1',
        seq: 1,
        kind: 'status_changed',
        payload: {},
        idempotencyKey: 's',
        nextAttemptAt: T0,
      },
      {
        transactionId: null,
        seq: null,
        kind: 'customer_status_changed',
        payload: {},
        idempotencyKey: 'c',
        nextAttemptAt: T0,
      },
    ]);
    expect(await claimDue(t.db, { workerId: 'w', limit: 10, leaseMs: LEASE, now: T0, kinds: [] })).toEqual(
      [],
    );
    const callbacks = await claimDue(t.db, {
      workerId: 'w',
      limit: 10,
      leaseMs: LEASE,
      now: T0,
      kinds: ['status_changed', 'customer_status_changed'],
    });
    expect(callbacks.map((r) => r.idempotency_key)).toEqual(['s', 'c']);
    const payout = await t.db
      .selectFrom('outbox')
      .selectAll()
      .where('idempotency_key', '=', 'p')
      .executeTakeFirst();
    expect(payout).toMatchObject({ state: 'pending', attempts: 0, claimed_by: null });
    expect((await claim('other', T0)).map((r) => r.idempotency_key)).toEqual(['p']);
  });

  it('in order: holds a transaction’s later rows of a kind until the earlier one is settled', async () => {
    await t.db.insertInto('transactions').values(transactionRow('tx-2')).execute();
    await addEffects(3);
    await insertEffects(t.db, [
      {
        transactionId: 'tx-2',
        seq: 1,
        kind: 'status_changed',
        payload: {},
        idempotencyKey: 'tx-2:1',
        nextAttemptAt: T0,
      },
      {
        transactionId: 'tx-1',
        seq: 9,
        kind: 'execute_payout',
        payload: {},
        idempotencyKey: 'pay',
        nextAttemptAt: T0,
      },
    ]);
    const inOrder = (now: Date) =>
      claimDue(t.db, {
        workerId: 'w',
        limit: 10,
        leaseMs: LEASE,
        now,
        kinds: ['status_changed'],
        inOrder: true,
      });

    const [first, other, ...none] = await inOrder(T0);
    expect([first?.idempotency_key, other?.idempotency_key, none]).toEqual(['tx-1:1:0', 'tx-2:1', []]);
    // tx-1's first callback is in flight: its second waits, even once due.
    expect(await inOrder(at(1))).toEqual([]);

    // Back to pending with a retry later: still holds back the rest.
    await markFailed(t.db, first!.id, 'answered 500', at(10_000), 'w');
    expect(await inOrder(at(5_000))).toEqual([]);
    const [retried] = await inOrder(at(10_000));
    expect(retried?.id).toBe(first!.id);
    await markDone(t.db, retried!.id, 'w');
    const [second, ...rest] = await inOrder(at(10_000));
    expect([second?.idempotency_key, rest]).toEqual(['tx-1:2:0', []]);

    // Failed for good: it no longer blocks the next one.
    await markFailed(t.db, second!.id, 'gave up', null, 'w');
    expect((await inOrder(at(10_000))).map((r) => r.idempotency_key)).toEqual(['tx-1:3:0']);
    // Without inOrder nothing is held back (the payout kind was never gated by the callbacks).
    expect((await claim('x', at(10_000))).map((r) => r.idempotency_key)).toEqual(['pay']);
  });

  it.skipIf(database.name !== 'postgres')(
    'skips rows another connection holds, without waiting',
    async () => {
      await addEffects(10);
      // A second pool: a separate connection. lock_timeout makes a blocked claim fail instead of hanging.
      const url = new URL(t.url ?? '');
      url.searchParams.set('options', '-c lock_timeout=2000');
      // Through openDatabase, which listens for errors of idle connections (the database is dropped with FORCE).
      const other = (await openDatabase({ url: url.href })).db;
      try {
        const [a, b] = await t.db.transaction().execute(async (trx) => {
          const held = await claimDue(trx, { workerId: 'worker-a', limit: 5, leaseMs: LEASE, now: T0 });
          // worker-a's transaction is still open, so its rows are locked.
          const rest = await claimDue(other, { workerId: 'worker-b', limit: 10, leaseMs: LEASE, now: T0 });
          return [held, rest];
        });
        expect(a.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
        expect(b.map((r) => r.seq)).toEqual([6, 7, 8, 9, 10]);
      } finally {
        await other.destroy();
      }
    },
  );

  it.skipIf(database.name !== 'postgres')('hands disjoint rows to concurrent workers', async () => {
    const total = 60;
    await insertEffects(
      t.db,
      Array.from({ length: total }, (_, i) => ({
        transactionId: null,
        seq: null,
        kind: 'noop',
        payload: {},
        idempotencyKey: `k-${i}`,
        nextAttemptAt: T0,
      })),
    );
    const workers = await Promise.all(
      Array.from({ length: 4 }, async () => (await openDatabase({ url: t.url! })).db),
    );
    try {
      const claimed = await Promise.all(
        workers.map(async (db, w) => {
          const ids: string[] = [];
          for (;;) {
            const rows = await claimDue(db, { workerId: `worker-${w}`, limit: 3, leaseMs: LEASE, now: T0 });
            if (rows.length === 0) return ids;
            ids.push(...rows.map((r) => r.id));
          }
        }),
      );
      const all = claimed.flat();
      expect(all).toHaveLength(total);
      expect(new Set(all).size).toBe(total);
    } finally {
      await Promise.all(workers.map((db) => db.destroy()));
    }
  });
});
