import { randomUUID } from 'node:crypto';
import {
  persistCustomer,
  startCustomer,
  stepCustomerAll,
  type CustomerEvent,
  type CustomerStatus,
} from '../../../machines/index.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigFile } from '../../../src/config/index.ts';
import { toJson } from '../../../src/db/index.ts';
import { findTransaction, listEvents } from '../../../src/db/transactions.repository.ts';
import { buildTestApp, KEYS, testConfigFile, tokenFor, type TestApp } from '../../helpers/app.ts';

const NOW = new Date('2026-11-24T12:00:00.000Z');
const acme = () => KEYS.acme.publicKey();
const rival = () => KEYS.rival.publicKey();
const ASSET_ID = () => `stellar:USDC:${KEYS.issuer.publicKey()}`;

type Statuses = Partial<Record<'sep31-sender' | 'sep31-receiver', CustomerStatus>>;
const BOTH_ACCEPTED: Statuses = { 'sep31-sender': 'ACCEPTED', 'sep31-receiver': 'ACCEPTED' };

/** A customer's standing for one type, as SEP-12's customer machine records it. */
function standing(type: string, status: CustomerStatus) {
  const at = NOW.toISOString();
  const fields = ['first_name'];
  const events: CustomerEvent[] = {
    NEEDS_INFO: [],
    PROCESSING: [{ type: 'FIELDS_PROVIDED', at, fields }],
    ACCEPTED: [
      { type: 'FIELDS_PROVIDED', at, fields },
      { type: 'FIELDS_VERIFIED', at, fields },
    ],
    REJECTED: [{ type: 'CUSTOMER_REJECTED', at, message: 'sanctioned' }],
  }[status] as CustomerEvent[];
  const persisted = persistCustomer(stepCustomerAll(startCustomer({ type, required: fields, at }), events));
  expect(persisted.value).toBe(status);
  return persisted;
}

/** A SEP-12 customer of `account`, written straight into the table as SEP-12 leaves it. */
async function customer(
  t: TestApp,
  options: { account?: string; memo?: string | null; statuses?: Statuses } = {},
) {
  const id = randomUUID();
  const statuses = Object.entries(options.statuses ?? BOTH_ACCEPTED);
  const [lastType = null, lastStatus = 'NEEDS_INFO'] = statuses.at(-1) ?? [];
  await t.db
    .insertInto('customers')
    .values({
      id,
      account: options.account ?? acme(),
      memo: options.memo === undefined ? String(Math.floor(Math.random() * 1e9)) : options.memo,
      type: lastType,
      status: lastStatus,
      fields: toJson({ first_name: { kind: 'text', value: 'Ada' } }),
      statuses: toJson(Object.fromEntries(statuses.map(([type, status]) => [type, standing(type, status)]))),
    })
    .execute();
  return id;
}

describe('SEP-31', () => {
  let t: TestApp;
  let token: string;
  let rivalToken: string;
  let sender: string;
  let receiver: string;

  const auth = (bearer: string) => ({ authorization: `Bearer ${bearer}` });
  const post = (payload: unknown, bearer = token) =>
    t.app.inject({
      method: 'POST',
      url: '/sep31/transactions',
      headers: auth(bearer),
      payload: payload as Record<string, unknown>,
    });
  const body = (overrides: Record<string, unknown> = {}) => ({
    asset_code: 'USDC',
    amount: '100',
    funding_method: 'SEPA',
    sender_id: sender,
    receiver_id: receiver,
    ...overrides,
  });
  const getTx = (id: string, bearer = token) =>
    t.app.inject({ method: 'GET', url: `/sep31/transactions/${id}`, headers: auth(bearer) });
  async function created(overrides: Record<string, unknown> = {}) {
    const response = await post(body(overrides));
    expect(response.statusCode, response.body).toBe(201);
    return response.json<{ id: string; stellar_memo: string }>();
  }

  beforeAll(async () => {
    t = await buildTestApp({ clock: () => NOW });
    token = await tokenFor(t.config, acme(), { now: NOW });
    rivalToken = await tokenFor(t.config, rival(), { now: NOW });
    sender = await customer(t, { statuses: { 'sep31-sender': 'ACCEPTED' } });
    receiver = await customer(t, { statuses: { 'sep31-receiver': 'ACCEPTED' } });
  });
  afterAll(() => t.close());

  describe('GET /info', () => {
    const expected = () => ({
      receive: {
        USDC: {
          enabled: true,
          quotes_supported: false,
          quotes_required: false,
          fee_fixed: 0.5,
          fee_percent: 1,
          min_amount: 1,
          max_amount: 100000,
          funding_methods: ['SEPA', 'SWIFT'],
          sep12: {
            sender: { types: { 'sep31-sender': { description: 'the sender' } } },
            receiver: { types: { 'sep31-receiver': { description: 'the receiver' } } },
          },
        },
      },
    });

    it('describes each enabled asset, with amounts as JSON numbers, without a token', async () => {
      const response = await t.app.inject({ method: 'GET', url: '/sep31/info?lang=en' });
      expect(response.statusCode).toBe(200);
      const info = response.json();
      expect(info).toEqual(expected());
      for (const key of ['fee_fixed', 'fee_percent', 'min_amount', 'max_amount']) {
        expect(typeof info.receive.USDC[key]).toBe('number');
      }
    });

    it('answers the same with a valid token and with an invalid one', async () => {
      for (const authorization of [`Bearer ${token}`, 'Bearer not-a-token', 'Basic abc']) {
        const response = await t.app.inject({
          method: 'GET',
          url: '/sep31/info',
          headers: { authorization },
        });
        expect(response.statusCode).toBe(200);
        expect(response.json()).toEqual(expected());
      }
    });

    it('leaves out assets not enabled for SEP-31, and KYC types that are not configured', async () => {
      const base = testConfigFile();
      const usdc = base.assets![0]!;
      const file = {
        ...base,
        assets: [usdc, { ...usdc, code: 'EURC', sep31: { ...usdc.sep31, enabled: false } }],
        sep12: { types: { 'sep31-receiver': { description: 'the receiver', fields: ['last_name'] } } },
      } as ConfigFile;
      const other = await buildTestApp({ file });
      try {
        const info = (await other.app.inject({ method: 'GET', url: '/sep31/info' })).json();
        expect(Object.keys(info.receive)).toEqual(['USDC']);
        expect(info.receive.USDC.sep12).toEqual({
          sender: { types: {} },
          receiver: { types: { 'sep31-receiver': { description: 'the receiver' } } },
        });
      } finally {
        await other.close();
      }
    });
  });

  describe('POST /transactions', () => {
    it('creates a pending_sender transaction and answers exactly id, account and memo', async () => {
      const response = await post(body());
      expect(response.statusCode).toBe(201);
      const reply = response.json();
      expect(Object.keys(reply).sort()).toEqual([
        'id',
        'stellar_account_id',
        'stellar_memo',
        'stellar_memo_type',
      ]);
      expect(reply.stellar_account_id).toBe(KEYS.distribution.publicKey());
      expect(reply.stellar_memo_type).toBe('hash');
      expect(reply.stellar_memo).toMatch(/^[A-Za-z0-9+/]{43}=$/);
      expect(Buffer.from(reply.stellar_memo, 'base64')).toHaveLength(32);

      const row = await findTransaction(t.db, reply.id, acme());
      expect(row).toMatchObject({
        status: 'pending_sender',
        sending_anchor: acme(),
        sender_id: sender,
        receiver_id: receiver,
        funding_method: 'SEPA',
        stellar_account_id: KEYS.distribution.publicKey(),
        stellar_memo_type: 'hash',
        stellar_memo: reply.stellar_memo,
      });
      expect(row!.expires_at!.toISOString()).toBe(
        new Date(NOW.getTime() + t.config.paymentDeadlineSeconds * 1000).toISOString(),
      );
      const events = await listEvents(t.db, reply.id);
      expect(events.map((e) => e.event_type)).toEqual(['CREATED', 'ACCOUNT_ASSIGNED']);

      const view = (await getTx(reply.id)).json().transaction;
      expect(view).toMatchObject({
        id: reply.id,
        status: 'pending_sender',
        amount_in: '100',
        amount_in_asset: ASSET_ID(),
        amount_out: '98.5',
        amount_out_asset: ASSET_ID(),
        fee_details: {
          total: '1.5',
          asset: ASSET_ID(),
          details: [
            { name: 'fixed', amount: '0.5' },
            { name: 'percent', amount: '1' },
          ],
        },
        stellar_account_id: KEYS.distribution.publicKey(),
        stellar_memo_type: 'hash',
        stellar_memo: reply.stellar_memo,
        started_at: NOW.toISOString(),
        refunded: false,
      });
    });

    it('gives every transaction its own memo', async () => {
      const memos = new Set<string>();
      for (let i = 0; i < 50; i++) memos.add((await created()).stellar_memo);
      expect(memos.size).toBe(50);
    });

    it.each([
      // amount, fee, amount_out: fee = 0.5 + 1 % of amount, rounded half up to 2 decimals
      ['100', '1.5', '98.5'],
      ['100.25', '1.5', '98.75'], // 1.5025 -> 1.50
      ['100.5', '1.51', '98.99'], // 1.505 -> 1.51 (half up)
      ['1', '0.51', '0.49'],
      [250, '3', '247'],
      ['99999.99', '1000.5', '98999.49'], // 1000.4999 + ... = 1000.4999 -> 1000.50
    ])('prices %s exactly: fee %s, amount_out %s', async (amount, fee, amountOut) => {
      const { id } = await created({ amount });
      const view = (await getTx(id)).json().transaction;
      expect(view.amount_in).toBe(String(amount));
      expect(view.fee_details.total).toBe(fee);
      expect(view.amount_fee).toBe(fee);
      expect(view.amount_out).toBe(amountOut);
    });

    it('defaults a missing funding_method to the first one (clients before SEP-31 3.1.0)', async () => {
      const { id } = await created({ funding_method: undefined });
      expect((await findTransaction(t.db, id))?.funding_method).toBe('SEPA');
    });

    it('stores refund memos, legacy fields (flat strings only) and the issuer when it matches', async () => {
      const { id } = await created({
        asset_issuer: KEYS.issuer.publicKey(),
        refund_memo: '12345',
        refund_memo_type: 'id',
        lang: 'EN',
        fields: { transaction: { receiver_routing_number: '123', nested: { no: 1 }, n: 5 } },
      });
      const row = await findTransaction(t.db, id);
      expect(row).toMatchObject({ refund_memo: '12345', refund_memo_type: 'id' });
      expect((row!.snapshot as { context: { fields: unknown } }).context.fields).toEqual({
        receiver_routing_number: '123',
      });
    });

    it.each([
      ['missing asset_code', { asset_code: undefined }, 'asset_code is required'],
      ['unknown asset', { asset_code: 'XYZ' }, 'asset "XYZ" is not supported for SEP-31 payments'],
      ['wrong issuer', { asset_issuer: KEYS.stranger.publicKey() }, 'asset_issuer does not match'],
      ['missing amount', { amount: undefined }, 'amount is required'],
      ['empty amount', { amount: '' }, 'amount is required'],
      ['NaN', { amount: 'NaN' }, 'amount must be a positive decimal number'],
      ['1e400 as text', { amount: '1e400' }, 'amount must be a positive decimal number'],
      ['exponent number', { amount: 1e-7 }, 'amount must be a positive decimal number'],
      ['big number', { amount: 1e21 }, 'amount must be a positive decimal number'],
      ['negative', { amount: '-1' }, 'amount must be a positive decimal number'],
      ['leading space', { amount: ' 1' }, 'amount must be a positive decimal number'],
      ['hex', { amount: '0x10' }, 'amount must be a positive decimal number'],
      ['Infinity', { amount: 'Infinity' }, 'amount must be a positive decimal number'],
      ['boolean amount', { amount: true }, 'amount must be a decimal string or a number'],
      ['zero', { amount: '0' }, 'amount must be greater than 0'],
      ['8 decimals', { amount: '10.00000001' }, 'amount must have at most 7 decimal places'],
      [
        '3 decimals for a 2-decimal asset',
        { amount: '10.001' },
        'amount must have at most 2 decimal places for USDC',
      ],
      ['below min', { amount: '0.99' }, 'amount must be at least 1 USDC'],
      ['above max', { amount: '100000.01' }, 'amount must be at most 100000 USDC'],
      [
        'unknown funding method',
        { funding_method: 'CARRIER_PIGEON' },
        'funding_method "CARRIER_PIGEON" is not supported',
      ],
      ['bad lang', { lang: 'english' }, 'lang must be a two-letter ISO 639-1 language code'],
      [
        'refund memo without type',
        { refund_memo: '1' },
        'refund_memo and refund_memo_type must be given together',
      ],
      [
        'refund type without memo',
        { refund_memo_type: 'id' },
        'refund_memo and refund_memo_type must be given together',
      ],
      [
        'unknown refund memo type',
        { refund_memo: '1', refund_memo_type: 'return' },
        'refund_memo_type must be one of',
      ],
      [
        'id memo over uint64',
        { refund_memo: '18446744073709551616', refund_memo_type: 'id' },
        'an id memo must be',
      ],
      ['id memo not a number', { refund_memo: 'abc', refund_memo_type: 'id' }, 'an id memo must be'],
      [
        'text memo over 28 bytes',
        { refund_memo: 'é'.repeat(15), refund_memo_type: 'text' },
        'a text memo must be',
      ],
      [
        'hash memo too short',
        { refund_memo: 'abcd', refund_memo_type: 'hash' },
        'a hash memo must be 32 bytes',
      ],
      ['quote_id', { quote_id: 'q-1' }, 'quotes are not supported'],
      ['destination_asset', { destination_asset: 'iso4217:BRL' }, 'quotes are not supported'],
    ])('refuses %s with a 400 that says why', async (_name, overrides, message) => {
      const response = await post(body(overrides));
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().error).toContain(message);
    });

    it('refuses an amount whose fee is larger than it', async () => {
      const base = testConfigFile();
      const usdc = base.assets![0]!;
      const file = {
        ...base,
        assets: [{ ...usdc, sep31: { ...usdc.sep31, minAmount: '0.01', feeFixed: '2' } }],
        sep12: { types: {} },
      } as ConfigFile;
      const other = await buildTestApp({ file });
      try {
        const bearer = await tokenFor(other.config, acme());
        const over = await other.app.inject({
          method: 'POST',
          url: '/sep31/transactions',
          headers: auth(bearer),
          payload: { asset_code: 'USDC', amount: '1.99' },
        });
        expect(over.statusCode).toBe(400);
        expect(over.json()).toEqual({ error: 'amount 1.99 does not cover the fee of 2.02 USDC' });
        // Without KYC types configured, no sender_id / receiver_id is needed.
        const exact = await other.app.inject({
          method: 'POST',
          url: '/sep31/transactions',
          headers: auth(bearer),
          payload: { asset_code: 'USDC', amount: '2.03' },
        });
        expect(exact.statusCode, exact.body).toBe(201);
      } finally {
        await other.close();
      }
    });

    it('refuses every request for an asset that requires quotes', async () => {
      const base = testConfigFile();
      const usdc = base.assets![0]!;
      const file = {
        ...base,
        assets: [{ ...usdc, sep31: { ...usdc.sep31, quotesSupported: true, quotesRequired: true } }],
        sep12: { types: {} },
      } as ConfigFile;
      const other = await buildTestApp({ file });
      try {
        const response = await other.app.inject({
          method: 'POST',
          url: '/sep31/transactions',
          headers: auth(await tokenFor(other.config, acme())),
          payload: body(),
        });
        expect(response.statusCode).toBe(400);
        expect(response.json()).toEqual({ error: 'a quote_id is required for USDC' });
      } finally {
        await other.close();
      }
    });

    it('checks in the SEP order: the asset before the amount, the amount before the customers', async () => {
      expect((await post({ asset_code: 'XYZ', amount: 'NaN' })).json().error).toContain('XYZ');
      expect((await post({ asset_code: 'USDC', amount: 'NaN' })).json().error).toContain('amount');
      expect((await post({ asset_code: 'USDC', amount: '5', lang: 'xxx' })).json().error).toContain('lang');
    });

    it('answers 403 without a token, with a bad token and for an account that is not a sending anchor', async () => {
      const bearers = [
        undefined,
        'Bearer nonsense',
        `Bearer ${await tokenFor({ ...t.config, jwtSecret: 'another-secret-that-is-long-enough-000000' }, acme())}`,
        `Bearer ${await tokenFor(t.config, KEYS.stranger.publicKey())}`,
      ];
      for (const authorization of bearers) {
        const response = await t.app.inject({
          method: 'POST',
          url: '/sep31/transactions',
          headers: authorization === undefined ? {} : { authorization },
          payload: body(),
        });
        expect(response.statusCode).toBe(403);
        expect(typeof response.json().error).toBe('string');
      }
    });

    it('answers 403 to an unauthenticated caller whatever its body (auth comes before parsing)', async () => {
      for (const [contentType, payload] of [
        ['text/plain', '{}'],
        ['application/json', 'not json'],
        ['application/json', '[]'],
      ]) {
        const response = await t.app.inject({
          method: 'POST',
          url: '/sep31/transactions',
          headers: { 'content-type': contentType! },
          payload,
        });
        expect(response.statusCode).toBe(403);
      }
    });

    describe('customer_info_needed', () => {
      it.each([
        ['sender_id missing', () => ({ sender_id: undefined }), 'sep31-sender'],
        ['receiver_id missing', () => ({ receiver_id: undefined }), 'sep31-receiver'],
        ['sender unknown', () => ({ sender_id: randomUUID() }), 'sep31-sender'],
        ['receiver unknown', () => ({ receiver_id: 'no-such-customer' }), 'sep31-receiver'],
      ])('%s -> the type to complete', async (_name, overrides, type) => {
        const response = await post(body(overrides()));
        expect(response.statusCode).toBe(400);
        expect(response.json()).toEqual({ error: 'customer_info_needed', type });
      });

      it("refuses another sending anchor's customer as if unknown", async () => {
        const foreign = await customer(t, { account: rival(), statuses: { 'sep31-sender': 'ACCEPTED' } });
        const response = await post(body({ sender_id: foreign }));
        expect(response.json()).toEqual({ error: 'customer_info_needed', type: 'sep31-sender' });
        // The rival itself may use it.
        const ok = await post(
          body({ sender_id: foreign, receiver_id: await customer(t, { account: rival() }) }),
          rivalToken,
        );
        expect(ok.statusCode, ok.body).toBe(201);
      });

      it.each(['NEEDS_INFO', 'PROCESSING', 'REJECTED'] as const)('refuses a %s customer', async (status) => {
        const pending = await customer(t, { statuses: { 'sep31-receiver': status } });
        const response = await post(body({ receiver_id: pending }));
        expect(response.json()).toEqual({ error: 'customer_info_needed', type: 'sep31-receiver' });
      });

      it('refuses a customer accepted as another type', async () => {
        const response = await post(body({ sender_id: receiver }));
        expect(response.json()).toEqual({ error: 'customer_info_needed', type: 'sep31-sender' });
      });

      it("lets a memo-bound token use its account's customers under any memo (SEP-31: the anchor is the account)", async () => {
        const sender = await customer(t, { memo: '1', statuses: { 'sep31-sender': 'ACCEPTED' } });
        const receiver = await customer(t, { memo: '2' });
        const pair = { sender_id: sender, receiver_id: receiver };
        for (const sub of [`${acme()}:1`, `${acme()}:2`, `${acme()}:43`, acme()]) {
          const response = await post(body(pair), await tokenFor(t.config, sub, { now: NOW }));
          expect(response.statusCode, `${sub}: ${response.body}`).toBe(201);
        }
        // Another account's memo-bound token still sees none of them.
        expect(
          (await post(body(pair), await tokenFor(t.config, `${rival()}:1`, { now: NOW }))).json(),
        ).toEqual({
          error: 'customer_info_needed',
          type: 'sep31-sender',
        });
      });
    });
  });

  describe('GET /transactions/:id', () => {
    it('shows a transaction to its sending anchor only', async () => {
      const { id } = await created();
      const mine = await getTx(id);
      expect(mine.statusCode).toBe(200);
      expect(mine.json().transaction.id).toBe(id);
      const theirs = await getTx(id, rivalToken);
      expect(theirs.statusCode).toBe(404);
      expect(theirs.json()).toEqual({ error: 'transaction not found' });
      // A memo sub-user of the same account is another identity.
      expect((await getTx(id, await tokenFor(t.config, `${acme()}:7`, { now: NOW }))).statusCode).toBe(404);
    });

    it('answers 404 for unknown and malformed ids, 403 without a token', async () => {
      for (const id of [randomUUID(), 'not-a-uuid', '%00', "1' or '1'='1"]) {
        const response = await getTx(encodeURIComponent(id));
        expect(response.statusCode).toBe(404);
        expect(response.json()).toEqual({ error: 'transaction not found' });
      }
      const { id } = await created();
      expect((await t.app.inject({ method: 'GET', url: `/sep31/transactions/${id}` })).statusCode).toBe(403);
    });

    it('also answers the polling form GET /transactions?id=', async () => {
      const { id } = await created();
      const response = await t.app.inject({
        method: 'GET',
        url: `/sep31/transactions?id=${id}`,
        headers: auth(token),
      });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual((await getTx(id)).json());
      const rivalView = await t.app.inject({
        method: 'GET',
        url: `/sep31/transactions?id=${id}`,
        headers: auth(rivalToken),
      });
      expect(rivalView.statusCode).toBe(404);
      const noId = await t.app.inject({ method: 'GET', url: '/sep31/transactions', headers: auth(token) });
      expect(noId.statusCode).toBe(400);
      expect(noId.json()).toEqual({ error: 'id is required' });
    });
  });

  describe('PATCH /transactions/:id (deprecated)', () => {
    const patch = (id: string, transaction: Record<string, unknown>, bearer = token) =>
      t.app.inject({
        method: 'PATCH',
        url: `/sep31/transactions/${id}`,
        headers: auth(bearer),
        payload: { fields: { transaction } },
      });

    async function awaitingInfo() {
      const { id } = await created();
      const at = new Date(NOW.getTime() + 60_000).toISOString();
      await t.host.apply({
        eventId: `pay-${id}`,
        transactionId: id,
        event: {
          type: 'PAYMENT_RECEIVED',
          at,
          payment: {
            operationId: String(Math.floor(Math.random() * 1e15)),
            transactionHash: 'ab'.repeat(32),
            amount: '100',
            assetCode: 'USDC',
            assetIssuer: KEYS.issuer.publicKey(),
            createdAt: at,
          },
        },
      });
      await t.host.apply({
        eventId: `info-${id}`,
        transactionId: id,
        event: {
          type: 'TRANSACTION_INFO_NEEDED',
          at,
          message: 'the routing number is wrong',
          fields: {
            receiver_routing_number: { description: 'routing number of the bank' },
            reference: { description: 'payment reference', optional: true },
          },
        },
      });
      return id;
    }

    it('takes the requested fields and moves the transaction back to pending_receiver', async () => {
      const id = await awaitingInfo();
      const before = (await getTx(id)).json().transaction;
      expect(before).toMatchObject({
        status: 'pending_transaction_info_update',
        required_info_message: 'the routing number is wrong',
        required_info_updates: {
          transaction: { receiver_routing_number: { description: 'routing number of the bank' } },
        },
      });

      const response = await patch(id, { receiver_routing_number: '021000021' });
      expect(response.statusCode, response.body).toBe(200);
      const after = response.json().transaction;
      expect(after.status).toBe('pending_receiver');
      expect(after.required_info_updates).toBeUndefined();
      expect(after).toEqual((await getTx(id)).json().transaction);
      const row = await findTransaction(t.db, id);
      expect((row!.snapshot as { context: { fields: unknown } }).context.fields).toEqual({
        receiver_routing_number: '021000021',
      });

      // The same request again (a client retry) is acknowledged, not applied twice.
      const retry = await patch(id, { receiver_routing_number: '021000021' });
      expect(retry.statusCode).toBe(200);
      expect(retry.json().transaction.status).toBe('pending_receiver');
      const updates = (await listEvents(t.db, id)).filter((e) => e.event_type === 'TRANSACTION_INFO_UPDATED');
      expect(updates).toHaveLength(1);

      // Something else, once nothing is requested: refused.
      const late = await patch(id, { receiver_routing_number: '111' });
      expect(late.statusCode).toBe(400);
      expect(late.json().error).toContain('pending_transaction_info_update');
    });

    it('refuses missing required fields and fields nobody asked for', async () => {
      const id = await awaitingInfo();
      const missing = await patch(id, { reference: 'x' });
      expect(missing.statusCode).toBe(400);
      expect(missing.json()).toEqual({ error: 'missing required fields: receiver_routing_number' });
      const blank = await patch(id, { receiver_routing_number: '  ' });
      expect(blank.json()).toEqual({ error: 'missing required fields: receiver_routing_number' });
      const extra = await patch(id, { receiver_routing_number: '1', toString: 'x' });
      expect(extra.statusCode).toBe(400);
      expect(extra.json()).toEqual({ error: 'fields not requested for this transaction: toString' });
      const malformed = await t.app.inject({
        method: 'PATCH',
        url: `/sep31/transactions/${id}`,
        headers: auth(token),
        payload: { receiver_routing_number: '1' },
      });
      expect(malformed.statusCode).toBe(400);
      expect((await getTx(id)).json().transaction.status).toBe('pending_transaction_info_update');
    });

    it('refuses a PATCH outside pending_transaction_info_update with a 400, never a 500', async () => {
      const { id } = await created();
      const response = await patch(id, { receiver_routing_number: '1' });
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatch(/no transaction information was requested/);
    });

    it("answers 404 for unknown ids and another anchor's transaction", async () => {
      const id = await awaitingInfo();
      expect((await patch(randomUUID(), { receiver_routing_number: '1' })).statusCode).toBe(404);
      const foreign = await patch(id, { receiver_routing_number: '1' }, rivalToken);
      expect(foreign.statusCode).toBe(404);
      expect((await getTx(id)).json().transaction.status).toBe('pending_transaction_info_update');
    });
  });

  describe('PUT /transactions/:id/callback', () => {
    const put = (id: string, url: unknown, bearer = token, app = t) =>
      app.app.inject({
        method: 'PUT',
        url: `/sep31/transactions/${id}/callback`,
        headers: auth(bearer),
        payload: { url } as Record<string, unknown>,
      });

    it.each([
      ['http://sender.example/cb', 'callback url must use https'],
      ['https://127.0.0.1/cb', 'callback url must use a host name, not an IP address'],
      ['https://localhost/cb', 'callback url must not point to localhost'],
      ['not a url', 'callback url is not a valid absolute URL'],
      ['', 'callback url must be a non-empty string'],
    ])('refuses %s', async (url, message) => {
      const { id } = await created();
      const response = await put(id, url);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({ error: message });
      expect((await findTransaction(t.db, id))?.callback_url).toBeNull();
    });

    it("answers 404 for unknown ids and another anchor's transaction", async () => {
      const { id } = await created();
      expect((await put(randomUUID(), 'https://sender.example/cb')).statusCode).toBe(404);
      expect((await put(id, 'https://sender.example/cb', rivalToken)).statusCode).toBe(404);
      expect((await findTransaction(t.db, id))?.callback_url).toBeNull();
    });

    it('stores the URL (replacing the previous one) and answers 204', async () => {
      // With callbacks.allowLoopback, http to localhost is accepted, so no DNS is needed.
      const sandbox = await buildTestApp({ file: testConfigFile({ callbacks: { allowLoopback: true } }) });
      try {
        expect(sandbox.config.callbacks.allowLoopback).toBe(true);
        const bearer = await tokenFor(sandbox.config, acme());
        const accepted = await customer(sandbox, {});
        const creation = await sandbox.app.inject({
          method: 'POST',
          url: '/sep31/transactions',
          headers: auth(bearer),
          payload: body({ sender_id: accepted, receiver_id: accepted }),
        });
        expect(creation.statusCode, creation.body).toBe(201);
        const { id } = creation.json();
        const first = await put(id, 'http://localhost:9000/cb', bearer, sandbox);
        expect(first.statusCode).toBe(204);
        expect(first.body).toBe('');
        expect((await findTransaction(sandbox.db, id))?.callback_url).toBe('http://localhost:9000/cb');
        const second = await put(id, 'http://127.0.0.1:9001/other', bearer, sandbox);
        expect(second.statusCode).toBe(204);
        const row = await findTransaction(sandbox.db, id);
        expect(row?.callback_url).toBe('http://127.0.0.1:9001/other');
        expect(row?.version).toBe(2); // not a state change
      } finally {
        await sandbox.close();
      }
    });
  });
});
