import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Kysely } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { initialContext } from '../../../machines/index.ts';
import type { Database } from '../../../src/db/index.ts';
import { findTransaction } from '../../../src/db/transactions.repository.ts';
import { createHttpRails, executeResult, HttpRailsError } from '../../../src/integrations/http-rails.ts';
import type { OutboxRelay } from '../../../src/effects/index.ts';
import {
  createRailsIntegration,
  type ExecuteOutgoingResult,
  type RailsIntegration,
  type RailsTransaction,
} from '../../../src/integrations/rails-integration.ts';
import {
  payoutResultEventId,
  pollEventId,
  runPollOutgoingPass,
  startPayoutRelay,
  toRailsTransaction,
} from '../../../src/workers/index.ts';
import { transactionInput } from '../../fixtures/transactions.ts';
import { testDatabases } from '../../helpers/database.ts';
import {
  captureLog,
  eventIds,
  funded,
  openWorkerWorld,
  payoutRows,
  refusals,
  TEST_PAYOUT_RELAY,
  type WorkerWorld,
} from './support.ts';

// ---------------------------------------------------------------------------------------------------------
// A business server on 127.0.0.1 implementing docs/rails-http.md, with a payout book keyed by idempotency key.

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

type Misbehaviour = 'none' | 'fail-after-paying' | 'hang-after-paying';

async function startBusinessServer() {
  const received: Received[] = [];
  const book = new Map<string, { transactionId: string; answer: Record<string, unknown> }>();
  const settled = new Set<string>();
  let payouts = 0;
  let next: Misbehaviour[] = [];
  let answerFor: (transaction: RailsTransaction) => Record<string, unknown> = (transaction) => ({
    status: 'pending_external',
    external_transaction_id: `bank-${transaction.id}`,
  });
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const url = new URL(req.url ?? '/', 'http://localhost');
      const json = (status: number, value: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (req.method === 'POST' && url.pathname === '/rails/payouts') {
        const { transaction, idempotency_key: key } = JSON.parse(body) as {
          transaction: RailsTransaction;
          idempotency_key: string;
        };
        // Honour the key: a repeat is the same payout, answered as the first time.
        if (!book.has(key)) {
          payouts++;
          book.set(key, { transactionId: transaction.id, answer: answerFor(transaction) });
        }
        const misbehaviour = next.shift() ?? 'none';
        if (misbehaviour === 'hang-after-paying') return;
        if (misbehaviour === 'fail-after-paying') return json(503, { error: 'database unavailable' });
        return json(200, book.get(key)!.answer);
      }
      if (req.method === 'GET' && url.pathname === '/rails/payouts') {
        const ids = (url.searchParams.get('ids') ?? '').split(',');
        const entries = [...book.values()]
          .filter((entry) => ids.includes(entry.transactionId))
          .map((entry) => ({
            id: entry.transactionId,
            status: settled.has(entry.transactionId) ? 'completed' : 'pending_external',
            external_transaction_id: entry.answer.external_transaction_id,
          }));
        // Someone else's payout, which must be ignored.
        entries.push({ id: 'not-asked-about', status: 'failed', external_transaction_id: 'x' });
        return json(200, { payouts: entries });
      }
      json(404, { error: 'not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/rails`,
    received,
    payouts: () => payouts,
    misbehave(...plan: Misbehaviour[]) {
      next = plan;
    },
    answer(fn: typeof answerFor) {
      answerFor = fn;
    },
    settle(transactionId: string) {
      settled.add(transactionId);
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
type BusinessServer = Awaited<ReturnType<typeof startBusinessServer>>;

const posts = (server: BusinessServer) => server.received.filter((r) => r.method === 'POST');

function railsTransaction(): RailsTransaction {
  return toRailsTransaction(
    'pending_receiver',
    initialContext(transactionInput({ receiverId: 'receiver-9' })),
  );
}

// ---------------------------------------------------------------------------------------------------------

describe.each(testDatabases())('payouts through the HTTP rails on $name', (database) => {
  let world: WorkerWorld;
  let db: Kysely<Database>;
  let server: BusinessServer;
  let relay: OutboxRelay | undefined;
  let now: Date;
  const clock = () => now;

  beforeEach(async () => {
    world = await openWorkerWorld(database);
    db = world.db;
    server = await startBusinessServer();
    now = new Date(Math.ceil((Date.now() + 60_000) / 1000) * 1000);
  });
  afterEach(async () => {
    await relay?.stop();
    relay = undefined;
    await server.close();
    await world.close();
  });

  function payoutRelay(rails: RailsIntegration) {
    relay = startPayoutRelay({
      db,
      bus: world.bus,
      rails,
      ...TEST_PAYOUT_RELAY,
      clock,
      log: captureLog().log,
    });
    return relay;
  }

  it('an error after the business server paid is retried with the same key: one payout, then polled', async () => {
    const rails = createRailsIntegration({ kind: 'http', baseUrl: server.baseUrl }, { db });
    const relay = payoutRelay(rails);
    // Funded with its customers ACCEPTED: its actor requests the payout.
    const { input } = await funded(world);
    server.misbehave('fail-after-paying');
    await relay.runOnce();
    expect((await findTransaction(db, input.id))!.state_value).toEqual({ pending_receiver: 'paying_out' });
    expect((await payoutRows(db, input.id))[0]).toMatchObject({
      state: 'pending',
      last_error: expect.stringContaining('HTTP 503'),
    });

    now = new Date(now.getTime() + 5_000);
    await relay.runOnce();
    expect(await findTransaction(db, input.id)).toMatchObject({
      status: 'pending_external',
      external_transaction_id: `bank-${input.id}`,
    });
    expect(server.payouts()).toBe(1);
    const [first, second] = posts(server);
    expect(first!.headers['idempotency-key']).toBe(`${input.id}:payout:1`);
    expect(second!.headers['idempotency-key']).toBe(`${input.id}:payout:1`);
    const body = JSON.parse(first!.body) as { transaction: RailsTransaction; idempotency_key: string };
    expect(body.idempotency_key).toBe(`${input.id}:payout:1`);
    expect(body.transaction).toMatchObject({
      id: input.id,
      amount_out: '98.5',
      amount_out_asset: input.amountOutAsset,
      receiver_id: input.receiverId,
      sender_id: input.senderId,
      funding_method: 'SEPA',
    });

    const poll = () => runPollOutgoingPass({ db, bus: world.bus, clock, rails });
    expect(await poll()).toMatchObject({ polled: 1, pending: 1 });
    expect((await findTransaction(db, input.id))!.status).toBe('pending_external');
    server.settle(input.id);
    expect(await poll()).toMatchObject({ polled: 1, completed: 1, errors: 0 });
    expect(await findTransaction(db, input.id)).toMatchObject({ status: 'completed' });
    expect(await eventIds(db, input.id)).toContain(pollEventId(input.id, 1));
    // The business server's answer about someone else's payout was ignored: nothing refused, nothing else moved.
    expect(await refusals(db, input.id)).toEqual([]);
    const gets = server.received.filter((r) => r.method === 'GET');
    expect(gets.at(-1)!.url).toBe(`/rails/payouts?ids=${input.id}`);
  });

  it('customer_info_needed from the business server: the transaction asks for the fields it names', async () => {
    const rails = createRailsIntegration({ kind: 'http', baseUrl: server.baseUrl }, { db });
    server.answer(() => ({
      status: 'customer_info_needed',
      message: 'wrong account number',
      customer_type: 'sep31-receiver',
      fields: ['bank_account_number'],
    }));
    const { input } = await funded(world);
    await payoutRelay(rails).runOnce();
    expect(await findTransaction(db, input.id)).toMatchObject({
      status: 'pending_customer_info_update',
      required_info_message: 'wrong account number',
    });
    const [event] = await db
      .selectFrom('transaction_events')
      .select(['event_id', 'payload'])
      .where('transaction_id', '=', input.id)
      .where('event_type', '=', 'CUSTOMER_INFO_NEEDED')
      .execute();
    expect(event).toMatchObject({
      event_id: payoutResultEventId(`${input.id}:payout:1`),
      payload: {
        customerType: 'sep31-receiver',
        fields: ['bank_account_number'],
        message: 'wrong account number',
      },
    });
    expect(server.payouts()).toBe(1);
  });
});

describe('the HTTP rails adapter', () => {
  let server: BusinessServer;
  beforeAll(async () => {
    server = await startBusinessServer();
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.misbehave();
    server.received.length = 0;
  });

  it('a timeout is an unknown outcome: it throws, and the retry with the same key gets the first answer', async () => {
    const rails = createHttpRails({ baseUrl: server.baseUrl, timeoutMs: 200 });
    const transaction = railsTransaction();
    const payoutsBefore = server.payouts();
    server.misbehave('hang-after-paying');
    const key = `${transaction.id}:payout:1`;
    const error = await rails
      .executeOutgoingTransaction(transaction, { idempotencyKey: key })
      .catch((e) => e);
    expect(error).toBeInstanceOf(HttpRailsError);
    expect((error as Error).message).toMatch(/timed out after 200 ms/);
    expect(await rails.executeOutgoingTransaction(transaction, { idempotencyKey: key })).toEqual({
      status: 'pending_external',
      externalTransactionId: `bank-${transaction.id}`,
    });
    expect(server.payouts() - payoutsBefore).toBe(1);
  });

  it('sends the bearer token, and maps every answer of the contract', async () => {
    const rails = createHttpRails({ baseUrl: `${server.baseUrl}/`, authToken: 'secret-token' });
    const answers: Record<string, unknown>[] = [
      { status: 'completed', external_transaction_id: 'bank-1', message: 'paid' },
      { status: 'completed' },
      { status: 'failed', message: 'account closed' },
      {
        status: 'customer_info_needed',
        message: 'wrong account number',
        customer_type: 'sep31-receiver',
        fields: ['bank_account_number'],
      },
    ];
    const expected: ExecuteOutgoingResult[] = [
      { status: 'completed', externalTransactionId: 'bank-1', message: 'paid' },
      { status: 'completed' },
      { status: 'failed', message: 'account closed' },
      {
        status: 'customer_info_needed',
        message: 'wrong account number',
        customerType: 'sep31-receiver',
        fields: ['bank_account_number'],
      },
    ];
    for (const [i, answer] of answers.entries()) {
      server.answer(() => answer);
      const result = await rails.executeOutgoingTransaction(railsTransaction(), {
        idempotencyKey: `map-${i}`,
      });
      expect(result).toEqual(expected[i]);
    }
    expect(server.received.every((r) => r.headers.authorization === 'Bearer secret-token')).toBe(true);
    expect(server.received.every((r) => r.url === '/rails/payouts')).toBe(true);
  });

  it('anything but a 2xx outcome throws (never reads as failed): 404, a bad body, an unknown status', async () => {
    const wrong = createHttpRails({ baseUrl: `${server.baseUrl}/nowhere` });
    const error = await wrong
      .executeOutgoingTransaction(railsTransaction(), { idempotencyKey: 'x-1' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpRailsError);
    expect(error).toMatchObject({ status: 404 });

    for (const body of [null, [], { status: 'paid' }, { status: 'pending_external' }, { status: 'failed' }]) {
      expect(() => executeResult(body)).toThrow(HttpRailsError);
    }
    expect(() => executeResult({ status: 'customer_info_needed', message: 'm', fields: [1] })).toThrow(
      HttpRailsError,
    );

    const unreachable = createHttpRails({ baseUrl: 'http://127.0.0.1:1/rails', timeoutMs: 1_000 });
    await expect(
      unreachable.executeOutgoingTransaction(railsTransaction(), { idempotencyKey: 'x-2' }),
    ).rejects.toBeInstanceOf(HttpRailsError);
    await expect(unreachable.pollOutgoingTransactions([railsTransaction()])).rejects.toBeInstanceOf(
      HttpRailsError,
    );
  });

  it('polls in chunks, and keeps only answers about the transactions it asked for', async () => {
    const rails = createHttpRails({ baseUrl: server.baseUrl });
    server.answer((transaction) => ({
      status: 'pending_external',
      external_transaction_id: `bank-${transaction.id}`,
    }));
    const transactions = Array.from({ length: 60 }, () => railsTransaction());
    for (const transaction of transactions.slice(0, 3)) {
      await rails.executeOutgoingTransaction(transaction, { idempotencyKey: `${transaction.id}:payout:1` });
    }
    server.settle(transactions[1]!.id);
    server.received.length = 0;
    const results = await rails.pollOutgoingTransactions(transactions);
    expect(
      server.received.map((r) => new URL(r.url, 'http://x').searchParams.get('ids')!.split(',').length),
    ).toEqual([50, 10]);
    expect(results).toEqual([
      {
        id: transactions[0]!.id,
        status: 'pending_external',
        externalTransactionId: `bank-${transactions[0]!.id}`,
      },
      { id: transactions[1]!.id, status: 'completed', externalTransactionId: `bank-${transactions[1]!.id}` },
      {
        id: transactions[2]!.id,
        status: 'pending_external',
        externalTransactionId: `bank-${transactions[2]!.id}`,
      },
    ]);
  });
});
