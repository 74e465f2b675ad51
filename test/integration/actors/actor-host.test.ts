/**
 * The actor host as it runs: bus partitions read from stored positions, group commits, answers after
 * commit, failure isolation, and (on NATS + PostgreSQL) several hosts sharing the partitions.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startActorHost, type ActorHost } from '../../../src/actors/actor-host.ts';
import {
  createMessageId,
  createTransactionMessage,
  transactionEventMessage,
  type TransactionReply,
} from '../../../src/actors/messages.ts';
import { partitionLease } from '../../../src/actors/ownership.ts';
import { createTransactionHost } from '../../../src/actors/transaction-host.ts';
import {
  createInProcessBus,
  createNatsBus,
  partitionOf,
  silentLogger,
  type BusMessage,
  type EventBus,
} from '../../../src/bus/index.ts';
import { openDatabase, type DatabaseHandle } from '../../../src/db/index.ts';
import { findTransaction, listEvents } from '../../../src/db/transactions.repository.ts';
import { testDatabases, type OpenTestDatabase } from '../../helpers/database.ts';
import { deleteStreams, natsUrlForTests, uniqueTestName } from '../../helpers/nats.ts';
import { accountAssigned, payment, transactionInput } from '../../fixtures/transactions.ts';
import { waitUntil } from '../../e2e/support.ts';

const quiet = { warn: () => {}, error: () => {}, info: () => {}, debug: () => {} };
const AT = '2026-11-24T10:10:00Z';
const PARTITIONS = 4;
const postgres = testDatabases().find((d) => d.name === 'postgres');
const natsUrl = natsUrlForTests();

/** Buses and database pools for `n` hosts that share one database (and, on NATS, one stream). */
interface World {
  database: OpenTestDatabase;
  bus(): Promise<EventBus>;
  pool(): Promise<Pick<DatabaseHandle, 'db' | 'close'>>;
  hosts: number;
  cleanup(): Promise<void>;
}

const worlds = [
  {
    name: 'in-process bus on PGlite',
    skip: false,
    async open(): Promise<World> {
      const database = await testDatabases()[0]!.open();
      const bus = createInProcessBus({ partitions: PARTITIONS, logger: silentLogger });
      return {
        database,
        hosts: 1,
        bus: async () => bus,
        // PGlite is one session: the one host shares the test's connection.
        pool: async () => ({ db: database.db, close: async () => {} }),
        cleanup: () => database.close(),
      };
    },
  },
  {
    name: 'NATS JetStream on PostgreSQL',
    skip: !postgres || !natsUrl,
    async open(): Promise<World> {
      const database = await postgres!.open();
      const prefix = uniqueTestName('actors');
      return {
        database,
        hosts: 3,
        bus: () => createNatsBus({ url: natsUrl!, prefix, partitions: PARTITIONS, logger: silentLogger }),
        pool: () => openDatabase({ url: database.url! }),
        cleanup: async () => {
          await deleteStreams(natsUrl!, [`${prefix}_events`]);
          await database.close();
        },
      };
    },
  },
];

describe.each(worlds)('actor host: $name', ({ open, skip }) => {
  let world: World | undefined;
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
    await world?.cleanup();
    world = undefined;
  });

  /** A host with its own bus connection and pool; stopped (in reverse order) after the test. */
  async function startHost(
    w: World,
    options: { leaseMs?: number; onCommit?: (info: { messages: number }) => void; holder?: string } = {},
  ) {
    const bus = await w.bus();
    const pool = await w.pool();
    const host = startActorHost({
      db: pool.db,
      bus,
      transactions: { payoutCustomerTypes: null, sep12: { types: {} } },
      log: quiet,
      leaseMs: options.leaseMs ?? 1_500,
      ...(options.holder && { holder: options.holder }),
      ...(options.onCommit && { onCommit: options.onCommit }),
    });
    closers.push(async () => {
      await host.stop();
      if (w.hosts > 1) await bus.close();
      await pool.close();
    });
    return { host, bus, db: pool.db };
  }

  async function createdTransactions(w: World, count: number): Promise<string[]> {
    const direct = createTransactionHost({ db: w.database.db });
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const input = transactionInput();
      await direct.create(input, { eventId: createMessageId(input.id), then: [accountAssigned()] });
      ids.push(input.id);
    }
    return ids;
  }

  async function allOwned(hosts: { host: ActorHost }[]) {
    await waitUntil('every partition to have an owner', () => {
      const owned = hosts.flatMap(({ host }) => host.partitions());
      return owned.length === PARTITIONS && new Set(owned).size === PARTITIONS;
    });
  }

  it.skipIf(skip)(
    'applies each message once, in order per transaction, also when published twice',
    async () => {
      const w = (world = await open());
      const hosts = [];
      for (let i = 0; i < w.hosts; i++) hosts.push(await startHost(w));
      await allOwned(hosts);
      const ids = await createdTransactions(w, 6);
      // Per transaction: the payment, a hold, then partial refunds, which need the funds: order matters.
      const streams = ids.map((id) => [
        transactionEventMessage(id, `${id}:pay`, { type: 'PAYMENT_RECEIVED', at: AT, payment: payment() }),
        transactionEventMessage(id, `${id}:hold`, { type: 'ERROR', at: AT, message: 'hold' }),
        ...Array.from({ length: 8 }, (_, i) =>
          transactionEventMessage(id, `${id}:refund:${i}`, {
            type: 'REFUND_SENT',
            at: AT,
            refund: { id: `r${i}`, amount: '1', fee: '0.1' },
          }),
        ),
      ]);
      // Every message twice, from different publishers, all of them at once.
      const publishers = hosts.map((h) => h.bus);
      await Promise.all(
        streams.map(async (stream, t) => {
          for (const [step, message] of stream.entries()) {
            await publishers[(t + step) % publishers.length]!.publish(message);
            await publishers[(t + step + 1) % publishers.length]!.publish(message);
          }
        }),
      );

      const finalVersion = 2 + 2 + 8;
      await waitUntil('every transaction to take all its events', async () => {
        const rows = await Promise.all(ids.map((id) => findTransaction(w.database.db, id)));
        return rows.every((row) => row?.version === finalVersion);
      });
      for (const [t, id] of ids.entries()) {
        const log = await listEvents(w.database.db, id);
        expect(log.map((e) => e.seq)).toEqual(Array.from({ length: finalVersion }, (_, i) => i + 1));
        expect(log.slice(2).map((e) => e.event_id)).toEqual(streams[t]!.map((m) => m.id));
        expect(await findTransaction(w.database.db, id)).toMatchObject({ amount_out: '89.7000000' });
      }
      expect(await w.database.db.selectFrom('refused_messages').selectAll().execute()).toEqual([]);
    },
  );

  it.skipIf(skip)('answers a request once its change is committed, and a repeat as a duplicate', async () => {
    const w = (world = await open());
    const { bus } = await startHost(w);
    const input = transactionInput();
    const message = createTransactionMessage(input, [accountAssigned()], null);
    const answer = (await bus.request(message, { timeoutMs: 10_000 })) as TransactionReply;
    expect(answer).toEqual({ outcome: 'applied', status: 'pending_sender', version: 2 });
    // The answer comes after the commit: the row is there when the requester hears back.
    expect(await findTransaction(w.database.db, input.id)).toMatchObject({ version: 2 });
    const again = (await bus.request(message, { timeoutMs: 10_000 })) as TransactionReply;
    expect(again).toEqual({ outcome: 'duplicate', status: 'pending_sender', version: 2 });

    const refused = (await bus.request(
      transactionEventMessage(input.id, 'complete-too-early', { type: 'PAYOUT_COMPLETED', at: AT }),
      { timeoutMs: 10_000 },
    )) as TransactionReply;
    expect(refused).toMatchObject({ outcome: 'refused', code: 'rejected', status: 'pending_sender' });
    expect(refused.outcome === 'refused' && refused.accepts).toContain('PAYMENT_RECEIVED');
  });

  it.skipIf(skip)('commits many messages per database transaction (group commit)', async () => {
    const w = (world = await open());
    const commits: number[] = [];
    const { bus } = await startHost(w, { onCommit: ({ messages }) => commits.push(messages) });
    const inputs = Array.from({ length: 200 }, () => transactionInput());
    await bus.publishMany(inputs.map((input) => createTransactionMessage(input, [accountAssigned()], null)));
    await waitUntil('all 200 to be committed', () => commits.reduce((a, b) => a + b, 0) >= 200);
    const rows = await w.database.db.selectFrom('transactions').select('id').execute();
    expect(rows).toHaveLength(200);
    // One database transaction per message would mean 200 commits.
    expect(commits.length).toBeLessThan(50);
  });

  it.skipIf(skip)('refuses a message that fails alone, and applies the others of its batch', async () => {
    const w = (world = await open());
    const commits: number[] = [];
    const { bus } = await startHost(w, { onCommit: ({ messages }) => commits.push(messages) });
    const good = Array.from({ length: 20 }, () => transactionInput());
    // PostgreSQL text cannot hold NUL: this create fails in the database, whatever is around it.
    const poison = transactionInput({ fields: { note: 'a\u0000b' } });
    const messages = [...good.slice(0, 10), poison, ...good.slice(10)].map((input) =>
      createTransactionMessage(input, [accountAssigned()], null),
    );
    const answers = (await Promise.all(
      messages.map((message) => bus.request(message, { timeoutMs: 20_000 })),
    )) as TransactionReply[];
    expect(answers.filter((a) => a.outcome === 'applied')).toHaveLength(20);
    expect(answers[10]).toMatchObject({ outcome: 'refused', code: 'failed' });
    expect(await findTransaction(w.database.db, poison.id)).toBeUndefined();
    const refused = await w.database.db.selectFrom('refused_messages').selectAll().execute();
    expect(refused).toMatchObject([{ message_id: createMessageId(poison.id), code: 'failed' }]);
    // The host keeps going after it.
    const later = transactionInput();
    await bus.request(createTransactionMessage(later, [accountAssigned()], null), { timeoutMs: 10_000 });
    expect(await findTransaction(w.database.db, later.id)).toBeDefined();
  });

  it.skipIf(skip)('stores a payment its transaction cannot take as unmatched, with the reason', async () => {
    const w = (world = await open());
    const { bus } = await startHost(w);
    const [id] = await createdTransactions(w, 1);
    const unmatchedInfo = (operationId: string) => ({
      operationId,
      transactionHash: 'f'.repeat(64),
      account: 'GDIST',
      fromAccount: 'GSENDER',
      amount: '100',
      assetCode: 'USDC',
      assetIssuer: 'GISSUER',
      memoType: 'text',
      memo: 'm',
      record: { id: operationId },
    });
    const credit = (transactionId: string, operationId: string) =>
      transactionEventMessage(
        transactionId,
        operationId,
        { type: 'PAYMENT_RECEIVED', at: AT, payment: payment({ operationId }) },
        unmatchedInfo(operationId),
      );
    await bus.publish(credit(id!, 'op-1'));
    await bus.publish(credit(id!, 'op-2')); // the transaction is no longer pending_sender
    const missing = randomUUID();
    await bus.publish(credit(missing, 'op-3'));
    await waitUntil('both refusals to be stored', async () => {
      const rows = await w.database.db.selectFrom('unmatched_payments').selectAll().execute();
      return rows.length === 2 ? rows : undefined;
    });
    const rows = await w.database.db
      .selectFrom('unmatched_payments')
      .select(['operation_id', 'reason', 'transaction_id'])
      .orderBy('operation_id')
      .execute();
    expect(rows).toEqual([
      { operation_id: 'op-2', reason: 'not_pending_sender', transaction_id: id },
      { operation_id: 'op-3', reason: 'unknown_memo', transaction_id: missing },
    ]);
    expect(await findTransaction(w.database.db, id!)).toMatchObject({ stellar_operation_id: 'op-1' });
  });
});

describe.skipIf(!postgres || !natsUrl)('actor hosts sharing partitions (NATS + PostgreSQL)', () => {
  let database: OpenTestDatabase;
  let prefix: string;
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
    await deleteStreams(natsUrl!, [`${prefix}_events`]);
    await database.close();
  });

  async function hostOf(holder: string, leaseMs = 1_500) {
    const bus = await createNatsBus({ url: natsUrl!, prefix, partitions: PARTITIONS, logger: silentLogger });
    const pool = await openDatabase({ url: database.url! });
    const host = startActorHost({
      db: pool.db,
      bus,
      transactions: { payoutCustomerTypes: null, sep12: { types: {} } },
      log: quiet,
      leaseMs,
      holder,
    });
    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      await host.stop();
      await bus.close();
      await pool.close();
    };
    closers.push(stop);
    return { host, bus, db: pool.db, stop };
  }

  async function setUp() {
    database = await postgres!.open();
    prefix = uniqueTestName('share');
  }

  it('shares the partitions fairly, and the others take over when a host leaves', async () => {
    await setUp();
    const a = await hostOf('host-a');
    const b = await hostOf('host-b');
    await waitUntil('a fair split', () => {
      const [pa, pb] = [a.host.partitions(), b.host.partitions()];
      return pa.length === 2 && pb.length === 2 && new Set([...pa, ...pb]).size === PARTITIONS;
    });
    await a.stop();
    await waitUntil('b to own everything', () => b.host.partitions().length === PARTITIONS);

    const direct = createTransactionHost({ db: database.db });
    const input = transactionInput();
    await direct.create(input, { eventId: createMessageId(input.id), then: [accountAssigned()] });
    await b.bus.publish(
      transactionEventMessage(input.id, 'pay', { type: 'PAYMENT_RECEIVED', at: AT, payment: payment() }),
    );
    await waitUntil('the survivor to apply it', async () =>
      (await findTransaction(database.db, input.id))?.status === 'pending_receiver' ? true : undefined,
    );
  });

  it('takes over the partitions of a host that died (its leases expire)', async () => {
    await setUp();
    // A host that died holding every partition: its leases stop being renewed.
    const now = new Date();
    await database.db
      .insertInto('leases')
      .values(
        Array.from({ length: PARTITIONS }, (_, p) => ({
          name: partitionLease(`${prefix}_events`, p),
          holder: 'dead-host',
          expires_at: new Date(now.getTime() + 1_000),
          acquired_at: now,
          renewed_at: now,
        })),
      )
      .execute();
    const survivor = await hostOf('survivor');
    expect(survivor.host.partitions()).toEqual([]);
    await waitUntil(
      'the survivor to own every partition',
      () => survivor.host.partitions().length === PARTITIONS,
      {
        timeoutMs: 15_000,
      },
    );
  });

  it('a stored position that moved under the host fences its commit: it re-reads, applying nothing twice', async () => {
    await setUp();
    const a = await hostOf('host-a');
    await waitUntil('a to own everything', () => a.host.partitions().length === PARTITIONS);
    const direct = createTransactionHost({ db: database.db });
    const input = transactionInput();
    await direct.create(input, { eventId: createMessageId(input.id), then: [accountAssigned()] });
    const partition = partitionOf(`transaction:${input.id}`, PARTITIONS);
    const send = (message: BusMessage) => a.bus.request(message, { timeoutMs: 10_000 });
    await send(transactionEventMessage(input.id, 'hold', { type: 'ERROR', at: AT, message: 'one' }));

    // The stored position changes under the host (as when another owner committed while it was paused).
    const notes = Array.from({ length: 5 }, (_, i) =>
      transactionEventMessage(input.id, `note-${i}`, { type: 'ERROR', at: AT, message: `note ${i}` }),
    );
    await database.db
      .updateTable('partition_offsets')
      .set({ position: 0 })
      .where('stream', '=', `${prefix}_events`)
      .where('partition', '=', partition)
      .execute();
    for (const note of notes) await send(note);
    const log = await listEvents(database.db, input.id);
    expect(log.map((e) => e.event_id)).toEqual([
      createMessageId(input.id),
      `${createMessageId(input.id)}:1`,
      'hold',
      ...notes.map((n) => n.id),
    ]);
  });
});
