import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeEventsToActors } from '../../../src/actors/event-router.ts';
import { createTransactionHost } from '../../../src/actors/transaction-host.ts';
import {
  createInProcessBus,
  createNatsBus,
  type BusSubscription,
  type EventBus,
} from '../../../src/bus/index.ts';
import { openDatabase, type DatabaseHandle } from '../../../src/db/index.ts';
import { findTransaction, listEvents } from '../../../src/db/transactions.repository.ts';
import type { TransactionEventEnvelope } from '../../../machines/index.ts';
import { testDatabases, type OpenTestDatabase } from '../../helpers/database.ts';
import { deleteStreams, natsUrlForTests, uniqueTestName } from '../../helpers/nats.ts';
import { waitFor } from '../bus/support.ts';
import { accountAssigned, payment, transactionInput } from '../../fixtures/transactions.ts';

const quiet = { info: () => {}, warn: () => {} };
const TRANSACTIONS = 6;
const REFUNDS_EACH = 10;

/** Several actor-host instances, each with its own bus connection and database pool. */
interface Setup {
  instances: number;
  bus(): Promise<EventBus>;
  pool(): Promise<Pick<DatabaseHandle, 'db' | 'close'>>;
  cleanup(): Promise<void>;
}

const postgres = testDatabases().find((d) => d.name === 'postgres');
const natsUrl = natsUrlForTests();

async function natsOnPostgres(database: OpenTestDatabase): Promise<Setup> {
  const streamName = uniqueTestName('ACTORS');
  const options = {
    url: natsUrl!,
    streamName,
    subjectPrefix: streamName.toLowerCase(),
    partitions: 4,
    ackWaitMs: 2_000,
  };
  return {
    instances: 3,
    bus: () => createNatsBus(options),
    pool: () => openDatabase({ url: database.url! }),
    cleanup: () => deleteStreams(natsUrl!, [streamName, `${streamName}_DEAD`]),
  };
}

async function inProcessOnPglite(database: OpenTestDatabase): Promise<Setup> {
  const bus = createInProcessBus({ partitions: 4 });
  return {
    instances: 1,
    bus: async () => bus,
    // PGlite is one session: the single instance shares the test's connection.
    pool: async () => ({ db: database.db, close: async () => {} }),
    cleanup: async () => {},
  };
}

const setups = [
  { name: 'in-process bus on PGlite', database: testDatabases()[0]!, make: inProcessOnPglite, skip: false },
  {
    name: 'NATS JetStream on PostgreSQL',
    database: postgres,
    make: natsOnPostgres,
    skip: !postgres || !natsUrl,
  },
];

describe.each(setups)('bus → actors: $name', ({ database: source, make, skip }) => {
  let database: OpenTestDatabase;
  let setup: Setup;
  const buses: EventBus[] = [];
  const pools: Pick<DatabaseHandle, 'db' | 'close'>[] = [];
  const subscriptions: BusSubscription[] = [];

  beforeAll(async () => {
    if (skip) return;
    database = await source!.open();
    setup = await make(database);
  });
  afterAll(async () => {
    if (skip) return;
    for (const s of subscriptions) await s.stop();
    for (const b of new Set(buses)) await b.close();
    for (const p of pools) await p.close();
    await setup.cleanup();
    await database.close();
  });

  it.skipIf(skip)('applies every published event exactly once, even when published twice', async () => {
    const host = createTransactionHost({ db: database.db });
    const at = '2026-11-24T10:10:00Z';
    const ids: string[] = [];
    for (let t = 0; t < TRANSACTIONS; t++) {
      const input = transactionInput();
      ids.push(input.id);
      await host.create(input, { eventId: 'create', then: [accountAssigned()] });
    }
    for (let i = 0; i < setup.instances; i++) {
      const bus = await setup.bus();
      const pool = await setup.pool();
      buses.push(bus);
      pools.push(pool);
      subscriptions.push(await routeEventsToActors(bus, createTransactionHost({ db: pool.db }), quiet));
    }

    // Per transaction: the payment, a hold, then partial refunds. Order matters (refunds need funds),
    // so this also checks per-transaction ordering across instances.
    const perTransaction = (id: string): TransactionEventEnvelope[] => [
      {
        eventId: `${id}:pay`,
        transactionId: id,
        event: { type: 'PAYMENT_RECEIVED', at, payment: payment() },
      },
      { eventId: `${id}:hold`, transactionId: id, event: { type: 'ERROR', at, message: 'hold' } },
      ...Array.from({ length: REFUNDS_EACH }, (_, i) => ({
        eventId: `${id}:refund:${i}`,
        transactionId: id,
        event: { type: 'REFUND_SENT' as const, at, refund: { id: `r${i}`, amount: '1', fee: '0.1' } },
      })),
    ];
    const streams = ids.map(perTransaction);
    for (let step = 0; step < streams[0]!.length; step++) {
      for (const [t, events] of streams.entries()) {
        const publisher = buses[(t + step) % buses.length]!;
        await publisher.publish(events[step]!);
        await buses[(t + step + 1) % buses.length]!.publish(events[step]!); // a duplicate, maybe elsewhere
      }
    }

    const finalVersion = 2 + 2 + REFUNDS_EACH;
    await waitFor('every transaction to take all its events', async () => {
      const rows = await Promise.all(ids.map((id) => findTransaction(database.db, id)));
      return rows.every((row) => row?.version === finalVersion);
    });
    for (const id of ids) {
      const log = await listEvents(database.db, id);
      expect(log.map((e) => e.seq)).toEqual(Array.from({ length: finalVersion }, (_, i) => i + 1));
      expect(log.slice(2).map((e) => e.event_id)).toEqual(streams[ids.indexOf(id)]!.map((e) => e.eventId));
      const row = await findTransaction(database.db, id);
      expect(row?.refunds).toMatchObject({ amountRefunded: '10', amountFee: '1' });
      expect(row?.amount_out).toBe('87.5000000');
    }
    for (const bus of new Set(buses)) expect(await bus.deadLetters()).toEqual([]);
  });
});
