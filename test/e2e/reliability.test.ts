import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { StellarPayment } from '../../machines/index.ts';
import { transactionEventMessage } from '../../src/actors/messages.ts';
import { createNatsBus, silentLogger, type BusMessage, type EventBus } from '../../src/bus/index.ts';
import { payoutRequestEventId } from '../../src/workers/execute-outgoing.ts';
import { KEYS } from '../helpers/app.ts';
import { startPrivateNatsServer, type PrivateNatsServer } from '../helpers/nats.ts';
import type { BuiltTransaction } from '../fakes/horizon-records.ts';
import {
  countWithStatus,
  createAwaitingTransactions,
  eventCounts,
  natsUrlForTests,
  outputs,
  pagingTokenOf,
  pause,
  pay,
  postgresForTests,
  startWorld,
  waitUntil,
  type AwaitingTransaction,
  type World,
  type WorldProcess,
} from './support.ts';

const postgres = postgresForTests();
const natsUrl = natsUrlForTests();
const DISTRIBUTION = KEYS.distribution.publicKey();

/**
 * Crashes and outages against real processes: each scenario a fresh PostgreSQL database, the roles as
 * `mooring` child processes, the fake Horizon in this process. SIGKILL is a crash: no shutdown hook runs.
 *
 * Crash points. `MOORING_CRASH_AT=<point>:<n>` makes a process SIGKILL itself the n-th time it reaches a
 * named point (`src/crash-points.ts`), so a crash lands exactly in the window a test is about.
 *
 * Leases. A killed process leaves its leases behind: the watcher's (`leases`, 30 s) and the
 * payout relay's claims (`outbox.claim_expires_at`, `workers.payoutLeaseSeconds`, 120 s by default, and
 * it cannot be set to 60 s or less: the payout relay's handler timeout is a fixed 60 s and must be
 * shorter). Rather than wait, the tests play the clock: after a kill they move the dead process's lease
 * expiry into the past, which is exactly what the passing of time does; what follows (take-over, redo
 * with the same idempotency key, replay from the cursor) is the production code path.
 */
describe.skipIf(!postgres || !natsUrl)('reliability with real processes (Postgres + NATS)', () => {
  let world: World | undefined;
  let nats: PrivateNatsServer | undefined;
  let bus: EventBus | undefined;
  afterEach(async () => {
    await bus?.close().catch(() => undefined);
    await world?.close();
    await nats?.dispose();
    world = undefined;
    nats = undefined;
    bus = undefined;
  });

  /** Expires every lease a SIGKILLed watcher left behind (the 30 s would pass, we do not wait). */
  async function expireWatcherLeases(w: World) {
    await w.db
      .updateTable('leases')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .execute();
  }

  /** Expires the payout claims a SIGKILLed worker left in flight (the lease would pass, we do not wait). */
  async function expirePayoutClaims(w: World) {
    const rows = await w.db
      .updateTable('outbox')
      .set({ claim_expires_at: new Date(Date.now() - 1000) })
      .where('state', '=', 'in_flight')
      .where('kind', '=', 'execute_payout')
      .returning('id')
      .execute();
    return rows.length;
  }

  /** The actor host process that applies what the others publish. */
  async function startActors(
    w: World,
    name = 'actors',
    env: Record<string, string> = {},
  ): Promise<WorldProcess> {
    const actors = await w.start(name, ['actors'], env);
    await waitUntil(`${name} to start`, () => actors.output().includes('mooring started'), {
      diagnostics: () => outputs(w.processes),
    });
    return actors;
  }

  async function startWatcher(
    w: World,
    name: string,
    env: Record<string, string> = {},
  ): Promise<WorldProcess> {
    const watcher = await w.start(name, ['watch-transactions'], env);
    await waitUntil(`${name} to watch`, () => watcher.output().includes('watching payments'), {
      diagnostics: () => outputs(w.processes),
    });
    return watcher;
  }

  async function storedCursor(w: World) {
    const row = await w.db
      .selectFrom('horizon_cursors')
      .select('cursor')
      .where('account', '=', DISTRIBUTION)
      .executeTakeFirst();
    return row?.cursor;
  }

  /** Every payment credited to its transaction exactly once, nothing unmatched, the cursor at the last. */
  async function expectEachCreditedOnce(
    w: World,
    transactions: AwaitingTransaction[],
    payments: BuiltTransaction[],
  ) {
    const ids = transactions.map((t) => t.id);
    expect(await countWithStatus(w.db, ids, 'pending_receiver')).toBe(transactions.length);
    const credits = await eventCounts(w.db, 'PAYMENT_RECEIVED');
    expect(ids.map((id) => credits.get(id) ?? 0)).toEqual(ids.map(() => 1));
    expect(await w.db.selectFrom('unmatched_payments').selectAll().execute()).toEqual([]);
    const stored = await w.db
      .selectFrom('transactions')
      .select(['id', 'stellar_transaction_id'])
      .where('id', 'in', ids)
      .execute();
    const hashOf = new Map(stored.map((row) => [row.id, row.stellar_transaction_id]));
    expect(transactions.map((t) => hashOf.get(t.id))).toEqual(payments.map((p) => p.transaction.hash));
    await waitUntil('the cursor to reach the last payment', async () =>
      (await storedCursor(w)) === pagingTokenOf(payments.at(-1)!) ? true : undefined,
    );
  }

  it('kill -9 of the watcher during a burst: every payment credited exactly once', async () => {
    world = await startWorld({ database: postgres!, natsUrl: natsUrl! });
    const w = world;
    const transactions = await createAwaitingTransactions(w.host, 30);
    const ids = transactions.map((t) => t.id);
    await startActors(w);
    const first = await startWatcher(w, 'watcher-1');

    // The burst: 30 ledgers a few milliseconds apart, so the watcher takes them in several batches.
    const payments: BuiltTransaction[] = [];
    const paying = (async () => {
      for (const t of transactions) {
        payments.push(pay(w.horizon, t));
        await pause(20);
      }
    })();
    let atKill = 0;
    await waitUntil(
      'about a third of the burst credited',
      async () => (atKill = await countWithStatus(w.db, ids, 'pending_receiver')) >= 10,
      { everyMs: 5, diagnostics: () => outputs(w.processes) },
    );
    first.child.kill('SIGKILL');
    expect(await first.stop()).toBeNull(); // killed by the signal, no exit code
    const credited = await countWithStatus(w.db, ids, 'pending_receiver');
    // The scenario's premise: the crash left part of the burst unprocessed.
    expect(credited, `credited at kill: ${atKill}`).toBeLessThan(30);
    await paying;

    await expireWatcherLeases(w);
    const second = await startWatcher(w, 'watcher-2');
    await waitUntil(
      'all 30 credited',
      async () => (await countWithStatus(w.db, ids, 'pending_receiver')) === 30,
      {
        diagnostics: () => outputs(w.processes),
      },
    );
    await expectEachCreditedOnce(w, transactions, payments);

    // A replay of the whole burst (a cursor lost or restored from a backup): acknowledged, never credited
    // twice, never stored as unmatched.
    expect(await second.stop('SIGTERM')).toBe(0);
    const before = await w.db.selectFrom('transaction_events').select('id').execute();
    await w.db
      .updateTable('horizon_cursors')
      .set({ cursor: '0' })
      .where('account', '=', DISTRIBUTION)
      .execute();
    const third = await startWatcher(w, 'watcher-3');
    await waitUntil('the replay to reach the last payment', async () =>
      (await storedCursor(w)) === pagingTokenOf(payments.at(-1)!) ? true : undefined,
    );
    await expectEachCreditedOnce(w, transactions, payments);
    expect(await w.db.selectFrom('transaction_events').select('id').execute()).toHaveLength(before.length);
    expect(await third.stop('SIGTERM')).toBe(0);
  }, 90_000);

  it('kill -9 of the watcher between publishing a page and committing its cursor: each credited once', async () => {
    world = await startWorld({ database: postgres!, natsUrl: natsUrl! });
    const w = world;
    const transactions = await createAwaitingTransactions(w.host, 20);
    const ids = transactions.map((t) => t.id);
    await startActors(w);
    // The watcher dies right after its first page of credits is on the bus, before that page's cursor.
    const first = await startWatcher(w, 'watcher-1', { MOORING_CRASH_AT: 'watcher.published:1' });
    const cursorBefore = await storedCursor(w);
    const payments = transactions.map((t) => pay(w.horizon, t));
    await waitUntil('the watcher to crash', () => first.child.signalCode === 'SIGKILL', {
      diagnostics: () => outputs(w.processes),
    });
    // The crash's premise: credits on the bus (the actors apply them), the cursor not moved past them.
    await waitUntil('the published credits to be applied', async () =>
      (await countWithStatus(w.db, ids, 'pending_receiver')) > 0 ? true : undefined,
    );
    expect(await storedCursor(w)).toBe(cursorBefore);

    await expireWatcherLeases(w);
    await startWatcher(w, 'watcher-2');
    await waitUntil(
      'all 20 credited',
      async () => (await countWithStatus(w.db, ids, 'pending_receiver')) === 20,
      {
        diagnostics: () => outputs(w.processes),
      },
    );
    await expectEachCreditedOnce(w, transactions, payments);
  }, 90_000);

  it('two actor hosts share the partitions; kill -9 of one mid-batch: every event once, in order, no gaps', async () => {
    world = await startWorld({
      database: postgres!,
      natsUrl: natsUrl!,
      config: { actors: { leaseSeconds: 2 } },
    });
    const w = world;
    const transactions = await createAwaitingTransactions(w.host, 24);
    // actors-1 dies inside its 3rd commit: written, not committed; its partitions wait for their leases.
    const doomed = await startActors(w, 'actors-1', { MOORING_CRASH_AT: 'actors.committing:3' });
    const survivor = await startActors(w, 'actors-2');
    await waitUntil('both hosts to own partitions', async () => {
      const holders = await w.db
        .selectFrom('leases')
        .select('holder')
        .where('name', 'like', `actors:${w.natsPrefix}_events:%`)
        .where('name', 'not like', '%:member:%')
        .where('expires_at', '>', new Date())
        .execute();
      return new Set(holders.map((h) => h.holder)).size === 2 ? true : undefined;
    });
    const publisher = await createNatsBus({ url: natsUrl!, prefix: w.natsPrefix, logger: silentLogger });
    bus = publisher;

    // Per transaction, in this order: the payment, a hold, five partial refunds (they need the funds).
    const at = new Date().toISOString();
    const streams: BusMessage[][] = transactions.map((t, i) => [
      transactionEventMessage(t.id, `pay-${t.id}`, {
        type: 'PAYMENT_RECEIVED',
        at,
        payment: {
          operationId: `${8_000_000 + i}`,
          transactionHash: randomUUID().replaceAll('-', '').padEnd(64, '0'),
          amount: t.amountIn,
          assetCode: 'USDC',
          assetIssuer: KEYS.issuer.publicKey(),
          createdAt: at,
        },
      }),
      transactionEventMessage(t.id, `hold-${t.id}`, { type: 'ERROR', at, message: 'hold' }),
      ...Array.from({ length: 5 }, (_, r) =>
        transactionEventMessage(t.id, `refund-${r}-${t.id}`, {
          type: 'REFUND_SENT',
          at,
          refund: { id: `r${r}`, amount: '1', fee: '0.1' },
        }),
      ),
    ]);
    // Interleaved, step by step, so every commit holds several transactions and the crash lands mid-stream.
    for (let step = 0; step < streams[0]!.length; step++) {
      await publisher.publishMany(streams.map((stream) => stream[step]!));
    }

    await waitUntil('actors-1 to crash mid-batch', () => doomed.child.signalCode === 'SIGKILL', {
      diagnostics: () => outputs(w.processes),
    });
    const finalVersion = 2 + streams[0]!.length;
    await waitUntil(
      "every event applied (the survivor took the dead host's partitions over)",
      async () => {
        const rows = await w.db
          .selectFrom('transactions')
          .select('version')
          .where(
            'id',
            'in',
            transactions.map((t) => t.id),
          )
          .execute();
        return rows.every((row) => row.version === finalVersion) ? true : undefined;
      },
      { timeoutMs: 45_000, diagnostics: () => outputs(w.processes) },
    );
    for (const [t, transaction] of transactions.entries()) {
      const log = await w.db
        .selectFrom('transaction_events')
        .select(['seq', 'event_id'])
        .where('transaction_id', '=', transaction.id)
        .orderBy('seq')
        .execute();
      expect(log.map((e) => e.seq)).toEqual(Array.from({ length: finalVersion }, (_, i) => i + 1));
      expect(log.slice(2).map((e) => e.event_id)).toEqual(streams[t]!.map((m) => m.id));
    }
    const row = await w.db
      .selectFrom('transactions')
      .select(['amount_out', 'refunds'])
      .where('id', '=', transactions[0]!.id)
      .executeTakeFirstOrThrow();
    expect(row.amount_out).toBe('93.0000000');
    expect(await w.db.selectFrom('refused_messages').selectAll().execute()).toEqual([]);
    expect(survivor.child.exitCode).toBeNull(); // still running, owning everything
    expect(await survivor.stop('SIGTERM')).toBe(0);
  }, 90_000);

  it('dropped and silent Horizon stream mid-burst: every payment credited exactly once', async () => {
    world = await startWorld({ database: postgres!, natsUrl: natsUrl! });
    const w = world;
    const transactions = await createAwaitingTransactions(w.host, 20);
    const ids = transactions.map((t) => t.id);
    await startActors(w);
    const watcher = await startWatcher(w, 'watcher');
    const payments: BuiltTransaction[] = [];

    for (const t of transactions.slice(0, 10)) payments.push(pay(w.horizon, t));
    await waitUntil(
      'part of the burst credited',
      async () => (await countWithStatus(w.db, ids, 'pending_receiver')) >= 3,
      {
        everyMs: 5,
      },
    );
    // The stream dies without a goodbye, and Horizon goes silent: new streams get no answer at all.
    const droppedAt = w.horizon.requestLog.length;
    expect(w.horizon.dropStreams()).toBeGreaterThan(0);
    w.horizon.setSilent(true);
    for (const t of transactions.slice(10, 15)) payments.push(pay(w.horizon, t));
    // The watcher catches up over REST, then opens a stream that hangs silent…
    await waitUntil(
      'the watcher to wait on a silent stream',
      () => w.horizon.requestLog.slice(droppedAt).some((r) => r.stream && r.status === undefined),
      { timeoutMs: 20_000, diagnostics: () => outputs(w.processes) },
    );
    // …while the rest of the burst is made: only the stream can bring it.
    for (const t of transactions.slice(15)) payments.push(pay(w.horizon, t));
    await pause(2_000); // Horizon stays silent for a while
    w.horizon.setSilent(false);

    await waitUntil(
      'all 20 credited',
      async () => (await countWithStatus(w.db, ids, 'pending_receiver')) === 20,
      {
        timeoutMs: 30_000,
        diagnostics: () => outputs(w.processes),
      },
    );
    await expectEachCreditedOnce(w, transactions, payments);
    expect(await watcher.stop('SIGTERM')).toBe(0);
  }, 90_000);

  /** Credits each transaction directly through the actor host (as the watcher would). */
  async function fund(w: World, transactions: AwaitingTransaction[]) {
    for (const t of transactions) {
      const payment: StellarPayment = {
        operationId: `${Date.now()}${Math.floor(Math.random() * 1e6)}`,
        transactionHash: randomUUID().replaceAll('-', '').padEnd(64, '0'),
        amount: t.amountIn,
        assetCode: 'USDC',
        assetIssuer: KEYS.issuer.publicKey(),
        createdAt: new Date().toISOString(),
      };
      await w.host.apply({
        eventId: payment.operationId,
        transactionId: t.id,
        event: { type: 'PAYMENT_RECEIVED', at: new Date().toISOString(), payment },
      });
    }
  }

  /** Rails bookings per transaction. */
  async function railsBookings(w: World) {
    const rows = await w.db
      .selectFrom('reference_rails_payouts')
      .select(['transaction_id', 'idempotency_key'])
      .execute();
    const byTransaction = new Map<string, string[]>();
    for (const row of rows)
      byTransaction.set(row.transaction_id, [
        ...(byTransaction.get(row.transaction_id) ?? []),
        row.idempotency_key,
      ]);
    return { count: rows.length, byTransaction };
  }

  // No SEP-12 types: no customer must be ACCEPTED before a payout, so the funded transactions are due at
  // once. Reference rails that complete at once.
  const payoutConfig = { sep12: { types: {} }, rails: { kind: 'reference' as const, payoutDelaySeconds: 0 } };

  it('kill -9 of the payout worker between the rails call and the result: one payout each', async () => {
    world = await startWorld({ database: postgres!, natsUrl: natsUrl!, config: payoutConfig });
    const w = world;
    const transactions = await createAwaitingTransactions(w.host, 10); // one batch of the payout relay
    const ids = transactions.map((t) => t.id);
    await fund(w, transactions);
    // The payouts are requested as the execute-outgoing pass requests them (same event ids).
    for (const t of transactions) {
      await w.host.apply({
        eventId: payoutRequestEventId(t.id, 0),
        transactionId: t.id,
        event: { type: 'PAYOUT_REQUESTED', at: new Date().toISOString() },
      });
    }

    await startActors(w);
    // The worker dies right after the rails booked a payout, before its answer is on the bus.
    const worker = await w.start('payouts-1', ['execute-outgoing', '--loop', '--interval', '1'], {
      MOORING_CRASH_AT: 'payout.booked:1',
    });
    await waitUntil('the worker to crash after a booking', () => worker.child.signalCode === 'SIGKILL', {
      diagnostics: () => outputs(w.processes),
    });
    expect((await railsBookings(w)).count).toBeGreaterThan(0);
    // The window: paid at the rails, the answer never applied, the claims held by a dead process.
    expect(await countWithStatus(w.db, ids, 'completed')).toBe(0);
    const keysBefore = (await railsBookings(w)).byTransaction;
    expect(await expirePayoutClaims(w)).toBeGreaterThan(0);

    // The lease "expired": a new worker takes the rows over and sends the SAME idempotency key, so the
    // rails answer with the first booking instead of paying again.
    const restarted = await w.start('payouts-2', ['execute-outgoing', '--loop', '--interval', '1']);
    await waitUntil('all completed', async () => (await countWithStatus(w.db, ids, 'completed')) === 10, {
      diagnostics: () => outputs(w.processes),
    });
    const after = await railsBookings(w);
    expect(after.count).toBe(10);
    // Those booked before the crash kept their one booking: the retry used the same key.
    for (const [id, keys] of keysBefore) expect(after.byTransaction.get(id)).toEqual(keys);
    const completions = await eventCounts(w.db, 'PAYOUT_COMPLETED');
    expect(ids.map((id) => completions.get(id))).toEqual(ids.map(() => 1));
    const claims = await w.db
      .selectFrom('outbox')
      .select(['state', 'attempts'])
      .where('kind', '=', 'execute_payout')
      .execute();
    expect(claims.every((claim) => claim.state === 'done')).toBe(true);
    expect(await restarted.stop('SIGTERM')).toBe(0);
  }, 90_000);

  it('kill -9 of the payout worker at random moments, 8 times: each transaction paid out once', async () => {
    world = await startWorld({ database: postgres!, natsUrl: natsUrl!, config: payoutConfig });
    const w = world;
    const transactions = await createAwaitingTransactions(w.host, 64);
    const ids = transactions.map((t) => t.id);
    await startActors(w);

    // Each round: start the worker, kill it 150–600 ms into its work (requesting payouts, calling the
    // rails, applying answers: wherever it is), then let the claims it held expire. A kill after the rails
    // booked a payout but before its answer was applied leaves the payout paid and the row in flight; the
    // next worker redoes the row after the lease with the same idempotency key (`<id>:payout:<attempt>`),
    // and the rails answer as the first time. A fresh key would show as a second booking.
    let windowsHit = 0;
    const progress: string[] = [];
    for (let round = 1; round <= 8; round++) {
      await fund(w, transactions.slice((round - 1) * 8, round * 8)); // fresh work for every round
      const worker = await w.start(`payouts-${round}`, ['execute-outgoing', '--loop', '--interval', '1']);
      await waitUntil(`payouts-${round} to start`, () => worker.output().includes('mooring started'), {
        diagnostics: () => outputs(w.processes),
      });
      await pause(150 + Math.floor(Math.random() * 450));
      worker.child.kill('SIGKILL');
      await worker.stop();
      const booked = (await railsBookings(w)).byTransaction;
      const unanswered = await w.db
        .selectFrom('transactions')
        .select('id')
        .where('id', 'in', [...booked.keys()].length > 0 ? [...booked.keys()] : ['none'])
        .where('status', '!=', 'completed')
        .execute();
      windowsHit += unanswered.length;
      progress.push(`${booked.size} booked/${unanswered.length} unanswered`);
      await expirePayoutClaims(w);
    }
    const last = await w.start('payouts-last', ['execute-outgoing', '--loop', '--interval', '1']);
    await waitUntil('all completed', async () => (await countWithStatus(w.db, ids, 'completed')) === 64, {
      timeoutMs: 60_000,
      diagnostics: () => outputs(w.processes),
    });
    // (It may have found nothing left to do: a SIGTERM before it has started would kill it outright.)
    await waitUntil('payouts-last to start', () => last.output().includes('mooring started'));
    const bookings = await railsBookings(w);
    expect(bookings.count).toBe(64);
    expect(ids.map((id) => bookings.byTransaction.get(id)?.length)).toEqual(ids.map(() => 1));
    const completions = await eventCounts(w.db, 'PAYOUT_COMPLETED');
    expect(ids.map((id) => completions.get(id))).toEqual(ids.map(() => 1));
    expect(await last.stop('SIGTERM')).toBe(0);
    console.info(`payout crash test: after each kill ${progress.join(', ')}; ${windowsHit} in the window`);
  }, 120_000);

  it('NATS killed and restarted during a burst: every event applied exactly once', async () => {
    nats = await startPrivateNatsServer();
    world = await startWorld({ database: postgres!, natsUrl: nats.url });
    const w = world;
    const server = nats;
    const transactions = await createAwaitingTransactions(w.host, 30);
    const ids = transactions.map((t) => t.id);
    const actors = await startActors(w);
    const publisher = await createNatsBus({
      url: server.url,
      prefix: w.natsPrefix,
      reconnectTimeWaitMs: 200,
      publishTimeoutMs: 1_000,
      logger: silentLogger,
    });
    bus = publisher;

    const envelopes = transactions.map((t, i) => {
      const payment: StellarPayment = {
        operationId: `${9_000_000 + i}`,
        transactionHash: randomUUID().replaceAll('-', '').padEnd(64, '0'),
        amount: t.amountIn,
        assetCode: 'USDC',
        assetIssuer: KEYS.issuer.publicKey(),
        createdAt: new Date().toISOString(),
      };
      return transactionEventMessage(t.id, `payment-${payment.operationId}`, {
        type: 'PAYMENT_RECEIVED',
        at: new Date().toISOString(),
        payment,
      });
    });
    /** Publishes until the server acknowledges (a publish during the outage fails; same event id again). */
    async function publishSurely(envelope: (typeof envelopes)[number]) {
      await waitUntil(
        `publish of ${envelope.id}`,
        () =>
          publisher.publish(envelope).then(
            () => true,
            () => false,
          ),
        { timeoutMs: 30_000, everyMs: 100 },
      );
    }
    for (const envelope of envelopes.slice(0, 15)) await publishSurely(envelope);
    await server.stop('SIGKILL'); // a crash mid-burst
    const during = Promise.all(envelopes.slice(15, 20).map(publishSurely)); // fail until it is back
    await server.start();
    await during;
    for (const envelope of envelopes.slice(20)) await publishSurely(envelope);
    // Republish the first few: a sender that is unsure whether its publish arrived sends again.
    for (const envelope of envelopes.slice(0, 5)) await publishSurely(envelope);

    await waitUntil(
      'all 30 applied',
      async () => (await countWithStatus(w.db, ids, 'pending_receiver')) === 30,
      {
        timeoutMs: 45_000,
        diagnostics: () => outputs(w.processes),
      },
    );
    const rows = await w.db
      .selectFrom('transaction_events')
      .select(['transaction_id', 'event_id'])
      .where('event_type', '=', 'PAYMENT_RECEIVED')
      .execute();
    expect(rows.map((r) => `${r.transaction_id}/${r.event_id}`).sort()).toEqual(
      envelopes.map((e) => `${e.to.slice('transaction:'.length)}/${e.id}`).sort(),
    );
    expect(await actors.stop('SIGTERM')).toBe(0);
  }, 90_000);
});
