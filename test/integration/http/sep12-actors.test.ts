// SEP-12 customers as actors: commands over the bus (in-process and NATS), staged uploads (claim check),
// GET computing a round the actor has not applied yet, customers and transactions telling each other, and
// a 503 when no actor answers.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startActorHost } from '../../../src/actors/actor-host.ts';
import { createTransactionCommands } from '../../../src/actors/commands.ts';
import { createCustomerActors } from '../../../src/actors/customer-actors.ts';
import { createCustomerCommands } from '../../../src/actors/customer-commands.ts';
import { createInProcessBus, createNatsBus, silentLogger } from '../../../src/bus/index.ts';
import { flagCustomerFields, readCustomerFile } from '../../../src/db/customers.repository.ts';
import { findTransaction, listEvents } from '../../../src/db/transactions.repository.ts';
import { buildApp } from '../../../src/http/app.ts';
import type { CustomerIntegration } from '../../../src/integrations/customer-integration.ts';
import { createUploadStore } from '../../../src/storage/uploads.ts';
import { accountAssigned, payment, transactionInput } from '../../fixtures/transactions.ts';
import {
  buildTestApp,
  eventually,
  KEYS,
  quietLog,
  testConfig,
  tokenFor,
  type TestApp,
} from '../../helpers/app.ts';
import { testDatabases } from '../../helpers/database.ts';
import { multipart } from '../../helpers/multipart.ts';
import { deleteStreams, natsUrlForTests, uniqueTestName } from '../../helpers/nats.ts';
import { httpPorts } from '../../../src/read-model/index.ts';

const acme = () => KEYS.acme.publicKey();
const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const memo = () => String(Math.floor(Math.random() * 1e12));
const AT = '2026-11-24T10:10:00.000Z';
const NAMES = { first_name: 'Ada', last_name: 'Lovelace' };
const BANK = { bank_account_number: '12345678', bank_number: '021000021' };

const postgres = testDatabases().find((d) => d.name === 'postgres');
const natsUrl = natsUrlForTests();

/** Helpers over one test app. */
function world(t: TestApp, token: string) {
  const put = (payload: Record<string, unknown>) =>
    t.app.inject({ method: 'PUT', url: '/sep12/customer', payload, headers: auth(token) });
  const get = (query: Record<string, string>) =>
    t.app.inject({ method: 'GET', url: '/sep12/customer', query, headers: auth(token) });
  return {
    put,
    get,
    async register(fields: Record<string, string>) {
      const response = await put({ memo: memo(), ...fields });
      expect(response.statusCode, response.body).toBe(202);
      return response.json().id as string;
    },
    /** A transaction of acme funded and waiting for its payout (applied directly: no payout by itself). */
    async funded(parties: { senderId?: string; receiverId?: string }) {
      const input = transactionInput({ sendingAnchor: acme(), ...parties });
      await t.host.create(input, { eventId: `create:${input.id}`, then: [accountAssigned()] });
      await t.host.apply({
        eventId: `pay:${input.id}`,
        transactionId: input.id,
        event: { type: 'PAYMENT_RECEIVED', at: AT, payment: payment() },
      });
      return input.id;
    },
    customer: (id: string) =>
      t.db.selectFrom('customers').selectAll().where('id', '=', id).executeTakeFirstOrThrow(),
    stateOf: async (id: string) => (await findTransaction(t.db, id))?.state_value,
  };
}

describe('SEP-12 customer actors', () => {
  let t: TestApp;
  let token: string;
  let w: ReturnType<typeof world>;

  beforeAll(async () => {
    t = await buildTestApp();
    token = await tokenFor(t.config, acme());
    w = world(t, token);
  });
  afterAll(async () => {
    await t.close();
  });

  it('a command through the in-process bus: the actor decides the id, a second PUT finds the customer', async () => {
    const commands = createCustomerCommands(t.bus);
    const at = { account: acme(), memo: memo() };
    const put = {
      customerId: null,
      customerType: 'sep31-sender',
      transactionId: null,
      files: [],
      verifications: {},
    };
    const first = await commands.put(at, { ...put, fields: NAMES });
    expect(first).toMatchObject({ outcome: 'applied', changed: true, version: 1 });
    const id = first.outcome === 'applied' ? first.customerId : '';
    expect(await w.customer(id)).toMatchObject({ account: at.account, memo: at.memo, status: 'ACCEPTED' });
    // The same fields again: the same customer, nothing written.
    expect(await commands.put(at, { ...put, fields: NAMES })).toEqual({
      outcome: 'applied',
      customerId: id,
      version: 1,
      changed: false,
    });
    // A PUT naming another id at this address is refused; so is one for an address with no customer.
    expect(await commands.put(at, { ...put, customerId: randomUUID(), fields: NAMES })).toMatchObject({
      outcome: 'refused',
      code: 'not_found',
    });
    expect(await commands.delete({ account: acme(), memo: memo() }, id)).toMatchObject({
      outcome: 'refused',
      code: 'not_found',
    });
  });

  it('a staged upload is taken into customer_files and dropped; one nobody took is swept once old', async () => {
    const photo = randomBytes(4096);
    const body = multipart([
      { name: 'memo', value: memo() },
      { name: 'first_name', value: 'Grace' },
      { name: 'photo_id_front', filename: 'front.png', contentType: 'image/png', data: photo },
    ]);
    const response = await t.app.inject({
      method: 'PUT',
      url: '/sep12/customer',
      payload: body.payload,
      headers: { ...auth(token), ...body.headers },
    });
    expect(response.statusCode, response.body).toBe(202);
    const file = await readCustomerFile(t.db, response.json().id, 'photo_id_front');
    expect(Buffer.from(file!).equals(photo)).toBe(true);
    expect(await t.db.selectFrom('uploads').select('id').execute()).toEqual([]);
    expect(await t.db.selectFrom('upload_chunks').select('upload_id').execute()).toEqual([]);

    // Staged two days ago and never used (say the command timed out), and one staged just now.
    let now = Date.now() - 2 * 24 * 3600_000;
    const store = createUploadStore(t.db, {
      clock: () => new Date(now),
      sweepEveryMs: Number.MAX_SAFE_INTEGER,
    });
    const upload = { account: acme(), contentType: 'image/png', filename: null, data: randomBytes(10) };
    const old = await store.stage(upload);
    now = Date.now();
    const fresh = await store.stage(upload);
    expect(await store.sweep()).toBe(1);
    expect((await t.db.selectFrom('uploads').select('id').execute()).map((r) => r.id)).toEqual([fresh.id]);

    // A command that refers to the swept upload is refused: nothing is created.
    const commands = createCustomerCommands(t.bus);
    const at = { account: acme(), memo: memo() };
    const answer = await commands.put(at, {
      customerId: null,
      customerType: null,
      transactionId: null,
      fields: { first_name: 'Grace' },
      files: [{ ...old, field: 'photo_id_front' }],
      verifications: {},
    });
    expect(answer).toMatchObject({ outcome: 'refused', code: 'upload_missing' });
    expect(await t.db.selectFrom('customers').select('id').where('memo', '=', at.memo).execute()).toEqual([]);
    await t.db.deleteFrom('uploads').execute();
  });

  it('a customer becoming ACCEPTED makes its funded transaction request the payout, without any worker', async () => {
    const senderId = await w.register({ type: 'sep31-sender', ...NAMES });
    const receiverId = await w.register({ type: 'sep31-receiver', ...NAMES });
    const transactionId = await w.funded({ senderId, receiverId });
    expect(await w.stateOf(transactionId)).toEqual({ pending_receiver: 'ready' });

    const response = await w.put({ id: receiverId, ...BANK });
    expect(response.statusCode, response.body).toBe(202);
    // customers_changed (an actor_message in the customer's commit) -> the transaction actor -> PAYOUT_REQUESTED.
    await eventually('the payout requested', async () => {
      const state = await w.stateOf(transactionId);
      return JSON.stringify(state) === JSON.stringify({ pending_receiver: 'paying_out' });
    });
    const events = await listEvents(t.db, transactionId);
    expect(events.at(-1)).toMatchObject({
      event_type: 'PAYOUT_REQUESTED',
      event_id: `payout-request:${transactionId}:1`,
    });
  });

  it('a transaction asking for customer info makes its customer apply the round at once', async () => {
    const receiverId = await w.register({ type: 'sep31-receiver', ...NAMES, ...BANK });
    const transactionId = await w.funded({ receiverId });
    const transactions = createTransactionCommands(t.bus);
    const event = {
      type: 'CUSTOMER_INFO_NEEDED' as const,
      at: AT,
      message: 'wrong bank',
      customerType: 'sep31-receiver',
    };
    expect(await transactions.send(transactionId, `info:${transactionId}`, event)).toMatchObject({
      outcome: 'applied',
      status: 'pending_customer_info_update',
    });
    // No GET, no PUT: the transaction's message reaches the customer actor, which applies the round.
    await eventually('the round applied', async () => (await w.customer(receiverId)).status === 'NEEDS_INFO');
    const row = await w.customer(receiverId);
    expect(row.version).toBe(2);
    const link = await t.db
      .selectFrom('customer_transactions')
      .selectAll()
      .where('transaction_id', '=', transactionId)
      .executeTakeFirstOrThrow();
    expect(link).toMatchObject({ customer_id: receiverId, type: 'sep31-receiver' });
    expect(link.applied_seq).toBeGreaterThan(0);
  });
});

describe('SEP-12 GET while a round is not applied yet', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await buildTestApp();
    // Nothing actors send each other is delivered: the customer actor never hears of the round.
    await t.messages.stop();
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers as if it were, and writes nothing; the next PUT applies it before its fields', async () => {
    const w = world(t, await tokenFor(t.config, acme()));
    const receiverId = await w.register({ type: 'sep31-receiver', ...NAMES, ...BANK });
    const before = await w.customer(receiverId);
    const transactionId = await w.funded({ receiverId });
    await flagCustomerFields(t.db, {
      transactionId,
      type: 'sep31-receiver',
      fields: ['bank_number'],
      message: 'no such bank',
    });
    await t.host.apply({
      eventId: `info:${transactionId}`,
      transactionId,
      event: {
        type: 'CUSTOMER_INFO_NEEDED',
        at: AT,
        message: 'payout refused',
        customerType: 'sep31-receiver',
      },
    });

    const view = (await w.get({ transaction_id: transactionId, type: 'sep31-receiver' })).json();
    expect(view).toMatchObject({ id: receiverId, status: 'NEEDS_INFO', message: 'no such bank' });
    expect(Object.keys(view.fields)).toEqual(['bank_number']);
    expect(view.provided_fields.bank_number).toMatchObject({ status: 'REJECTED', error: 'no such bank' });
    // Read only: the stored customer and the round are untouched.
    expect(await w.customer(receiverId)).toEqual(before);
    const link = await t.db
      .selectFrom('customer_transactions')
      .select('applied_seq')
      .where('transaction_id', '=', transactionId)
      .executeTakeFirstOrThrow();
    expect(link.applied_seq).toBeNull();

    // The PUT applies the round (version 2), then its field answers it (version 3).
    expect((await w.put({ id: receiverId, bank_number: '026009593' })).statusCode).toBe(202);
    expect(await w.customer(receiverId)).toMatchObject({ status: 'ACCEPTED', version: before.version + 2 });
    expect((await w.get({ id: receiverId, type: 'sep31-receiver' })).json().status).toBe('ACCEPTED');
  });
});

describe('SEP-12 late verdicts', () => {
  let t: TestApp;

  beforeAll(async () => {
    // An integration that reviews by hand: every field stays PROCESSING until a verdict comes.
    const manual: CustomerIntegration = { review: async () => ({}) };
    t = await buildTestApp({ customerIntegration: manual });
  });
  afterAll(async () => {
    await t.close();
  });

  it('updateStatus through the bus accepts the customer, and its funded transaction is paid out', async () => {
    const w = world(t, await tokenFor(t.config, acme()));
    const m = memo();
    const receiverId = (await w.put({ memo: m, type: 'sep31-receiver', ...NAMES, ...BANK })).json().id;
    const senderId = (await w.put({ memo: memo(), type: 'sep31-sender', ...NAMES })).json().id;
    expect((await w.get({ id: receiverId })).json().status).toBe('PROCESSING');
    const transactionId = await w.funded({ senderId, receiverId });

    const commands = createCustomerCommands(t.bus);
    const sender = await w.customer(senderId);
    const verdict = (id: string, type: string, fields: string[]) =>
      commands.updateStatus({ account: acme(), memo: id === senderId ? sender.memo : m }, id, type, {
        type: 'FIELDS_VERIFIED',
        at: AT,
        fields,
      });
    expect(await verdict(senderId, 'sep31-sender', Object.keys(NAMES))).toMatchObject({ outcome: 'applied' });
    expect(
      await verdict(receiverId, 'sep31-receiver', [...Object.keys(NAMES), ...Object.keys(BANK)]),
    ).toMatchObject({
      outcome: 'applied',
      changed: true,
    });
    expect((await w.get({ id: receiverId })).json().status).toBe('ACCEPTED');
    await eventually('the payout requested', async () => {
      const state = await w.stateOf(transactionId);
      return JSON.stringify(state) === JSON.stringify({ pending_receiver: 'paying_out' });
    });
    // A verdict the machine does not take is refused, and a malformed one too.
    expect(await verdict(receiverId, 'sep31-receiver', [])).toMatchObject({
      outcome: 'refused',
      code: 'rejected',
    });
    expect(
      await commands.updateStatus({ account: acme(), memo: m }, receiverId, 'sep31-receiver', {
        type: 'FIELDS_VERIFIED',
        at: AT,
      } as never),
    ).toMatchObject({ outcome: 'refused', code: 'malformed' });
  });
});

describe('SEP-12 without an actor to answer', () => {
  it('a PUT answers 503 with Retry-After; reads still work', async () => {
    const { config, cleanup } = await testConfig();
    const database = await testDatabases()[0]!.open();
    const bus = createInProcessBus({ logger: silentLogger });
    const app = await buildApp({
      config,
      ...httpPorts(database.db, config),
      commands: createTransactionCommands(bus, { timeoutMs: 100 }),
      customerCommands: createCustomerCommands(bus, { timeoutMs: 100 }),
      horizon: { loadAccount: () => Promise.reject(new Error('no Horizon in this test')) },
    });
    try {
      const token = await tokenFor(config, acme());
      const response = await app.inject({
        method: 'PUT',
        url: '/sep12/customer',
        payload: { memo: memo(), ...NAMES },
        headers: auth(token),
      });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toEqual({ error: expect.any(String) });
      expect(response.headers['retry-after']).toBeDefined();
      const read = await app.inject({
        method: 'GET',
        url: '/sep12/customer',
        query: { memo: memo() },
        headers: auth(token),
      });
      expect(read.statusCode).toBe(200);
    } finally {
      await app.close();
      await bus.close();
      await database.close();
      await cleanup();
    }
  });
});

describe.skipIf(!postgres || !natsUrl)('SEP-12 customer commands over NATS JetStream', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  });

  it('a PUT command is applied by the host that owns the partition and answered after commit', async () => {
    const { config, cleanup } = await testConfig();
    closers.push(cleanup);
    const database = await postgres!.open();
    closers.push(() => database.close());
    const prefix = uniqueTestName('sep12');
    closers.push(() => deleteStreams(natsUrl!, [`${prefix}_events`]));
    const bus = await createNatsBus({ url: natsUrl!, prefix, partitions: 4, logger: silentLogger });
    closers.push(() => bus.close());
    const host = startActorHost({
      db: database.db,
      bus,
      transactions: { payoutCustomerTypes: null, sep12: config.sep12 },
      customers: createCustomerActors({ sep12: config.sep12 }),
      log: quietLog,
    });
    closers.push(() => host.stop());

    const commands = createCustomerCommands(bus, { timeoutMs: 15_000 });
    const at = { account: acme(), memo: memo() };
    const put = {
      customerId: null,
      customerType: 'sep31-receiver',
      transactionId: null,
      files: [],
      verifications: {},
    };
    const first = await commands.put(at, { ...put, fields: NAMES });
    expect(first).toMatchObject({ outcome: 'applied', version: 1, changed: true });
    const id = first.outcome === 'applied' ? first.customerId : '';
    const second = await commands.put(at, { ...put, customerId: id, fields: BANK });
    expect(second).toEqual({ outcome: 'applied', customerId: id, version: 2, changed: true });
    const row = await database.db
      .selectFrom('customers')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'ACCEPTED', version: 2, account: at.account, memo: at.memo });
    expect(await commands.delete(at, id)).toMatchObject({ outcome: 'applied' });
  });
});
