/**
 * The world the worker tests run in, as in production: the workers and the payout effect publish on a bus,
 * an actor host applies what arrives (in-process bus by default, NATS JetStream when asked), and the tests
 * read the ledger (transactions, transaction_events, outbox, refused_messages) once the bus delivered.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import {
  persistCustomer,
  startCustomer,
  stepCustomerAll,
  type CustomerEvent,
  type CustomerStatus,
  type TransactionInput,
} from '../../../machines/index.ts';
import { startActorHost, type ActorHost } from '../../../src/actors/actor-host.ts';
import { createCustomerActors } from '../../../src/actors/customer-actors.ts';
import { transactionAddress, transactionEventMessage } from '../../../src/actors/messages.ts';
import { createTransactionHost, type TransactionHost } from '../../../src/actors/transaction-host.ts';
import {
  createInProcessBus,
  createNatsBus,
  silentLogger,
  streamName,
  type EventBus,
} from '../../../src/bus/index.ts';
import { DEFAULT_SEP12_UPLOADS, type Config } from '../../../src/config/index.ts';
import { toJson, type Database } from '../../../src/db/index.ts';
import { findEvent } from '../../../src/db/transactions.repository.ts';
import { actorMessageHandler, startOutboxRelay, type OutboxRelay } from '../../../src/effects/index.ts';
import type { WorkerLog } from '../../../src/workers/index.ts';
import { SENDING_ANCHOR, accountAssigned, payment, transactionInput } from '../../fixtures/transactions.ts';
import type { OpenTestDatabase, TestDatabase } from '../../helpers/database.ts';
import { deleteStreams, uniqueTestName } from '../../helpers/nats.ts';
import { waitFor } from '../bus/support.ts';

export const CUSTOMER_TYPES = ['sep31-sender', 'sep31-receiver'] as const;

/** The SEP-12 types the anchor KYCs, each needing the one field the fixtures' customers have. */
export const TEST_SEP12: Config['sep12'] = {
  uploads: DEFAULT_SEP12_UPLOADS,
  types: {
    'sep31-sender': { description: 'the sender', fields: ['first_name'] },
    'sep31-receiver': { description: 'the receiver', fields: ['first_name'] },
  },
};

export const quietLog = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

const PARTITIONS = 4;

export interface WorkerWorld {
  database: OpenTestDatabase;
  db: Kysely<Database>;
  /** Direct application, for fixtures only: it never requests a payout by itself. */
  host: TransactionHost;
  bus: EventBus;
  /** The NATS prefix of the bus (another connection to it is another process), or null in-process. */
  natsPrefix: string | null;
  /** Requests payouts by itself, like production (`payoutCustomerTypes` = both SEP-31 types). */
  actors: ActorHost;
  /** Publishes what actors tell each other (a customer's `customers_changed` to its transactions). */
  messages: OutboxRelay;
  close(): Promise<void>;
}

/**
 * A fresh database with a bus and an actor host (transactions and SEP-12 customers) on it. With `natsUrl`,
 * the bus is NATS JetStream on a prefix of its own, deleted on close, and the host owns every partition
 * before this resolves.
 */
export async function openWorkerWorld(
  database: TestDatabase,
  options: { natsUrl?: string; clock?: () => Date } = {},
): Promise<WorkerWorld> {
  const opened = await database.open();
  const db = opened.db;
  const prefix = uniqueTestName('workers');
  const bus = options.natsUrl
    ? await createNatsBus({ url: options.natsUrl, prefix, partitions: PARTITIONS, logger: silentLogger })
    : createInProcessBus({ partitions: PARTITIONS, logger: silentLogger });
  const actors = startActorHost({
    db,
    bus,
    transactions: { payoutCustomerTypes: CUSTOMER_TYPES, sep12: TEST_SEP12 },
    customers: createCustomerActors({ sep12: TEST_SEP12 }),
    log: quietLog,
    leaseMs: 1_500,
    ...(options.clock && { clock: options.clock }),
  });
  const messages = startOutboxRelay({
    db,
    handlers: { actor_message: actorMessageHandler(bus) },
    workerId: 'test-messages',
    intervalMs: 60_000,
    batchSize: 100,
    leaseMs: 10_000,
    maxAttempts: 100,
    backoff: { initialMs: 50, factor: 2, maxMs: 1_000 },
    wake: bus.signals('outbox.actor_message'),
    log: quietLog,
  });
  const world: WorkerWorld = {
    database: opened,
    db,
    host: createTransactionHost({ db, sep12: TEST_SEP12 }),
    bus,
    natsPrefix: options.natsUrl ? prefix : null,
    actors,
    messages,
    async close() {
      await messages.stop();
      await actors.stop();
      await bus.close();
      if (options.natsUrl) await deleteStreams(options.natsUrl, [streamName(prefix)]);
      await opened.close();
    },
  };
  if (bus.durable) {
    try {
      await waitUntil(
        'the actor host to own every partition',
        () => actors.partitions().length === PARTITIONS,
      );
    } catch (error) {
      await world.close();
      throw error;
    }
  }
  return world;
}

/** Polls a condition until it holds (a deadline, not a speed claim): the bus tests' helper. */
export const waitUntil = waitFor;

// ---------------------------------------------------------------------------------------------------------
// Customers

const FIELDS = ['first_name'];

/** A customer's standing for one type, as SEP-12's customer machine records it. */
function standing(type: string, status: CustomerStatus, at: string) {
  const events = {
    NEEDS_INFO: [],
    PROCESSING: [{ type: 'FIELDS_PROVIDED', at, fields: FIELDS }],
    ACCEPTED: [
      { type: 'FIELDS_PROVIDED', at, fields: FIELDS },
      { type: 'FIELDS_VERIFIED', at, fields: FIELDS },
    ],
    REJECTED: [{ type: 'CUSTOMER_REJECTED', at, message: 'sanctioned' }],
  }[status] as CustomerEvent[];
  return persistCustomer(stepCustomerAll(startCustomer({ type, required: FIELDS, at }), events));
}

let memoCounter = 0;

export interface TestCustomer {
  id: string;
  account: string;
  memo: string;
}

/** A SEP-12 customer of `account` (default: the fixtures' sending anchor), written as SEP-12 leaves it. */
export async function customer(
  db: Kysely<Database>,
  statuses: Partial<Record<string, CustomerStatus>>,
  account = SENDING_ANCHOR,
): Promise<TestCustomer> {
  const id = randomUUID();
  // Customers are unique per (account, memo); a token without a memo sees all of its account's.
  const memo = String(++memoCounter);
  const at = '2026-11-24T09:00:00.000Z';
  const entries = Object.entries(statuses) as [string, CustomerStatus][];
  await db
    .insertInto('customers')
    .values({
      id,
      account,
      memo,
      type: entries.at(-1)?.[0] ?? null,
      status: entries.at(-1)?.[1] ?? 'NEEDS_INFO',
      fields: toJson({ first_name: { kind: 'text', value: 'Ada' } }),
      statuses: toJson(
        Object.fromEntries(entries.map(([type, status]) => [type, standing(type, status, at)])),
      ),
    })
    .execute();
  return { id, account, memo };
}

/** Changes a customer's standing behind every actor's back: nobody is told (no `customers_changed`). */
export async function setCustomerStatus(
  db: Kysely<Database>,
  customerId: string,
  type: string,
  status: CustomerStatus,
): Promise<void> {
  const row = await db
    .selectFrom('customers')
    .select('statuses')
    .where('id', '=', customerId)
    .executeTakeFirstOrThrow();
  const statuses = { ...row.statuses, [type]: standing(type, status, '2026-11-24T09:30:00.000Z') };
  await db
    .updateTable('customers')
    .set({ status, statuses: toJson(statuses) })
    .where('id', '=', customerId)
    .execute();
}

// ---------------------------------------------------------------------------------------------------------
// Transactions

/** A transaction waiting for the sender's payment (`pending_sender`). */
export async function awaitingPayment(
  host: TransactionHost,
  overrides: Partial<TransactionInput> = {},
): Promise<TransactionInput> {
  const input = transactionInput(overrides);
  await host.create(input, { eventId: `create-${input.id}`, then: [accountAssigned()] });
  return input;
}

/** The event id of the fixtures' payment of a transaction. */
export const paymentEventId = (transactionId: string) => `pay-${transactionId}`;

/** The sender's payment, as the watcher publishes it; resolves once the actor has taken it (any bus). */
export async function pay(world: Pick<WorkerWorld, 'bus' | 'db'>, transactionId: string): Promise<void> {
  const eventId = paymentEventId(transactionId);
  await world.bus.publish(
    transactionEventMessage(transactionId, eventId, {
      type: 'PAYMENT_RECEIVED',
      at: '2026-11-24T10:05:01.000Z',
      payment: payment(),
    }),
  );
  await waitUntil(`the payment of ${transactionId} to be applied`, async () =>
    Boolean(await findEvent(world.db, transactionId, eventId)),
  );
}

export interface FundedOptions {
  sender?: CustomerStatus;
  receiver?: CustomerStatus;
  /** The receiver is a customer of this account (another sending anchor's, say). */
  receiverAccount?: string;
  /** No receiver at all. */
  noReceiver?: boolean;
  /**
   * `bus` (default): the payment reaches the transaction's actor, which requests the payout at once when
   * its customers are ACCEPTED. `direct`: applied around the actor host, so nothing is requested (a funded
   * transaction whose actor was never told about its customers).
   */
  via?: 'bus' | 'direct';
}

export interface Funded {
  input: TransactionInput;
  sender: TestCustomer;
  receiver: TestCustomer | null;
}

/** A funded transaction whose sender and receiver are customers of its sending anchor (ACCEPTED by default). */
export async function funded(world: WorkerWorld, options: FundedOptions = {}): Promise<Funded> {
  const sender = await customer(world.db, { 'sep31-sender': options.sender ?? 'ACCEPTED' });
  const receiver = options.noReceiver
    ? null
    : await customer(world.db, { 'sep31-receiver': options.receiver ?? 'ACCEPTED' }, options.receiverAccount);
  const input = await awaitingPayment(world.host, { senderId: sender.id, receiverId: receiver?.id ?? null });
  if (options.via === 'direct') {
    await world.host.apply({
      eventId: paymentEventId(input.id),
      transactionId: input.id,
      event: { type: 'PAYMENT_RECEIVED', at: '2026-11-24T10:05:01.000Z', payment: payment() },
    });
  } else {
    await pay(world, input.id);
  }
  return { input, sender, receiver };
}

// ---------------------------------------------------------------------------------------------------------
// The ledger

export function captureLog() {
  const entries: { level: string; obj: object; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void entries.push({ level, obj, msg });
  const log: WorkerLog = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { log, entries };
}

export function eventTypes(db: Kysely<Database>, transactionId: string): Promise<string[]> {
  return db
    .selectFrom('transaction_events')
    .select('event_type')
    .where('transaction_id', '=', transactionId)
    .orderBy('seq')
    .execute()
    .then((rows) => rows.map((r) => r.event_type));
}

export function eventIds(db: Kysely<Database>, transactionId: string): Promise<string[]> {
  return db
    .selectFrom('transaction_events')
    .select('event_id')
    .where('transaction_id', '=', transactionId)
    .orderBy('seq')
    .execute()
    .then((rows) => rows.map((r) => r.event_id));
}

export function payoutRows(db: Kysely<Database>, transactionId: string) {
  return db
    .selectFrom('outbox')
    .selectAll()
    .where('transaction_id', '=', transactionId)
    .where('kind', '=', 'execute_payout')
    .orderBy('id')
    .execute();
}

/** What the transaction's actor refused, oldest first. */
export function refusals(db: Kysely<Database>, transactionId: string) {
  return db
    .selectFrom('refused_messages')
    .select(['message_id', 'kind', 'code', 'reason'])
    .where('actor', '=', transactionAddress(transactionId))
    .orderBy('id')
    .execute();
}

/** Payout relay settings for tests: driven by `runOnce` only, with leases and backoff the clock can pass. */
export const TEST_PAYOUT_RELAY = {
  workerId: 'payouts-a',
  intervalMs: 60_000,
  batchSize: 10,
  leaseMs: 60_000,
  handlerTimeoutMs: 10_000,
  maxAttempts: 5,
  backoff: { initialMs: 5_000 },
  autoStart: false,
} as const;
