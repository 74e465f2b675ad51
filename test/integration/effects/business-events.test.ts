/**
 * Business events end to end below HTTP: the actor code writes them with each change, the outbox relay
 * delivers them to NATS JetStream (read back with the example's durable consumer) and to a webhook.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Kysely } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TransactionEvent } from '../../../machines/index.ts';
import { createCustomerActors } from '../../../src/actors/customer-actors.ts';
import { customerAddress, quoteAddress } from '../../../src/actors/messages.ts';
import { createQuoteActors } from '../../../src/actors/quote-actors.ts';
import { createTransactionHost, type TransactionHost } from '../../../src/actors/transaction-host.ts';
import {
  businessEventsStreamName,
  openBusinessEventStream,
  type BusinessEventStream,
  type Delivery,
} from '../../../src/bus/index.ts';
import type { Config } from '../../../src/config/index.ts';
import type { Database } from '../../../src/db/database.ts';
import { claimDue } from '../../../src/db/outbox.repository.ts';
import {
  natsEventHandler,
  startOutboxRelay,
  verifyCallbackSignature,
  webhookEventHandler,
  type BusinessEvent,
  type BusinessEventKind,
  type EffectHandler,
} from '../../../src/effects/index.ts';
import { consumeEvents, type MooringEvent } from '../../../examples/events-consumer/consume.ts';
import { accountAssigned, payment, SENDING_ANCHOR, transactionInput } from '../../fixtures/transactions.ts';
import { quietLog, testConfig } from '../../helpers/app.ts';
import { testDatabases, type OpenTestDatabase } from '../../helpers/database.ts';
import { deleteStreams, natsUrlForTests, uniqueTestName } from '../../helpers/nats.ts';

const natsUrl = natsUrlForTests();

let config: Config;
let cleanupConfig: () => Promise<void>;
beforeAll(async () => {
  ({ config, cleanup: cleanupConfig } = await testConfig());
});
afterAll(() => cleanupConfig());

/** The status each event of a transaction stepped by `lifecycle` shows, in order. */
const LIFECYCLE = [
  ['transaction_created', 'pending_receiver'],
  ['transaction_status_changed', 'pending_sender'],
  ['transaction_status_changed', 'pending_receiver'],
  ['transaction_status_changed', 'pending_receiver'],
  ['transaction_status_changed', 'pending_external'],
  ['transaction_status_changed', 'completed'],
];

function lifecycle(): TransactionEvent[] {
  return [
    accountAssigned(),
    { type: 'PAYMENT_RECEIVED', at: '2026-11-24T10:05:01.000Z', payment: payment() },
    { type: 'PAYOUT_REQUESTED', at: '2026-11-24T10:06:00.000Z' },
    { type: 'PAYOUT_PENDING_EXTERNAL', at: '2026-11-24T10:07:00.000Z', externalTransactionId: 'ext-1' },
    { type: 'PAYOUT_COMPLETED', at: '2026-11-24T10:08:00.000Z' },
  ];
}

/** Creates `count` transactions and steps them interleaved (one event of each in turn). */
async function runTransactions(host: TransactionHost, count: number): Promise<string[]> {
  const inputs = Array.from({ length: count }, () => transactionInput());
  for (const input of inputs) await host.create(input, { eventId: `create-${input.id}` });
  const steps = inputs.map(() => lifecycle());
  for (let i = 0; i < steps[0]!.length; i++) {
    for (const [t, input] of inputs.entries()) {
      const event = steps[t]![i]!;
      await host.apply({ eventId: `${input.id}:${i}`, transactionId: input.id, event });
    }
  }
  return inputs.map((input) => input.id);
}

/** The (type, status) sequence of each transaction's events, by transaction id. */
function byTransaction(events: readonly MooringEvent[] | readonly BusinessEvent[]) {
  const seen = new Map<string, string[][]>();
  for (const event of events) {
    const transaction = (event.payload as { transaction?: { id: string; status: string } }).transaction;
    if (!transaction) continue;
    seen.set(transaction.id, [...(seen.get(transaction.id) ?? []), [event.type, transaction.status]]);
  }
  return seen;
}

async function startWebhook() {
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  let answer: (event: BusinessEvent) => number = () => 204;
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const status = answer(JSON.parse(body) as BusinessEvent);
      if (status < 300) received.push({ headers: req.headers, body });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mooring/events`,
    received,
    events: () => received.map((r) => JSON.parse(r.body) as BusinessEvent),
    answer(fn: (event: BusinessEvent) => number) {
      answer = fn;
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe.each(testDatabases())('business events on $name', (database) => {
  let t: OpenTestDatabase;
  let db: Kysely<Database>;
  let now: Date;
  const clock = () => now;
  const advance = (ms: number) => (now = new Date(now.getTime() + ms));

  beforeEach(async () => {
    t = await database.open();
    db = t.db;
    // Outbox rows are due at the database's now(); the relay's clock runs a little ahead of it.
    now = new Date(Math.ceil((Date.now() + 60_000) / 1000) * 1000);
  });
  afterEach(() => t.close());

  function relay(kind: BusinessEventKind, handler: EffectHandler, workerId = `relay-${kind}`) {
    return startOutboxRelay({
      db,
      handlers: { [kind]: handler },
      workerId,
      intervalMs: 60_000,
      batchSize: 7,
      leaseMs: 60_000,
      maxAttempts: 5,
      clock,
      log: quietLog,
      autoStart: false,
      backoff: { initialMs: 1_000, factor: 2, maxMs: 10_000 },
    });
  }

  const rows = (kind: string) =>
    db.selectFrom('outbox').selectAll().where('kind', '=', kind).orderBy('id').execute();

  describe('the webhook', () => {
    let webhook: Awaited<ReturnType<typeof startWebhook>>;
    beforeEach(async () => {
      webhook = await startWebhook();
    });
    afterEach(() => webhook.close());

    it('receives every change of every transaction, signed, in order per transaction', async () => {
      const host = createTransactionHost({ db, eventKinds: ['event_webhook'] });
      const ids = await runTransactions(host, 3);
      const events = relay('event_webhook', webhookEventHandler({ url: webhook.url, config }));
      while ((await events.runOnce()) > 0);

      const received = webhook.events();
      expect(received).toHaveLength(3 * LIFECYCLE.length);
      expect(new Set(received.map((e) => e.id)).size).toBe(received.length);
      const sequences = byTransaction(received);
      for (const id of ids) expect(sequences.get(id)).toEqual(LIFECYCLE);
      // Each body is what was committed, and what the outbox holds.
      const stored = (await rows('event_webhook')).map((r) => (r.payload as { event: BusinessEvent }).event);
      expect(new Set(received.map((e) => e.id))).toEqual(new Set(stored.map((e) => e.id)));
      for (const request of webhook.received) {
        expect(request.headers['content-type']).toBe('application/json');
        const check = verifyCallbackSignature({
          header: request.headers.signature as string,
          url: webhook.url,
          body: request.body,
          signingKey: config.signingKey,
          now,
        });
        expect(check.ok).toBe(true);
      }
      const completed = received.find(
        (e) => (e.payload as { transaction: { status: string } }).transaction.status === 'completed',
      );
      expect(completed?.payload).toMatchObject({
        transaction: { external_transaction_id: 'ext-1', completed_at: '2026-11-24T10:08:00.000Z' },
      });
      expect((await rows('event_webhook')).every((r) => r.state === 'done')).toBe(true);
    });

    it('retries a failing webhook with backoff, holding back the later events of that transaction', async () => {
      const host = createTransactionHost({ db, eventKinds: ['event_webhook'] });
      const [id] = await runTransactions(host, 1);
      let failures = 0;
      // The business server is down for its first two attempts at the third event.
      webhook.answer((event) => {
        const status = (event.payload as { transaction: { status: string } }).transaction.status;
        const third = status === 'pending_receiver' && webhook.received.length === 2;
        if (third && failures < 2) {
          failures++;
          return 503;
        }
        return 204;
      });
      const events = relay('event_webhook', webhookEventHandler({ url: webhook.url, config }));
      await events.runOnce();
      expect(webhook.received).toHaveLength(2);
      const failed = (await rows('event_webhook'))[2]!;
      expect(failed).toMatchObject({ state: 'pending', attempts: 1 });
      expect(failed.last_error).toMatch(/answered 503/);

      // Not due before its backoff; then it fails once more, then it goes through, and the rest follow.
      expect(await events.runOnce()).toBe(0);
      advance(1_000);
      await events.runOnce();
      expect(webhook.received).toHaveLength(2);
      advance(2_000);
      while ((await events.runOnce()) > 0);
      expect(failures).toBe(2);
      expect(byTransaction(webhook.events()).get(id!)).toEqual(LIFECYCLE);
      expect((await rows('event_webhook'))[2]).toMatchObject({ state: 'done', attempts: 3 });
    });

    it('receives customer_updated and quote_created events', async () => {
      const customers = createCustomerActors({ sep12: config.sep12, eventKinds: ['event_webhook'] });
      const quotes = createQuoteActors({ eventKinds: ['event_webhook'], clock });
      const memo = String(Date.now());
      const put = (fields: Record<string, string>) => ({
        type: 'put',
        customerId: null,
        customerType: 'sep31-receiver',
        transactionId: null,
        fields,
        files: [],
        verifications: {},
      });
      const customerAt = customerAddress(SENDING_ANCHOR, memo);
      const quoteId = randomUUID();
      const quote = {
        type: 'create',
        quote: {
          account: SENDING_ANCHOR,
          memo: null,
          context: 'sep31',
          sellAsset: 'stellar:USDC:GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVN',
          sellAmount: '100',
          sellDeliveryMethod: null,
          buyAsset: 'iso4217:USD',
          buyAmount: '99',
          buyDeliveryMethod: 'SEPA',
          countryCode: null,
          price: '1',
          totalPrice: '1.0101010',
          fee: { total: '1', asset: 'stellar:USDC:GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVN' },
          expiresAt: '2026-12-03T21:00:00.000Z',
          createdAt: '2026-12-03T20:00:00.000Z',
        },
      };
      const delivery = (id: string, to: string, body: unknown): Delivery => ({
        message: { id, to, body },
        partition: 0,
        position: 0,
        replyTo: null,
      });
      await db.transaction().execute(async (trx) => {
        await customers.apply(trx, [
          { delivery: delivery('c1', customerAt, put({ first_name: 'Ada' })), address: customerAt },
        ]);
        await customers.apply(trx, [
          { delivery: delivery('c2', customerAt, put({ last_name: 'Lovelace' })), address: customerAt },
        ]);
        await quotes.apply(trx, [
          { delivery: delivery('q1', quoteAddress(quoteId), quote), address: quoteAddress(quoteId) },
        ]);
        // A repeated create (bus redelivery) is no new quote: no second event.
        await quotes.apply(trx, [
          { delivery: delivery('q1', quoteAddress(quoteId), quote), address: quoteAddress(quoteId) },
        ]);
      });

      const events = relay('event_webhook', webhookEventHandler({ url: webhook.url, config }));
      while ((await events.runOnce()) > 0);
      const received = webhook.events();
      const customerEvents = received.filter((e) => e.type === 'customer_updated');
      expect(customerEvents.length).toBeGreaterThanOrEqual(2);
      const versions = customerEvents.map(
        (e) => (e.payload as { customer: { version: number } }).customer.version,
      );
      expect(new Set(versions).size).toBe(versions.length);
      for (const event of customerEvents) {
        expect(event).toMatchObject({
          sep: '12',
          payload: {
            customer: {
              id: expect.any(String),
              account: SENDING_ANCHOR,
              memo,
              type: 'sep31-receiver',
              status: expect.any(String),
              statuses: expect.objectContaining({ 'sep31-receiver': expect.any(String) }),
            },
          },
        });
      }
      const quoteEvents = received.filter((e) => e.type === 'quote_created');
      expect(quoteEvents).toHaveLength(1);
      expect(quoteEvents[0]).toMatchObject({
        sep: '38',
        timestamp: now.toISOString(),
        payload: {
          quote: {
            id: quoteId,
            sell_amount: '100',
            buy_amount: '99',
            expires_at: '2026-12-03T21:00:00.000Z',
          },
        },
      });
    });
  });

  describe.skipIf(natsUrl === undefined)('NATS JetStream', () => {
    let prefix: string;
    let stream: BusinessEventStream;

    beforeEach(async () => {
      prefix = uniqueTestName('ev');
      stream = await openBusinessEventStream({ url: natsUrl!, prefix });
    });
    afterEach(async () => {
      await stream.close();
      await deleteStreams(natsUrl!, [businessEventsStreamName(prefix)]);
    });

    /** Reads `count` events with the example's durable consumer, then stops it. */
    async function consume(count: number, durable = 'business'): Promise<MooringEvent[]> {
      const events: MooringEvent[] = [];
      const controller = new AbortController();
      const done = consumeEvents({
        servers: natsUrl!,
        prefix,
        durable,
        signal: controller.signal,
        handle(event) {
          events.push(event);
          if (events.length === count) controller.abort();
        },
      });
      const timeout = setTimeout(() => controller.abort(), 20_000);
      await done;
      clearTimeout(timeout);
      return events;
    }

    it('delivers each transaction’s events in order, with unique ids, on a durable consumer', async () => {
      const host = createTransactionHost({ db, eventKinds: ['event_nats'] });
      const ids = await runTransactions(host, 4);
      const events = relay('event_nats', natsEventHandler(stream));
      while ((await events.runOnce()) > 0);

      const received = await consume(4 * LIFECYCLE.length);
      expect(received).toHaveLength(4 * LIFECYCLE.length);
      expect(new Set(received.map((e) => e.id)).size).toBe(received.length);
      const sequences = byTransaction(received);
      for (const id of ids) expect(sequences.get(id)).toEqual(LIFECYCLE);

      // The durable consumer resumes where it stopped: later events only.
      const late = transactionInput();
      await host.create(late, { eventId: `create-${late.id}` });
      while ((await events.runOnce()) > 0);
      const [next, ...more] = await consume(1);
      expect(more).toEqual([]);
      expect(next).toMatchObject({ type: 'transaction_created', payload: { transaction: { id: late.id } } });
    });

    it('drops the repeat of an event a crashed relay published but never recorded', async () => {
      const host = createTransactionHost({ db, eventKinds: ['event_nats'] });
      const [id] = await runTransactions(host, 1);

      // A relay claims the first rows, publishes them, and dies before recording it.
      const claimed = await claimDue(db, {
        workerId: 'dead-relay',
        limit: 10,
        leaseMs: 60_000,
        now,
        kinds: ['event_nats'],
        inOrder: true,
      });
      expect(claimed).toHaveLength(1); // one row of the transaction at a time
      const publish = natsEventHandler(stream);
      await publish(claimed[0]!, { now, signal: new AbortController().signal, attempt: 1 });

      // Another relay takes over once the lease expired, and publishes that row again, then the rest.
      advance(61_000);
      const events = relay('event_nats', natsEventHandler(stream), 'relay-b');
      while ((await events.runOnce()) > 0);
      expect((await rows('event_nats')).map((r) => [r.state, r.claimed_by])).toEqual(
        Array.from({ length: LIFECYCLE.length }, () => ['done', 'relay-b']),
      );

      const received = await consume(LIFECYCLE.length);
      expect(byTransaction(received).get(id!)).toEqual(LIFECYCLE);
      expect(new Set(received.map((e) => e.id)).size).toBe(LIFECYCLE.length);
      // JetStream kept one copy: the repeat had the same Nats-Msg-Id.
      const again = (claimed[0]!.payload as { event: BusinessEvent }).event;
      expect(await stream.publish('transaction.created', again.id, JSON.stringify(again))).toEqual({
        duplicate: true,
      });
    });
  });
});
