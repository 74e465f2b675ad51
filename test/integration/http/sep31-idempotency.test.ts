// `Idempotency-Key` on POST /sep31/transactions: a retry (the first answer lost, or twins in flight) gets
// the transaction the key created, with its id and memo; another body under the key is a 409; nothing is
// ever created twice. On PGlite and PostgreSQL, and over NATS with two HTTP processes.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { startActorHost } from '../../../src/actors/actor-host.ts';
import {
  CommandUnavailableError,
  createTransactionCommands,
  type TransactionCommands,
} from '../../../src/actors/commands.ts';
import { createCustomerCommands } from '../../../src/actors/customer-commands.ts';
import { createNatsBus, silentLogger, type EventBus } from '../../../src/bus/index.ts';
import type { ConfigFile } from '../../../src/config/index.ts';
import { buildApp } from '../../../src/http/app.ts';
import type { Sep31Integration, Sep31PostResult } from '../../../src/integrations/sep31-integration.ts';
import { httpPorts } from '../../../src/read-model/index.ts';
import {
  buildTestApp,
  KEYS,
  quietLog,
  testConfig,
  testConfigFile,
  tokenFor,
  type TestApp,
} from '../../helpers/app.ts';
import { testDatabases, type TestDatabase } from '../../helpers/database.ts';
import { deleteStreams, natsUrlForTests, uniqueTestName } from '../../helpers/nats.ts';

// No KYC types: the scripted integration alone decides about a request.
const FILE = { ...testConfigFile(), sep12: { types: {} } } as ConfigFile;
const BODY = { asset_code: 'USDC', amount: '100', funding_method: 'SEPA' };
const NO_HORIZON = { loadAccount: () => Promise.reject(new Error('no Horizon in this test')) };

/** An integration whose verdict the test sets, counting how often it was asked. */
function scriptedIntegration() {
  const state = { calls: 0, verdict: { ok: true } as Sep31PostResult };
  const integration: Sep31Integration = {
    info: async () => ({}),
    validSendingAnchor: async () => true,
    processPostRequest: async () => {
      state.calls++;
      return state.verdict;
    },
  };
  return { integration, state };
}

type Loss = 'before' | 'after';

/**
 * The real commands, except that the next creates can fail as a bus or host fault makes them fail: lost
 * `before` the actor saw them (nothing created) or `after` it committed (the answer lost). Either way
 * the client gets a 503.
 */
function losableCommands(bus: EventBus) {
  const real = createTransactionCommands(bus);
  const losses: Loss[] = [];
  const commands: TransactionCommands = {
    ...real,
    async create(input, then, idempotency) {
      const loss = losses.shift();
      if (loss === 'before') throw new CommandUnavailableError();
      const answer = await real.create(input, then, idempotency);
      if (loss === 'after') throw new CommandUnavailableError();
      return answer;
    },
  };
  return { commands, losses };
}

let keys = 0;
const newKey = () => `key-${Date.now()}-${++keys}`;

describe.each(testDatabases())('Idempotency-Key on $name', (database: TestDatabase) => {
  let t: TestApp;
  let app: FastifyInstance;
  let acme: string;
  let rival: string;
  const scripted = scriptedIntegration();
  let losses: Loss[];

  const post = (payload: unknown, options: { key?: string; token?: string } = {}) =>
    app.inject({
      method: 'POST',
      url: '/sep31/transactions',
      headers: {
        authorization: `Bearer ${options.token ?? acme}`,
        'content-type': 'application/json',
        ...(options.key !== undefined && { 'idempotency-key': options.key }),
      },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
  const rowsWithKey = (key: string) =>
    t.db.selectFrom('transactions').selectAll().where('idempotency_key', '=', key).execute();
  const countRows = async () =>
    Number(
      (
        await t.db
          .selectFrom('transactions')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  beforeAll(async () => {
    t = await buildTestApp({ file: FILE, database });
    const losable = losableCommands(t.bus);
    losses = losable.losses;
    app = await buildApp({
      config: t.config,
      ...httpPorts(t.db, t.config),
      commands: losable.commands,
      customerCommands: createCustomerCommands(t.bus),
      horizon: NO_HORIZON,
      integration: scripted.integration,
    });
    acme = await tokenFor(t.config, KEYS.acme.publicKey());
    rival = await tokenFor(t.config, KEYS.rival.publicKey());
  });
  afterAll(async () => {
    await app.close();
    await t.close();
  });

  it('answers a retry with the same key and body as the first time: same id and memo, one transaction', async () => {
    const key = newKey();
    const calls = scripted.state.calls;
    const first = await post(BODY, { key });
    expect(first.statusCode, first.body).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const second = await post(BODY, { key });
    expect(second.statusCode, second.body).toBe(201);
    expect(second.json()).toEqual(first.json());
    expect(second.headers['idempotent-replayed']).toBe('true');
    // The integration decided once: a replay does not ask it again.
    expect(scripted.state.calls).toBe(calls + 1);

    const rows = await rowsWithKey(key);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: first.json().id,
      stellar_memo: first.json().stellar_memo,
      sending_anchor: KEYS.acme.publicKey(),
    });
    const get = await app.inject({
      method: 'GET',
      url: `/sep31/transactions/${first.json().id}`,
      headers: { authorization: `Bearer ${acme}` },
    });
    expect(get.json().transaction).toMatchObject({ id: first.json().id, status: 'pending_sender' });
  });

  it('takes the same JSON in another key order and spacing as the same body', async () => {
    const key = newKey();
    const first = await post('{"asset_code":"USDC","amount":"100","funding_method":"SEPA"}', { key });
    const second = await post('{ "funding_method": "SEPA",\n  "amount": "100", "asset_code": "USDC" }', {
      key,
    });
    expect(second.statusCode, second.body).toBe(201);
    expect(second.json()).toEqual(first.json());
  });

  it('answers the same key with another body 409, changing nothing', async () => {
    const key = newKey();
    const first = await post(BODY, { key });
    const [before] = await rowsWithKey(key);
    const rowsBefore = await countRows();
    for (const other of [
      { ...BODY, amount: '101' },
      { ...BODY, amount: 100 },
      { ...BODY, lang: 'en' },
    ]) {
      const response = await post(other, { key });
      expect(response.statusCode, response.body).toBe(409);
      expect(response.json()).toEqual({
        error: 'this Idempotency-Key was already used with a different request body',
      });
    }
    expect(await countRows()).toBe(rowsBefore);
    expect(await rowsWithKey(key)).toEqual([before]);
    expect(before!.id).toBe(first.json().id);
  });

  it('scopes keys to the sending anchor: the same key from two anchors makes two transactions', async () => {
    const key = newKey();
    const mine = await post(BODY, { key });
    const theirs = await post(BODY, { key, token: rival });
    expect(mine.statusCode).toBe(201);
    expect(theirs.statusCode, theirs.body).toBe(201);
    expect(theirs.json().id).not.toBe(mine.json().id);
    expect(theirs.json().stellar_memo).not.toBe(mine.json().stellar_memo);
    expect((await rowsWithKey(key)).map((row) => row.sending_anchor).sort()).toEqual(
      [KEYS.acme.publicKey(), KEYS.rival.publicKey()].sort(),
    );
    // And a retry of each finds its own.
    expect((await post(BODY, { key, token: rival })).json()).toEqual(theirs.json());
    expect((await post(BODY, { key })).json()).toEqual(mine.json());
  });

  it('creates one transaction for 20 identical keyed POSTs in flight at once', async () => {
    const key = newKey();
    const responses = await Promise.all(Array.from({ length: 20 }, () => post(BODY, { key })));
    expect(responses.map((r) => r.statusCode)).toEqual(Array(20).fill(201));
    expect(new Set(responses.map((r) => r.body)).size).toBe(1);
    const rows = await rowsWithKey(key);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id).toBe(responses[0]!.json().id);
    expect(rows[0]!.stellar_memo).toBe(responses[0]!.json().stellar_memo);
  });

  it('lets one of two different bodies in flight under one key win; the other is a 409', async () => {
    const key = newKey();
    const responses = await Promise.all([
      post(BODY, { key }),
      post({ ...BODY, amount: '200' }, { key }),
      post(BODY, { key }),
      post({ ...BODY, amount: '200' }, { key }),
    ]);
    const rows = await rowsWithKey(key);
    expect(rows).toHaveLength(1);
    const winner = rows[0]!.amount_in === '100.0000000' ? [0, 2] : [1, 3];
    expect(responses.map((r) => r.statusCode)).toEqual(
      [0, 1, 2, 3].map((i) => (winner.includes(i) ? 201 : 409)),
    );
  });

  it('re-finds the transaction whose answer was lost after commit (a 503 to the client)', async () => {
    const key = newKey();
    const rowsBefore = await countRows();
    losses.push('after');
    const lost = await post(BODY, { key });
    expect(lost.statusCode).toBe(503);
    // Committed all the same: without the key, this row would be an orphan the client has no id for.
    expect(await countRows()).toBe(rowsBefore + 1);

    const retry = await post(BODY, { key });
    expect(retry.statusCode, retry.body).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    const rows = await rowsWithKey(key);
    expect(rows).toHaveLength(1);
    expect(retry.json()).toEqual({
      id: rows[0]!.id,
      stellar_account_id: rows[0]!.stellar_account_id,
      stellar_memo_type: 'hash',
      stellar_memo: rows[0]!.stellar_memo,
    });
    expect(await countRows()).toBe(rowsBefore + 1);
  });

  it('chaos: every 201 has its row, and every row is one a 201 told of (first try or a retry)', async () => {
    const rowsBefore = await countRows();
    const clients = Array.from({ length: 12 }, (_, i) => ({
      key: newKey(),
      body: { ...BODY, amount: String(10 + i) },
    }));
    // Faults in a fixed pattern: answers lost after commit, commands lost before the actor.
    losses.push('after', 'before', 'after', 'after', 'before', 'after', 'before', 'after');
    const told = new Map<string, { id: string; stellar_memo: string }>();
    await Promise.all(
      clients.map(async ({ key, body }) => {
        for (let attempt = 1; attempt <= 5; attempt++) {
          const response = await post(body, { key });
          if (response.statusCode === 503) continue;
          expect(response.statusCode, response.body).toBe(201);
          told.set(key, response.json());
          return;
        }
      }),
    );
    expect(told.size).toBe(clients.length);
    expect(losses).toEqual([]);
    const rows = await t.db
      .selectFrom('transactions')
      .select(['id', 'stellar_memo', 'idempotency_key'])
      .where(
        'idempotency_key',
        'in',
        clients.map((c) => c.key),
      )
      .execute();
    expect(rows).toHaveLength(clients.length);
    for (const row of rows) {
      expect(told.get(row.idempotency_key!)).toMatchObject({ id: row.id, stellar_memo: row.stellar_memo });
    }
    expect(await countRows()).toBe(rowsBefore + clients.length);
  });

  it('without a key, behaves as before: every POST is a new transaction, nothing is replayed', async () => {
    const rowsBefore = await countRows();
    const first = await post(BODY);
    const second = await post(BODY);
    expect([first.statusCode, second.statusCode]).toEqual([201, 201]);
    expect(second.json().id).not.toBe(first.json().id);
    expect(second.headers['idempotent-replayed']).toBeUndefined();
    expect(await countRows()).toBe(rowsBefore + 2);
    const stored = await t.db
      .selectFrom('transactions')
      .select(['idempotency_key', 'request_hash'])
      .where('id', 'in', [first.json().id, second.json().id])
      .execute();
    expect(stored).toEqual([
      { idempotency_key: null, request_hash: null },
      { idempotency_key: null, request_hash: null },
    ]);
  });

  it('documents the header and the 409 in the OpenAPI document', async () => {
    const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const operation = document.paths['/sep31/transactions'].post;
    expect(operation.parameters).toContainEqual(
      expect.objectContaining({
        in: 'header',
        name: 'idempotency-key',
        required: false,
        schema: expect.objectContaining({ maxLength: 255 }),
      }),
    );
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['201', '409']));
  });

  it('refuses a malformed key with a 400 and stores nothing', async () => {
    const rowsBefore = await countRows();
    for (const key of ['', 'x'.repeat(256), 'clé']) {
      const response = await post(BODY, { key });
      expect(response.statusCode, JSON.stringify(key)).toBe(400);
      expect(response.json()).toHaveProperty('error');
    }
    expect((await post(BODY, { key: 'x'.repeat(255) })).statusCode).toBe(201);
    expect(await countRows()).toBe(rowsBefore + 1);
  });

  it('stores nothing for an invalid body or a refusal, so the key can still be used', async () => {
    const key = newKey();
    const invalid = await post({ ...BODY, amount: 'lots' }, { key });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().error).toMatch(/amount/);
    // Valid JSON that has no canonical form (a lone surrogate) cannot be compared: a 400, not a 500.
    const uncanonical = await post('{"asset_code":"USDC","amount":"100","note":"\\ud800"}', { key });
    expect(uncanonical.statusCode, uncanonical.body).toBe(400);
    expect(uncanonical.json().error).toMatch(/I-JSON/);

    scripted.state.verdict = { error: 'not today' };
    try {
      const refused = await post(BODY, { key });
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toEqual({ error: 'not today' });
    } finally {
      scripted.state.verdict = { ok: true };
    }
    expect(await rowsWithKey(key)).toEqual([]);

    const accepted = await post(BODY, { key });
    expect(accepted.statusCode, accepted.body).toBe(201);
    expect(await rowsWithKey(key)).toHaveLength(1);
  });
});

const postgres = testDatabases().find((d) => d.name === 'postgres');
const natsUrl = natsUrlForTests();

describe.skipIf(!postgres || !natsUrl)('Idempotency-Key over NATS with two HTTP processes', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  });

  it('creates one transaction for one key, whichever process and host takes each twin', async () => {
    const { config, cleanup } = await testConfig(FILE);
    closers.push(cleanup);
    const database = await postgres!.open();
    closers.push(() => database.close());
    const prefix = uniqueTestName('idem');
    closers.push(() => deleteStreams(natsUrl!, [`${prefix}_events`]));

    // Two processes: each its own bus connection, actor host and app, over one stream and database.
    const apps: FastifyInstance[] = [];
    for (let i = 0; i < 2; i++) {
      const bus = await createNatsBus({ url: natsUrl!, prefix, partitions: 4, logger: silentLogger });
      closers.push(() => bus.close());
      const host = startActorHost({
        db: database.db,
        bus,
        transactions: { payoutCustomerTypes: null, sep12: config.sep12 },
        log: quietLog,
        leaseMs: 2_000,
      });
      closers.push(() => host.stop());
      const app = await buildApp({
        config,
        ...httpPorts(database.db, config),
        commands: createTransactionCommands(bus, { timeoutMs: 20_000 }),
        customerCommands: createCustomerCommands(bus),
        horizon: NO_HORIZON,
        integration: scriptedIntegration().integration,
      });
      closers.push(() => app.close());
      apps.push(app);
    }
    const token = await tokenFor(config, KEYS.acme.publicKey());
    const post = (app: FastifyInstance, key: string) =>
      app.inject({
        method: 'POST',
        url: '/sep31/transactions',
        headers: { authorization: `Bearer ${token}`, 'idempotency-key': key },
        payload: BODY,
      });

    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => post(apps[i % 2]!, 'twins')));
    expect(responses.map((r) => r.statusCode)).toEqual(Array(20).fill(201));
    expect(new Set(responses.map((r) => r.body)).size).toBe(1);
    const rows = await database.db
      .selectFrom('transactions')
      .select(['id', 'stellar_memo'])
      .where('idempotency_key', '=', 'twins')
      .execute();
    expect(rows).toEqual([{ id: responses[0]!.json().id, stellar_memo: responses[0]!.json().stellar_memo }]);
  });
});
