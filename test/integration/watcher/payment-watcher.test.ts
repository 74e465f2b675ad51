import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Account, Asset, Keypair, Memo, MuxedAccount } from '@stellar/stellar-sdk';
import type { Kysely } from 'kysely';
import { startActorHost, type ActorHost } from '../../../src/actors/actor-host.ts';
import { createTransactionHost, type TransactionHost } from '../../../src/actors/transaction-host.ts';
import { createInProcessBus, silentLogger, type EventBus } from '../../../src/bus/index.ts';
import { getCursor, saveCursor, type Database } from '../../../src/db/index.ts';
import { findTransaction } from '../../../src/db/transactions.repository.ts';
import { findLease } from '../../../src/db/leases.repository.ts';
import { readHorizonContacts } from '../../../src/db/horizon-contacts.repository.ts';
import { createHorizonPaymentSource } from '../../../src/stellar/horizon-payments-sdk.ts';
import {
  startPaymentWatcher,
  type PaymentWatcher,
  type PaymentWatcherOptions,
  type RecordOutcome,
} from '../../../src/watcher/index.ts';
import type { BuiltTransaction, PaymentInput } from '../../fakes/horizon-records.ts';
import { startFakeHorizon, type FakeHorizon } from '../../fakes/fake-horizon.ts';
import { ISSUER, transactionInput } from '../../fixtures/transactions.ts';
import { testDatabases } from '../../helpers/database.ts';
import { captureLog, eventually } from './support.ts';

const USDC = new Asset('USDC', ISSUER);
const EURC = new Asset('EURC', ISSUER);

describe.each(testDatabases())('payment watcher on $name', (database) => {
  let db: Kysely<Database>;
  let close: () => Promise<void>;
  let host: TransactionHost;
  let bus: EventBus;
  let actors: ActorHost;
  let horizon: FakeHorizon;
  const running: PaymentWatcher[] = [];
  const sender = Keypair.random();

  beforeAll(async () => {
    ({ db, close } = await database.open());
    host = createTransactionHost({ db });
    // Credits go over the bus to the transaction actors, as in production (in-process here).
    bus = createInProcessBus({ logger: silentLogger });
    actors = startActorHost({
      db,
      bus,
      transactions: { payoutCustomerTypes: null, sep12: { types: {} } },
      log: { warn: () => {}, error: () => {} },
    });
    horizon = await startFakeHorizon();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((w) => w.stop()));
  });
  afterAll(async () => {
    await horizon.close();
    await actors.stop();
    await bus.close();
    await close();
  });

  /** Each test watches its own fresh receiving account, so cursors and leases never collide. */
  const newAccount = () => Keypair.random().publicKey();

  /** A transaction created through the host, waiting in pending_sender for a hash memo on `account`. */
  async function pendingTransaction(account: string) {
    const memo = randomBytes(32).toString('base64');
    const input = transactionInput(); // 100 USDC in, 1.5 fee
    await host.create(input, {
      eventId: `create-${input.id}`,
      then: [
        {
          type: 'ACCOUNT_ASSIGNED',
          at: '2026-11-24T10:00:00.100Z',
          stellarAccountId: account,
          stellarMemoType: 'hash',
          stellarMemo: memo,
        },
      ],
    });
    return { id: input.id, memo: Memo.hash(Buffer.from(memo, 'base64').toString('hex')) };
  }

  function pay(
    account: string,
    memo: Memo | undefined,
    payment: Partial<PaymentInput> = {},
  ): BuiltTransaction {
    return horizon.pay({
      from: sender,
      destination: account,
      asset: USDC,
      amount: '100',
      ...(memo ? { memo } : {}),
      ...payment,
    } as PaymentInput);
  }

  const opOf = (built: BuiltTransaction) => built.operations[0]!;

  function watch(account: string, extra: Partial<PaymentWatcherOptions> = {}) {
    const log = captureLog();
    const outcomes: { record: string; outcome: RecordOutcome }[] = [];
    const watcher = startPaymentWatcher({
      db,
      bus,
      source: createHorizonPaymentSource(horizon.url),
      accounts: [account],
      log,
      silenceMs: 5_000,
      backoff: { initialMs: 20, maxMs: 200 },
      leaseMs: 300,
      startFrom: 'beginning',
      onOutcome: (_account, record, outcome) => outcomes.push({ record: record.id, outcome }),
      ...extra,
    });
    running.push(watcher);
    return { watcher, log, outcomes };
  }

  async function stop(watcher: PaymentWatcher) {
    running.splice(running.indexOf(watcher), 1);
    await watcher.stop();
  }

  async function creditsOf(transactionId: string) {
    const rows = await db
      .selectFrom('transaction_events')
      .select('event_id')
      .where('transaction_id', '=', transactionId)
      .where('event_type', '=', 'PAYMENT_RECEIVED')
      .execute();
    return rows.map((r) => r.event_id);
  }

  async function unmatched(operationId: string) {
    return db
      .selectFrom('unmatched_payments')
      .selectAll()
      .where('operation_id', '=', operationId)
      .executeTakeFirst();
  }

  const cursorReaches = (account: string, built: BuiltTransaction) =>
    eventually(async () => expect(await getCursor(db, account)).toBe(opOf(built).paging_token));

  it('credits a matching payment: pending_receiver, Stellar ids set, then the cursor moves past it', async () => {
    const account = newAccount();
    const tx = await pendingTransaction(account);
    watch(account);
    const paid = pay(account, tx.memo);

    await eventually(async () => expect((await findTransaction(db, tx.id))?.status).toBe('pending_receiver'));
    const row = await findTransaction(db, tx.id);
    expect(row).toMatchObject({
      stellar_transaction_id: paid.transaction.hash,
      stellar_operation_id: opOf(paid).id,
    });
    expect(await creditsOf(tx.id)).toEqual([opOf(paid).id]);
    // The credit commits in the actor first; the watcher's cursor follows once the bus held it.
    await cursorReaches(account, paid);
  });

  it('restarts from the stored cursor: nothing credited twice, nothing lost, a replay deduplicated', async () => {
    const account = newAccount();
    const [first, second] = [await pendingTransaction(account), await pendingTransaction(account)];
    const w1 = watch(account);
    const paidFirst = pay(account, first.memo);
    await cursorReaches(account, paidFirst);
    await stop(w1.watcher);

    // Paid while no watcher runs.
    const paidSecond = pay(account, second.memo);
    const before = horizon.requestLog.length;
    watch(account);
    await cursorReaches(account, paidSecond);
    const resumed = horizon.requestLog.slice(before).find((r) => r.path === `/accounts/${account}/payments`);
    expect(new URL(resumed!.url, horizon.url).searchParams.get('cursor')).toBe(opOf(paidFirst).paging_token);
    expect((await findTransaction(db, second.id))?.status).toBe('pending_receiver');

    // A cursor set back (or a Horizon replay) re-delivers both: each stays credited once, and neither is
    // mistaken for a payment to an already-paid transaction (which would queue it for a refund).
    await Promise.all(running.splice(0).map((w) => w.stop()));
    await saveCursor(db, account, '0');
    const w3 = watch(account);
    await eventually(() => expect(w3.outcomes.map((o) => o.record)).toContain(opOf(paidSecond).id));
    expect(await creditsOf(first.id)).toEqual([opOf(paidFirst).id]);
    expect(await creditsOf(second.id)).toEqual([opOf(paidSecond).id]);
    // Handed to the actors again, which recognise them: nothing more is written.
    expect(w3.outcomes.map((o) => o.outcome)).toEqual([
      { outcome: 'published', transactionId: first.id },
      { outcome: 'published', transactionId: second.id },
    ]);
    expect(await unmatched(opOf(paidFirst).id)).toBeUndefined();
    expect(await unmatched(opOf(paidSecond).id)).toBeUndefined();
  });

  it('a crash between publishing a page and moving the cursor: the replay credits nothing twice', async () => {
    const account = newAccount();
    const txs = [];
    for (let i = 0; i < 6; i++) txs.push(await pendingTransaction(account));
    let publishes = 0;
    const handedOver: string[] = [];
    // The bus holds the credits, then the watcher dies before its cursor commit.
    const crashing: Pick<EventBus, 'publishMany'> = {
      publishMany: async (messages) => {
        await bus.publishMany(messages);
        handedOver.push(...messages.map((m) => m.id));
        if (messages.length > 0 && ++publishes === 1)
          throw new Error('process crashed before the cursor commit');
      },
    };
    const { log } = watch(account, { bus: crashing });
    const paid = txs.map((tx) => pay(account, tx.memo));
    await cursorReaches(account, paid.at(-1)!);

    for (const [i, tx] of txs.entries()) {
      expect(await creditsOf(tx.id)).toEqual([opOf(paid[i]!).id]);
      expect((await findTransaction(db, tx.id))?.status).toBe('pending_receiver');
    }
    expect(log.messages('error')).toContain('payment watcher: failed; restarting from the stored cursor');
    // Some payment was handed over twice (before and after the crash), and credited once.
    expect(handedOver.length).toBeGreaterThan(new Set(handedOver).size);
  });

  it('a burst interrupted by a stop: after restart every payment is credited exactly once', async () => {
    const account = newAccount();
    const txs = [];
    for (let i = 0; i < 8; i++) txs.push(await pendingTransaction(account));
    let stopping: Promise<void> | undefined;
    const w1 = watch(account, {
      pageLimit: 2, // batches of at most two records, so the stop lands mid-burst
      onOutcome: () => {
        if (!stopping) stopping = stop(w1.watcher);
      },
    });
    const paid = txs.map((tx) => pay(account, tx.memo));
    await eventually(() => expect(stopping).toBeDefined());
    await stopping;
    const creditedBefore = (await Promise.all(txs.map((tx) => creditsOf(tx.id)))).flat().length;
    expect(creditedBefore).toBeLessThan(txs.length);

    watch(account);
    await cursorReaches(account, paid.at(-1)!);
    for (const [i, tx] of txs.entries()) expect(await creditsOf(tx.id)).toEqual([opOf(paid[i]!).id]);
  });

  it('stop() waits for the record in flight, which commits with its cursor', async () => {
    const account = newAccount();
    const tx = await pendingTransaction(account);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let entered!: () => void;
    const inApply = new Promise<void>((resolve) => (entered = resolve));
    const slow: Pick<EventBus, 'publishMany'> = {
      publishMany: async (messages) => {
        entered();
        await gate;
        return bus.publishMany(messages);
      },
    };
    const { watcher } = watch(account, { bus: slow });
    const paid = pay(account, tx.memo);
    await inApply;
    let stopped = false;
    const stopping = stop(watcher).then(() => (stopped = true));
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    open();
    await stopping;
    expect(await creditsOf(tx.id)).toEqual([opOf(paid).id]);
    expect(await getCursor(db, account)).toBe(opOf(paid).paging_token);
    expect(await findLease(db, `payments:${account}`)).toBeUndefined();
  });

  it('stores every payment it cannot credit, with a reason, and lets the machine judge amounts', async () => {
    const account = newAccount();
    const [wrongAsset, under, over, paidTwice] = [
      await pendingTransaction(account),
      await pendingTransaction(account),
      await pendingTransaction(account),
      await pendingTransaction(account),
    ];
    watch(account);
    const unknownMemo = pay(account, Memo.hash(randomBytes(32).toString('hex')));
    const noMemo = pay(account, undefined);
    const wrong = pay(account, wrongAsset.memo, { asset: EURC });
    pay(account, under.memo, { amount: '40' });
    pay(account, over.memo, { amount: '150' });
    pay(account, paidTwice.memo);
    const again = pay(account, paidTwice.memo, { amount: '25' });
    await cursorReaches(account, again);

    expect(await unmatched(opOf(unknownMemo).id)).toMatchObject({
      reason: 'unknown_memo',
      transaction_id: null,
      amount: '100.0000000',
      memo_type: 'hash',
    });
    expect(await unmatched(opOf(noMemo).id)).toMatchObject({ reason: 'no_memo', memo_type: 'none' });
    expect(await unmatched(opOf(wrong).id)).toMatchObject({
      reason: 'wrong_asset',
      transaction_id: wrongAsset.id,
      asset_code: 'EURC',
    });
    expect((await findTransaction(db, wrongAsset.id))?.status).toBe('pending_sender');
    expect(await unmatched(opOf(again).id)).toMatchObject({
      reason: 'not_pending_sender',
      transaction_id: paidTwice.id,
      amount: '25.0000000',
    });
    expect(await findTransaction(db, under.id)).toMatchObject({
      status: 'error',
      status_message: 'under-paid: received 40.0000000, expected 100; awaiting refund',
    });
    expect(await findTransaction(db, over.id)).toMatchObject({ status: 'pending_receiver' });
    const refunds = await db
      .selectFrom('outbox')
      .select('kind')
      .where('transaction_id', '=', over.id)
      .where('kind', '=', 'refund_excess')
      .execute();
    expect(refunds).toHaveLength(1);
    const stored = await db
      .selectFrom('unmatched_payments')
      .select('operation_id')
      .where('account', '=', account)
      .execute();
    expect(stored).toHaveLength(4);
  });

  it('credits what the destination received: strict-send, strict-receive, muxed, fee bump', async () => {
    const account = newAccount();
    const [strictSend, strictReceive, muxed, feeBump] = [
      await pendingTransaction(account),
      await pendingTransaction(account),
      await pendingTransaction(account),
      await pendingTransaction(account),
    ];
    watch(account);
    const send = pay(account, strictSend.memo, {
      type: 'path_payment_strict_send',
      sendAsset: Asset.native(),
      sendAmount: '500',
      destAsset: USDC,
      destMin: '95',
      destAmount: '100',
    } as Partial<PaymentInput>);
    pay(account, strictReceive.memo, {
      type: 'path_payment_strict_receive',
      sendAsset: Asset.native(),
      sendMax: '900',
      sourceAmount: '480',
      destAsset: USDC,
      destAmount: '100',
    } as Partial<PaymentInput>);
    const mAddress = new MuxedAccount(new Account(account, '0'), '42').accountId();
    pay(account, muxed.memo, { destination: mAddress });
    const bumped = pay(account, feeBump.memo, { feeBump: { feeSource: Keypair.random() } });
    await cursorReaches(account, bumped);

    for (const tx of [strictSend, strictReceive, muxed, feeBump]) {
      expect((await findTransaction(db, tx.id))?.status).toBe('pending_receiver');
    }
    const event = await db
      .selectFrom('transaction_events')
      .select('payload')
      .where('transaction_id', '=', strictSend.id)
      .where('event_type', '=', 'PAYMENT_RECEIVED')
      .executeTakeFirstOrThrow();
    expect(event.payload).toMatchObject({ payment: { amount: '100.0000000', assetCode: 'USDC' } });
    expect(opOf(send)).toMatchObject({ source_amount: '500.0000000' });
    expect((await findTransaction(db, feeBump.id))?.stellar_transaction_id).toBe(bumped.transaction.hash);
    expect(bumped.innerHash).not.toBe(bumped.transaction.hash);
  });

  it('ignores failed transactions, outgoing payments and account creations, moving the cursor past them', async () => {
    const keys = Keypair.random();
    const account = keys.publicKey();
    const tx = await pendingTransaction(account);
    const { outcomes } = watch(account);
    const failed = pay(account, tx.memo, { successful: false });
    const outgoing = horizon.pay({ from: keys, destination: sender.publicKey(), asset: USDC, amount: '1' });
    const created = horizon.pay({
      from: keys,
      type: 'create_account',
      destination: Keypair.random().publicKey(),
      startingBalance: '5',
    });
    const paid = pay(account, tx.memo);
    await cursorReaches(account, paid);

    expect(await creditsOf(tx.id)).toEqual([opOf(paid).id]);
    const outcomeOf = (built: BuiltTransaction) => outcomes.find((o) => o.record === opOf(built).id)?.outcome;
    expect(outcomeOf(failed)).toBeUndefined(); // Horizon does not even serve it (include_failed=false)
    expect(outcomeOf(outgoing)).toEqual({ outcome: 'ignored', reason: 'outgoing' });
    expect(outcomeOf(created)).toEqual({ outcome: 'ignored', reason: 'not_a_payment' });
    for (const built of [failed, outgoing, created]) expect(await unmatched(opOf(built).id)).toBeUndefined();

    // Only ignored records after the last credit: the cursor still moves once the watcher is idle.
    const refund = horizon.pay({ from: keys, destination: sender.publicKey(), asset: USDC, amount: '2' });
    await cursorReaches(account, refund);
  });

  it('survives Horizon trouble: 503s, dropped streams and a silent stream', async () => {
    const account = newAccount();
    const txs = [
      await pendingTransaction(account),
      await pendingTransaction(account),
      await pendingTransaction(account),
    ];
    horizon.failNext(3, 503, (r) => r.path === `/accounts/${account}/payments`);
    const { log } = watch(account, { silenceMs: 400 });
    const first = pay(account, txs[0]!.memo);
    await cursorReaches(account, first);
    // Three failed attempts, one outage: one warning when it starts, one info line when it ends, no stack.
    expect(log.messages('warn').filter((m) => m.startsWith('Horizon'))).toEqual([
      'Horizon unreachable; retrying with backoff',
    ]);
    expect(
      log.messages('debug').filter((m) => m === 'Horizon payment stream failed; reconnecting'),
    ).toHaveLength(3);
    expect(log.messages('info')).toContain('Horizon reachable again');
    expect(log.lines.filter((l) => 'err' in l.obj)).toEqual([]);
    // Contact is stored for /ready in any process.
    expect((await readHorizonContacts(db, [account])).has(account)).toBe(true);

    await eventually(() => expect(horizon.openStreams().some((s) => s.url.includes(account))).toBe(true));
    horizon.dropStreams();
    const second = pay(account, txs[1]!.memo);
    await cursorReaches(account, second);

    // Streams say nothing (no records, no keep-alive): the silence timeout reconnects, and catch-up
    // through REST finds the payment.
    horizon.setSilent(true);
    try {
      const third = pay(account, txs[2]!.memo);
      await cursorReaches(account, third);
      expect(log.messages('debug')).toContain('Horizon payment stream silent; reconnecting');
    } finally {
      horizon.setSilent(false);
    }
    for (const tx of txs) expect((await findTransaction(db, tx.id))?.status).toBe('pending_receiver');
  });

  it('a fresh install starts from now: the latest payment is stored as the cursor at once', async () => {
    const account = newAccount();
    const [old, fresh] = [await pendingTransaction(account), await pendingTransaction(account)];
    const before = pay(account, old.memo);
    const { watcher } = watch(account, { startFrom: undefined });
    await cursorReaches(account, before);
    await stop(watcher);
    // Paid while stopped, before any payment was processed: found after the restart.
    const after = pay(account, fresh.memo);
    watch(account, { startFrom: undefined });
    await cursorReaches(account, after);
    expect((await findTransaction(db, fresh.id))?.status).toBe('pending_receiver');
    expect((await findTransaction(db, old.id))?.status).toBe('pending_sender');
    expect(await unmatched(opOf(before).id)).toBeUndefined();
  });

  it('two instances: only the lease holder processes; the other takes over when it stops', async () => {
    const account = newAccount();
    const [one, two] = [await pendingTransaction(account), await pendingTransaction(account)];
    const a = watch(account, { holder: 'instance-a' });
    const b = watch(account, { holder: 'instance-b' });
    await eventually(() =>
      expect([...a.watcher.activeAccounts(), ...b.watcher.activeAccounts()]).toEqual([account]),
    );
    const [holder, standby] = a.watcher.activeAccounts().length > 0 ? [a, b] : [b, a];
    const paidOne = pay(account, one.memo);
    await cursorReaches(account, paidOne);
    expect(holder.outcomes.map((o) => o.record)).toEqual([opOf(paidOne).id]);
    expect(standby.outcomes).toEqual([]);
    expect(standby.watcher.activeAccounts()).toEqual([]);

    await stop(holder.watcher);
    await eventually(() => expect(standby.watcher.activeAccounts()).toEqual([account]));
    const paidTwo = pay(account, two.memo);
    await cursorReaches(account, paidTwo);
    expect(standby.outcomes.map((o) => o.record)).toEqual([opOf(paidTwo).id]);
    expect(await creditsOf(one.id)).toEqual([opOf(paidOne).id]);
    expect(await creditsOf(two.id)).toEqual([opOf(paidTwo).id]);
  });

  it('takes over a crashed holder only after its lease expires', async () => {
    const account = newAccount();
    const tx = await pendingTransaction(account);
    const crashedUntil = new Date(Date.now() + 600);
    await db
      .insertInto('leases')
      .values({
        name: `payments:${account}`,
        holder: 'crashed',
        expires_at: crashedUntil,
        acquired_at: new Date(),
        renewed_at: new Date(),
      })
      .execute();
    const w = watch(account, { holder: 'survivor' });
    const paid = pay(account, tx.memo);
    await cursorReaches(account, paid);
    const lease = await findLease(db, `payments:${account}`);
    expect(lease?.holder).toBe('survivor');
    expect(lease!.acquired_at.getTime()).toBeGreaterThanOrEqual(crashedUntil.getTime());
    expect(w.outcomes.map((o) => o.record)).toEqual([opOf(paid).id]);
  });

  it('an instance whose lease was taken cannot move the cursor (a payment it saw is credited once)', async () => {
    const account = newAccount();
    const tx = await pendingTransaction(account);
    const marker = pay(account, undefined);
    const w = watch(account, { holder: 'victim', leaseMs: 30_000 });
    await cursorReaches(account, marker);
    // Another instance takes the lease (e.g. after this one stalled past its expiry).
    await db
      .updateTable('leases')
      .set({ holder: 'thief', expires_at: new Date(Date.now() + 3_600_000) })
      .where('name', '=', `payments:${account}`)
      .execute();
    const paid = pay(account, tx.memo);
    await eventually(() => expect(w.watcher.activeAccounts()).toEqual([]));
    // Refused at commit time by the fence (the lease is renewed only every 10 s).
    expect(w.log.messages('warn')).toContain('payment watcher lost its lease; standing by');
    expect(await getCursor(db, account)).toBe(opOf(marker).paging_token);
    // The payment is real: handed to its actor before the fence, it is credited, and only once (the new
    // holder, resuming from the cursor, hands it over again as a duplicate).
    expect(await creditsOf(tx.id)).toEqual([opOf(paid).id]);
  });
});
