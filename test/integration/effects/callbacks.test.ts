import type { Kysely } from 'kysely';
import { Keypair } from '@stellar/stellar-sdk';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TransactionContext, TransactionStatus } from '../../../machines/index.ts';
import { createTransactionHost, type TransactionHost } from '../../../src/actors/transaction-host.ts';
import type { Config } from '../../../src/config/index.ts';
import type { Database } from '../../../src/db/database.ts';
import { openDatabase } from '../../../src/db/index.ts';
import { insertEffects } from '../../../src/db/outbox.repository.ts';
import {
  callbackHandlers,
  PermanentEffectError,
  startOutboxRelay,
  verifyCallbackSignature,
  type EffectHandler,
  type OutboxRelayOptions,
  type RelayLog,
} from '../../../src/effects/index.ts';
import { toSep31Transaction } from '../../../src/views/sep31-transaction.ts';
import { accountAssigned, payment, transactionInput } from '../../fixtures/transactions.ts';
import { testConfig } from '../../helpers/app.ts';
import { testDatabases, type OpenTestDatabase } from '../../helpers/database.ts';

// ---------------------------------------------------------------------------------------------------------
// A sending anchor's callback endpoint on 127.0.0.1

interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

type Answer = { status: number; body?: string; headers?: Record<string, string>; delayMs?: number } | 'hang';

async function startReceiver() {
  const received: Received[] = [];
  let answer: (request: Received) => Answer = () => ({ status: 204 });
  const active = new Map<string, number>();
  let overlaps = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const request = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
      received.push(request);
      const reply = answer(request);
      if (reply === 'hang') return;
      // Concurrency per transaction, as the sending anchor would see it.
      const id = transactionIdOf(body);
      const now = (active.get(id) ?? 0) + 1;
      active.set(id, now);
      if (now > 1) overlaps++;
      setTimeout(() => {
        active.set(id, (active.get(id) ?? 1) - 1);
        res.writeHead(reply.status, reply.headers).end(reply.body ?? '');
      }, reply.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: (path = '/callback') => `http://127.0.0.1:${port}${path}`,
    received,
    answer(fn: (request: Received) => Answer) {
      answer = fn;
    },
    overlaps: () => overlaps,
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
type Receiver = Awaited<ReturnType<typeof startReceiver>>;

function transactionIdOf(body: string): string {
  try {
    return (JSON.parse(body) as { transaction?: { id?: string } }).transaction?.id ?? '';
  } catch {
    return '';
  }
}

function statusOf(request: Received): TransactionStatus {
  return (JSON.parse(request.body) as { transaction: { status: TransactionStatus } }).transaction.status;
}

function captureLog() {
  const entries: { level: string; obj: object; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void entries.push({ level, obj, msg });
  const log: RelayLog = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { log, entries };
}

// ---------------------------------------------------------------------------------------------------------

let config: Config;
let cleanupConfig: () => Promise<void>;
beforeAll(async () => {
  ({ config, cleanup: cleanupConfig } = await testConfig());
});
afterAll(() => cleanupConfig());

describe.each(testDatabases())('callbacks through the outbox relay on $name', (database) => {
  let t: OpenTestDatabase;
  let db: Kysely<Database>;
  let host: TransactionHost;
  let receiver: Receiver;
  let now: Date;
  const clock = () => now;
  const advance = (ms: number) => (now = new Date(now.getTime() + ms));

  beforeEach(async () => {
    t = await database.open();
    db = t.db;
    host = createTransactionHost({ db });
    receiver = await startReceiver();
    // Outbox rows are due at the database's now(); the relay's clock runs a little ahead of it.
    now = new Date(Math.ceil((Date.now() + 60_000) / 1000) * 1000);
  });
  afterEach(async () => {
    await receiver.close();
    await t.close();
  });

  function relay(overrides: Partial<OutboxRelayOptions> = {}) {
    return startOutboxRelay({
      db,
      handlers: callbackHandlers({ db, config, allowLoopback: true }),
      workerId: 'relay-a',
      intervalMs: 60_000,
      batchSize: 10,
      leaseMs: 60_000,
      maxAttempts: 4,
      clock,
      log: captureLog().log,
      autoStart: false,
      ...overrides,
    });
  }

  /**
   * A paid transaction (pending_receiver) whose callback was registered right after its creation, as a
   * sending anchor does: two status changes to tell (pending_sender, pending_receiver). Without a URL no
   * callback row is written at all.
   */
  async function transaction(callbackUrl: string | null = receiver.url()) {
    const input = transactionInput();
    await host.create(input, { eventId: `create-${input.id}` });
    if (callbackUrl !== null) {
      await host.registerCallback(input.id, {
        messageId: `callback-${input.id}`,
        sendingAnchor: input.sendingAnchor,
        url: callbackUrl,
      });
    }
    await apply(input.id, accountAssigned(), paid());
    return input.id;
  }

  async function apply(transactionId: string, ...events: Parameters<TransactionHost['apply']>[0]['event'][]) {
    for (const [i, event] of events.entries()) {
      await host.apply({ eventId: `${transactionId}:${event.type}:${i}`, transactionId, event });
    }
  }

  const paid = (): Parameters<TransactionHost['apply']>[0]['event'] => ({
    type: 'PAYMENT_RECEIVED',
    at: '2026-11-24T10:05:01.000Z',
    payment: payment(),
  });

  async function toCompletion(transactionId: string) {
    await apply(
      transactionId,
      { type: 'PAYOUT_REQUESTED', at: '2026-11-24T10:06:00.000Z' },
      { type: 'PAYOUT_PENDING_EXTERNAL', at: '2026-11-24T10:07:00.000Z', externalTransactionId: 'ext-1' },
      { type: 'PAYOUT_COMPLETED', at: '2026-11-24T10:08:00.000Z' },
    );
  }

  const outbox = (transactionId: string) =>
    db.selectFrom('outbox').selectAll().where('transaction_id', '=', transactionId).orderBy('id').execute();

  it('POSTs one signed callback per status change, in order, each showing that change', async () => {
    const id = await transaction();
    await toCompletion(id);

    expect(await relay().runOnce()).toBe(4);

    expect(receiver.received.map(statusOf)).toEqual([
      'pending_sender',
      'pending_receiver',
      'pending_external',
      'completed',
    ]);
    const rows = (await outbox(id)).filter((r) => r.kind === 'status_changed');
    for (const [i, request] of receiver.received.entries()) {
      expect(request).toMatchObject({ method: 'POST', path: '/callback' });
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['x-stellar-signature']).toBe(request.headers.signature);
      // The body is the transaction as GET /transactions/:id showed it at THAT change.
      const payload = rows[i]!.payload as {
        transaction: { status: TransactionStatus; context: TransactionContext };
      };
      expect(JSON.parse(request.body)).toEqual({
        transaction: toSep31Transaction(payload.transaction.status, payload.transaction.context),
      });
      // What the sending anchor does: rebuild `<t>.<Host header>.<body>` and verify with our SIGNING_KEY.
      const [, t, s] = /^t=(\d+), s=(.+)$/.exec(String(request.headers.signature)) ?? [];
      expect(Number(t)).toBe(now.getTime() / 1000);
      expect(request.headers.host).toBe(`127.0.0.1:${receiver.port}`);
      const signed = new TextEncoder().encode(`${t}.${request.headers.host}.${request.body}`);
      expect(Keypair.fromPublicKey(config.signingKey).verify(signed, Buffer.from(s!, 'base64'))).toBe(true);
      expect(
        verifyCallbackSignature({
          header: request.headers.signature as string,
          url: receiver.url(),
          body: request.body,
          signingKey: config.signingKey,
          now: advance(0),
        }),
      ).toEqual({ ok: true, timestamp: Number(t) });
    }
    const bodies = receiver.received.map((r) => JSON.parse(r.body).transaction);
    expect(bodies[0].stellar_memo).toEqual(expect.any(String));
    expect(bodies[1].stellar_transaction_id).toEqual(expect.any(String));
    expect(bodies[2]).toMatchObject({ status: 'pending_external', external_transaction_id: 'ext-1' });
    expect(bodies[3].completed_at).toBe('2026-11-24T10:08:00.000Z');

    const after = await outbox(id);
    expect(
      after.filter((r) => r.kind === 'status_changed').map((r) => [r.state, r.attempts, r.completed_at]),
    ).toEqual(Array.from({ length: 4 }, () => ['done', 1, now]));
    // The payout effect has no handler here: it is left for the payout worker, unclaimed.
    expect(after.find((r) => r.kind === 'execute_payout')).toMatchObject({
      state: 'pending',
      attempts: 0,
      claimed_by: null,
      last_error: null,
    });
    expect(await relay().runOnce()).toBe(0);
    expect(receiver.received).toHaveLength(4);
  });

  it('sends to the URL registered at send time, and nothing when none is', async () => {
    const moved = await transaction(receiver.url('/old'));
    const silent = await transaction(null);
    await db
      .updateTable('transactions')
      .set({ callback_url: receiver.url('/new') })
      .where('id', '=', moved)
      .execute();

    expect(await relay().runOnce()).toBe(2);

    expect(receiver.received.map((r) => [r.path, transactionIdOf(r.body)])).toEqual([
      ['/new', moved],
      ['/new', moved],
    ]);
    expect((await outbox(silent)).filter((r) => r.kind === 'status_changed')).toEqual([]);
  });

  it('retries with exponential backoff while the receiver fails, holding back the later callbacks', async () => {
    let failures = 2;
    receiver.answer(() => (failures-- > 0 ? { status: 500, body: 'boom\n' } : { status: 204 }));
    const id = await transaction();
    const r = relay();
    const started = now;

    expect(await r.runOnce()).toBe(1);
    let [first, second] = await outbox(id);
    expect(first).toMatchObject({
      state: 'pending',
      attempts: 1,
      claimed_by: null,
      last_error: `callback to 127.0.0.1:${receiver.port} answered 500: boom`,
      next_attempt_at: new Date(started.getTime() + 5_000),
    });
    expect(second).toMatchObject({ state: 'pending', attempts: 0 });

    expect(await r.runOnce()).toBe(0);
    advance(4_999);
    expect(await r.runOnce()).toBe(0);
    expect(receiver.received).toHaveLength(1);

    advance(1);
    expect(await r.runOnce()).toBe(1);
    [first] = await outbox(id);
    expect(first).toMatchObject({
      state: 'pending',
      attempts: 2,
      next_attempt_at: new Date(now.getTime() + 10_000),
    });

    advance(10_000);
    expect(await r.runOnce()).toBe(2); // the retry succeeds, and frees the next one in the same pass
    [first, second] = await outbox(id);
    expect([first?.state, first?.attempts, second?.state, second?.attempts]).toEqual(['done', 3, 'done', 1]);
    expect(receiver.received.map(statusOf)).toEqual([
      'pending_sender',
      'pending_sender',
      'pending_sender',
      'pending_receiver',
    ]);
  });

  it('fails a callback for good after maxAttempts, then delivers the later ones', async () => {
    receiver.answer((request) =>
      statusOf(request) === 'pending_sender' ? { status: 503 } : { status: 200 },
    );
    const { log, entries } = captureLog();
    const r = relay({ maxAttempts: 3, log, backoff: { initialMs: 1_000, factor: 2, maxMs: 1_500 } });
    const id = await transaction();

    expect(await r.runOnce()).toBe(1);
    advance(1_000);
    expect(await r.runOnce()).toBe(1);
    advance(1_499);
    expect(await r.runOnce()).toBe(0); // capped at 1.5 s, not 2 s
    advance(1);
    expect(await r.runOnce()).toBe(2);

    const [first, second] = await outbox(id);
    expect(first).toMatchObject({
      state: 'failed',
      attempts: 3,
      last_error: `callback to 127.0.0.1:${receiver.port} answered 503`,
      claimed_by: null,
      claim_expires_at: null,
    });
    expect(second).toMatchObject({ state: 'done', attempts: 1 });
    expect(receiver.received.map(statusOf)).toEqual([
      'pending_sender',
      'pending_sender',
      'pending_sender',
      'pending_receiver',
    ]);
    expect(entries.filter((e) => e.level === 'error')).toEqual([
      expect.objectContaining({
        msg: 'outbox effect failed for good',
        obj: expect.objectContaining({ attempt: 3 }),
      }),
    ]);
    advance(10 * 3_600_000);
    expect(await r.runOnce()).toBe(0);
  });

  it('does not follow redirects', async () => {
    receiver.answer((request) =>
      request.path === '/callback'
        ? { status: 302, headers: { location: receiver.url('/elsewhere') } }
        : { status: 204 },
    );
    const id = await transaction();
    expect(await relay().runOnce()).toBe(1);
    expect(receiver.received.map((r) => r.path)).toEqual(['/callback']);
    expect((await outbox(id))[0]?.last_error).toBe(
      `callback to 127.0.0.1:${receiver.port} answered 302 (redirect to ${receiver.url('/elsewhere')}; redirects are not followed)`,
    );
  });

  it('without callbacks.allowLoopback refuses a loopback URL at send time, without connecting', async () => {
    expect(config.callbacks.allowLoopback).toBe(false);
    const id = await transaction();
    await transaction('https://localhost/callback');
    const r = relay({ handlers: callbackHandlers({ db, config }) });
    expect(await r.runOnce()).toBe(2);
    expect(receiver.received).toEqual([]);
    const errors = await db
      .selectFrom('outbox')
      .select(['transaction_id', 'last_error'])
      .orderBy('id')
      .execute();
    expect(
      errors.filter((e) => e.last_error !== null).map((e) => [e.transaction_id === id, e.last_error]),
    ).toEqual([
      [true, 'callback url must use https'],
      [false, 'callback url must not point to localhost'],
    ]);
  });

  it('gives up on a receiver that does not answer in time', async () => {
    receiver.answer(() => 'hang');
    const id = await transaction();
    const r = relay({ handlers: callbackHandlers({ db, config, allowLoopback: true, timeoutMs: 200 }) });
    expect(await r.runOnce()).toBe(1);
    expect((await outbox(id))[0]).toMatchObject({
      state: 'pending',
      attempts: 1,
      last_error: `callback to 127.0.0.1:${receiver.port} timed out after 200 ms`,
    });
  });

  it('survives handlers that throw, hang or fail for good, and settles the others', async () => {
    const [throws, hangs, permanent, fine] = [
      await transaction(),
      await transaction(),
      await transaction(),
      await transaction(),
    ];
    const handler: EffectHandler = async (row) => {
      if (row.transaction_id === throws) throw new Error('kaboom');
      if (row.transaction_id === hangs) return new Promise<never>(() => undefined);
      if (row.transaction_id === permanent) throw new PermanentEffectError('malformed payload');
    };
    const r = relay({ handlers: { status_changed: handler }, handlerTimeoutMs: 200, leaseMs: 5_000 });

    expect(await r.runOnce()).toBe(6);

    const summary = async (id: string) =>
      (await outbox(id)).map((row) => [row.state, row.attempts, row.last_error]);
    expect(await summary(throws)).toEqual([
      ['pending', 1, 'kaboom'],
      ['pending', 0, null],
    ]);
    expect(await summary(hangs)).toEqual([
      ['pending', 1, 'handler timed out after 200 ms'],
      ['pending', 0, null],
    ]);
    expect(await summary(permanent)).toEqual([
      ['failed', 1, 'malformed payload'],
      ['failed', 1, 'malformed payload'],
    ]);
    expect(await summary(fine)).toEqual([
      ['done', 1, null],
      ['done', 1, null],
    ]);
  });

  it('keeps looping after failures, and stop() waits for the pass in flight', async () => {
    const id = await transaction();
    let calls = 0;
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    let reachedBlock!: () => void;
    const atBlock = new Promise<void>((resolve) => (reachedBlock = resolve));
    const handler: EffectHandler = async (row) => {
      calls++;
      if (calls === 1) throw new Error('first call fails');
      if ((row.payload as { transaction: { status: string } }).transaction.status === 'pending_external') {
        reachedBlock();
        await blocked;
      }
    };
    const { log, entries } = captureLog();
    const r = relay({
      handlers: { status_changed: handler },
      autoStart: true,
      intervalMs: 10,
      backoff: { initialMs: 0 },
      log,
    });
    await vi.waitFor(
      async () => expect((await outbox(id)).map((row) => row.state)).toEqual(['done', 'done']),
      { timeout: 10_000, interval: 20 },
    );
    expect(entries.some((e) => e.level === 'warn' && e.msg === 'outbox effect failed; will retry')).toBe(
      true,
    );

    // The next status change's handler blocks until released.
    await apply(
      id,
      { type: 'PAYOUT_REQUESTED', at: '2026-11-24T10:06:00.000Z' },
      { type: 'PAYOUT_PENDING_EXTERNAL', at: '2026-11-24T10:07:00.000Z', externalTransactionId: 'ext-1' },
    );
    await atBlock;
    let stopped = false;
    const stopping = r.stop().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect((await outbox(id)).filter((row) => row.kind === 'status_changed').at(-1)).toMatchObject({
      state: 'done',
    });
    const settledCalls = calls;
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toBe(settledCalls);
  });

  it('refuses a handler timeout that is not shorter than the lease', () => {
    expect(() => relay({ handlerTimeoutMs: 60_000, leaseMs: 60_000 })).toThrow(
      /must be shorter than leaseMs/,
    );
    expect(() => relay({ maxAttempts: 0 })).toThrow(/maxAttempts/);
  });

  it('two relays never deliver a callback twice, nor two of one transaction at once', async () => {
    receiver.answer(() => ({ status: 204, delayMs: 15 }));
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await transaction());
    for (const id of ids) await toCompletion(id);

    // On Postgres each relay has its own pool, as two processes would.
    // Separate pools through openDatabase, which listens for errors of idle connections (the database is
    // dropped with FORCE afterwards).
    const pools =
      database.name === 'postgres'
        ? await Promise.all([0, 1].map(async () => (await openDatabase({ url: t.url! })).db))
        : [db, db];
    const relays = pools.map((pool, i) => relay({ db: pool, workerId: `relay-${i}`, batchSize: 3 }));
    try {
      const settled = [0, 0];
      for (let pass = 0; pass < 100; pass++) {
        const counts = await Promise.all(relays.map((r) => r.runOnce()));
        counts.forEach((n, i) => (settled[i]! += n));
        const open = await db
          .selectFrom('outbox')
          .select('id')
          .where('kind', '=', 'status_changed')
          .where('state', '!=', 'done')
          .execute();
        if (open.length === 0) break;
      }
      expect(settled[0]! + settled[1]!).toBe(ids.length * 4);
      if (database.name === 'postgres') expect(Math.min(...settled)).toBeGreaterThan(0);
    } finally {
      if (database.name === 'postgres') await Promise.all(pools.map((pool) => pool.destroy()));
    }

    expect(receiver.received).toHaveLength(ids.length * 4);
    expect(receiver.overlaps()).toBe(0);
    for (const id of ids) {
      expect(receiver.received.filter((r) => transactionIdOf(r.body) === id).map(statusOf)).toEqual([
        'pending_sender',
        'pending_receiver',
        'pending_external',
        'completed',
      ]);
    }
    const attempts = await db
      .selectFrom('outbox')
      .select('attempts')
      .where('kind', '=', 'status_changed')
      .execute();
    expect(attempts.every((row) => row.attempts === 1)).toBe(true);
  });

  describe('SEP-12 customer callbacks', () => {
    const customerBody = {
      id: 'cust-1',
      status: 'ACCEPTED',
      provided_fields: { first_name: { type: 'string' } },
    };

    async function customer(id: string, callbackUrl: string | null) {
      await db
        .insertInto('customers')
        .values({ id, account: Keypair.random().publicKey(), status: 'ACCEPTED', callback_url: callbackUrl })
        .execute();
    }

    /** A `customer_status_changed` payload as the customer actors write it. */
    const statusChanged = (customerId: string, url: string) => ({
      kind: 'customer_status_changed',
      customerId,
      type: 'sep31-receiver',
      status: 'ACCEPTED',
      previousStatus: 'PROCESSING',
      version: 2,
      url,
      body: customerBody,
    });

    async function customerEffect(key: string, payload: object) {
      await insertEffects(db, [
        { transactionId: null, seq: null, kind: 'customer_status_changed', payload, idempotencyKey: key },
      ]);
    }

    it('POSTs the GET /customer body, signed like SEP-31 callbacks', async () => {
      await customer('cust-1', receiver.url('/kyc'));
      await customerEffect('c-1', statusChanged('cust-1', receiver.url('/kyc')));
      expect(await relay().runOnce()).toBe(1);
      const [request] = receiver.received;
      expect(request).toMatchObject({ method: 'POST', path: '/kyc' });
      expect(JSON.parse(request!.body)).toEqual(customerBody);
      expect(
        verifyCallbackSignature({
          header: request!.headers.signature as string,
          url: receiver.url('/kyc'),
          body: request!.body,
          signingKey: config.signingKey,
          now,
        }).ok,
      ).toBe(true);
    });

    it('uses the customer’s callback URL at send time; a payload that does not fit fails for good', async () => {
      await customer('cust-moved', receiver.url('/current'));
      await customer('cust-unsubscribed', null);
      await customerEffect('c-2', statusChanged('cust-moved', receiver.url('/stale')));
      await customerEffect('c-3', statusChanged('cust-unsubscribed', receiver.url('/stale')));
      await customerEffect('c-4', statusChanged('cust-deleted', receiver.url('/stale')));
      await customerEffect('c-5', { url: receiver.url('/stale'), body: customerBody });
      expect(await relay().runOnce()).toBe(4);
      expect(receiver.received.map((r) => r.path)).toEqual(['/current']);
      const rows = await db
        .selectFrom('outbox')
        .select(['idempotency_key', 'state', 'last_error'])
        .orderBy('id')
        .execute();
      expect(rows).toEqual([
        { idempotency_key: 'c-2', state: 'done', last_error: null },
        { idempotency_key: 'c-3', state: 'done', last_error: null },
        { idempotency_key: 'c-4', state: 'done', last_error: null },
        {
          idempotency_key: 'c-5',
          state: 'failed',
          last_error: expect.stringMatching(/not a customer_status_changed payload/),
        },
      ]);
    });
  });
});
