// The operator API (JSON-RPC 2.0 at POST /operator/rpc): the protocol, each method driving its transition
// through the bus and the transaction actors, refusals naming what the state accepts, and the operator
// recorded in the event log. On every test database.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransactionEvent } from '../../../machines/index.ts';
import { listEvents } from '../../../src/db/transactions.repository.ts';
import { recordUnmatchedPayment } from '../../../src/db/unmatched-payments.repository.ts';
import { OPERATOR_OFF } from '../../../src/http/operator.routes.ts';
import { accountAssigned, ISSUER, payment, transactionInput } from '../../fixtures/transactions.ts';
import { testDatabases } from '../../helpers/database.ts';
import { buildTestApp, eventually, KEYS, tokenFor, type TestApp } from '../../helpers/app.ts';

const TOKEN = 'operator-token-for-the-rpc-tests-0123';
const AT = '2026-11-24T10:10:00.000Z';
const HASH = 'ab'.repeat(32);
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, read field by field
type Json = Record<string, any>;

describe.each(testDatabases())('operator API on $name', (database) => {
  let t: TestApp;
  let acmeToken: string;

  beforeAll(async () => {
    t = await buildTestApp({ database, env: { OPERATOR_TOKEN: TOKEN } });
    acmeToken = await tokenFor(t.config, KEYS.acme.publicKey());
  });
  afterAll(async () => {
    await t?.close();
  });

  const post = (payload: string, headers: Record<string, string> = {}) =>
    t.app.inject({
      method: 'POST',
      url: '/operator/rpc',
      payload,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers },
    });
  /** One call; answers the JSON-RPC response. */
  async function call(method: string, params?: unknown, headers: Record<string, string> = {}) {
    const response = await post(
      JSON.stringify({ jsonrpc: '2.0', id: 7, method, ...(params !== undefined && { params }) }),
      headers,
    );
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ jsonrpc: '2.0', id: 7 });
    return body as {
      result?: Record<string, unknown>;
      error?: { code: number; message: string; data?: Json };
    };
  }
  async function ok(method: string, params?: unknown, headers?: Record<string, string>) {
    const answer = await call(method, params, headers);
    expect(answer.error, JSON.stringify(answer.error)).toBeUndefined();
    return answer.result as Json;
  }

  let events = 0;
  const apply = (id: string, event: TransactionEvent) =>
    t.host.apply({ eventId: `fixture-${++events}`, transactionId: id, event });

  /** A transaction waiting for the sender's payment (pending_sender). */
  async function waiting(overrides: Parameters<typeof transactionInput>[0] = {}) {
    const input = transactionInput(overrides);
    await t.host.create(input, { eventId: `create:${input.id}`, then: [accountAssigned()] });
    return input.id;
  }
  /** Paid in full, no customers linked: it waits in pending_receiver (ready). */
  async function paid(overrides: Parameters<typeof transactionInput>[0] = {}) {
    const id = await waiting(overrides);
    await apply(id, { type: 'PAYMENT_RECEIVED', at: AT, payment: payment() });
    return id;
  }
  async function payingOut() {
    const id = await paid();
    await apply(id, { type: 'PAYOUT_REQUESTED', at: AT });
    return id;
  }

  describe('HTTP', () => {
    it('needs the operator token: 401 without it or with a wrong one', async () => {
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'get_transactions' });
      const none = await t.app.inject({
        method: 'POST',
        url: '/operator/rpc',
        payload: body,
        headers: { 'content-type': 'application/json' },
      });
      expect(none.statusCode).toBe(401);
      expect(none.json()).toEqual({ error: 'operator token required' });
      expect(none.headers['www-authenticate']).toBe('Bearer');
      const wrong = await post(body, { authorization: 'Bearer not-the-token' });
      expect(wrong.statusCode).toBe(401);
      // A sending anchor's SEP-10 token is not an operator token.
      expect((await post(body, { authorization: `Bearer ${acmeToken}` })).statusCode).toBe(401);
    });

    it('serves an OpenRPC document generated from the param schemas, apart from the public OpenAPI', async () => {
      const response = await t.app.inject({ method: 'GET', url: '/operator/openrpc.json' });
      expect(response.statusCode).toBe(200);
      const document = response.json();
      expect(document.openrpc).toMatch(/^1\.\d+\.\d+$/);
      const names = document.methods.map((m: { name: string }) => m.name);
      expect(names).toEqual(
        expect.arrayContaining([
          'get_transaction',
          'get_transactions',
          'notify_onchain_funds_received',
          'notify_offchain_funds_pending',
          'notify_offchain_funds_sent',
          'notify_refund_sent',
          'notify_customer_info_updated',
          'notify_transaction_error',
          'notify_transaction_expired',
          'notify_transaction_recovery',
          'notify_amounts_updated',
          'request_customer_info_update',
          'request_transaction_info_update',
          'list_unmatched_payments',
        ]),
      );
      const refund = document.methods.find((m: { name: string }) => m.name === 'notify_refund_sent');
      expect(refund.paramStructure).toBe('by-name');
      expect(refund.params.find((p: { name: string }) => p.name === 'transaction_id')).toMatchObject({
        required: true,
        schema: { type: 'string' },
      });
      expect(refund.params.find((p: { name: string }) => p.name === 'refund').schema.required).toEqual([
        'id',
        'amount',
        'amount_fee',
      ]);
      expect(document.components.errors.notAccepted.code).toBe(-32001);

      const openapi = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
      expect(Object.keys(openapi.paths).filter((path) => path.startsWith('/operator'))).toEqual([]);
    });

    it('refuses a malformed X-Operator with 400', async () => {
      const response = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'get_transactions' }), {
        'x-operator': 'not a name',
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatch(/X-Operator/);
    });
  });

  describe('protocol', () => {
    it('a body that is not JSON is a parse error with a null id', async () => {
      const response = await post('{"jsonrpc": "2.0", "method": ');
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({
        jsonrpc: '2.0',
        id: null,
        error: { code: -32700, message: 'Parse error' },
      });
    });

    it('a request that is not JSON-RPC 2.0 is an invalid request', async () => {
      const response = await post(JSON.stringify({ id: 3, method: 'get_transactions' }));
      expect(response.json()).toMatchObject({ id: 3, error: { code: -32600 } });
      expect((await post('42')).json()).toMatchObject({ id: null, error: { code: -32600 } });
      expect((await post('[]')).json()).toMatchObject({ id: null, error: { code: -32600 } });
    });

    it('an unknown method is -32601, also for a name of Object.prototype', async () => {
      expect(await call('do_something')).toMatchObject({
        error: { code: -32601, data: { method: 'do_something' } },
      });
      expect(await call('toString')).toMatchObject({ error: { code: -32601 } });
    });

    it('params that do not fit the schema are -32602 with the paths at fault', async () => {
      const missing = await call('get_transaction', {});
      expect(missing.error).toMatchObject({ code: -32602, message: 'Invalid params' });
      expect(JSON.stringify(missing.error?.data)).toContain('transaction_id');
      const extra = await call('get_transaction', { transaction_id: 'x', colour: 'blue' });
      expect(extra.error?.code).toBe(-32602);
      const positional = await call('get_transaction', ['x']);
      expect(positional.error?.code).toBe(-32602);
      const badAmount = await call('notify_refund_sent', {
        transaction_id: 'x',
        refund: { id: HASH, amount: { amount: '1e3' }, amount_fee: { amount: '0' } },
      });
      expect(badAmount.error?.code).toBe(-32602);
      expect(JSON.stringify(badAmount.error?.data)).toContain('/refund/amount');
    });

    it('a notification is applied and not answered (204)', async () => {
      const id = await waiting();
      const response = await post(
        JSON.stringify({
          jsonrpc: '2.0',
          method: 'notify_transaction_error',
          params: { transaction_id: id, message: 'held' },
        }),
      );
      expect(response.statusCode).toBe(204);
      expect(response.body).toBe('');
      expect(await ok('get_transaction', { transaction_id: id })).toMatchObject({
        status: 'error',
        status_message: 'held',
      });
      // Even a failing notification stays unanswered.
      const unknown = await post(JSON.stringify({ jsonrpc: '2.0', method: 'nope' }));
      expect(unknown.statusCode).toBe(204);
    });

    it('a batch answers each request in order and leaves notifications out', async () => {
      const id = await waiting();
      const response = await post(
        JSON.stringify([
          { jsonrpc: '2.0', id: 'a', method: 'get_transaction', params: { transaction_id: id } },
          {
            jsonrpc: '2.0',
            method: 'notify_transaction_error',
            params: { transaction_id: id, message: 'm' },
          },
          { jsonrpc: '2.0', id: 'b', method: 'nope' },
          { jsonrpc: '2.0', id: 'c', method: 'get_transaction', params: { transaction_id: id } },
          { foo: 1 },
        ]),
      );
      expect(response.statusCode).toBe(200);
      const answers = response.json();
      expect(answers.map((a: { id: unknown }) => a.id)).toEqual(['a', 'b', 'c', null]);
      expect(answers[0].result.status).toBe('pending_sender');
      expect(answers[1].error.code).toBe(-32601);
      // In order: the notification before it was applied.
      expect(answers[2].result.status).toBe('error');
      expect(answers[3].error.code).toBe(-32600);
    });
  });

  describe('methods', () => {
    it('get_transaction: the SEP-31 object plus the sending anchor, state and the methods it takes', async () => {
      const id = await paid({ sendingAnchor: KEYS.acme.publicKey() });
      const view = await ok('get_transaction', { transaction_id: id });
      const sep31 = await t.app.inject({
        method: 'GET',
        url: `/sep31/transactions/${id}`,
        headers: { authorization: `Bearer ${acmeToken}` },
      });
      expect(sep31.statusCode, sep31.body).toBe(200);
      expect(view).toMatchObject(sep31.json().transaction);
      expect(view).toMatchObject({
        sending_anchor: KEYS.acme.publicKey(),
        sending_anchor_name: 'acme',
        state: 'pending_receiver.ready',
        payment_received: { amount: '100', asset: `stellar:USDC:${ISSUER}` },
      });
      expect(view.accepts).toEqual(
        expect.arrayContaining([
          'request_customer_info_update',
          'notify_refund_sent',
          'notify_amounts_updated',
        ]),
      );
      expect(view.accepts).not.toContain('notify_onchain_funds_received');
      expect(await call('get_transaction', { transaction_id: randomUUID() })).toMatchObject({
        error: { code: -32002 },
      });
    });

    it('notify_onchain_funds_received: pending_sender → pending_receiver, crediting the payment', async () => {
      const id = await waiting();
      const view = await ok('notify_onchain_funds_received', {
        transaction_id: id,
        stellar_transaction_id: HASH,
        amount_in: { amount: '100', asset: `stellar:USDC:${ISSUER}` },
      });
      expect(view).toMatchObject({
        status: 'pending_receiver',
        state: 'pending_receiver.ready',
        stellar_transaction_id: HASH,
        payment_received: { amount: '100', operation_id: `manual:${HASH}` },
      });
      const wrongAsset = await call('notify_onchain_funds_received', {
        transaction_id: await waiting(),
        stellar_transaction_id: HASH,
        amount_in: { amount: '100', asset: 'stellar:EURC:' + ISSUER },
      });
      expect(wrongAsset.error?.code).toBe(-32602);
    });

    it('notify_offchain_funds_pending then notify_offchain_funds_sent: paying out → pending_external → completed', async () => {
      const id = await payingOut();
      const pending = await ok('notify_offchain_funds_pending', {
        transaction_id: id,
        external_transaction_id: 'bank-1',
        message: 'queued',
      });
      expect(pending).toMatchObject({ status: 'pending_external', external_transaction_id: 'bank-1' });
      const sent = await ok('notify_offchain_funds_sent', { transaction_id: id, message: 'arrived' });
      expect(sent).toMatchObject({ status: 'completed', status_message: 'arrived' });
      expect(sent.completed_at).toBeDefined();
      expect(sent.accepts).toEqual([]);
    });

    it('notify_refund_sent: a partial refund, then the rest: refunded', async () => {
      const id = await paid();
      const partial = await ok('notify_refund_sent', {
        transaction_id: id,
        refund: { id: 'cd'.repeat(32), amount: { amount: '30' }, amount_fee: { amount: '0.1' } },
      });
      expect(partial).toMatchObject({
        status: 'pending_receiver',
        refunds: { amount_refunded: '30', amount_fee: '0.1' },
      });
      const rest = await ok('notify_refund_sent', {
        transaction_id: id,
        refund: { id: 'ef'.repeat(32), amount: { amount: '70' }, amount_fee: { amount: '0.1' } },
      });
      expect(rest).toMatchObject({ status: 'refunded', refunded: true, refunds: { amount_refunded: '100' } });
      expect(rest.refunds.payments).toHaveLength(2);
    });

    it('request_customer_info_update then notify_customer_info_updated: back to pending_receiver', async () => {
      const id = await paid();
      const asked = await ok('request_customer_info_update', {
        transaction_id: id,
        message: 'check the IBAN',
      });
      expect(asked).toMatchObject({
        status: 'pending_customer_info_update',
        required_info_message: 'check the IBAN',
      });
      const updated = await ok('notify_customer_info_updated', { transaction_id: id });
      expect(updated).toMatchObject({ status: 'pending_receiver', state: 'pending_receiver.ready' });
      expect(
        (await call('request_customer_info_update', { transaction_id: id, customer_type: 'nobody' })).error
          ?.code,
      ).toBe(-32602);
      expect(
        (await call('request_customer_info_update', { transaction_id: id, fields: ['shoe_size'] })).error
          ?.code,
      ).toBe(-32602);
    });

    it('request_customer_info_update with fields: the customer’s SEP-12 GET asks for exactly those', async () => {
      const auth = { authorization: `Bearer ${acmeToken}` };
      const memo = String(Math.floor(Math.random() * 1e12));
      const registered = await t.app.inject({
        method: 'PUT',
        url: '/sep12/customer',
        headers: auth,
        payload: {
          memo,
          type: 'sep31-receiver',
          first_name: 'Ada',
          last_name: 'Lovelace',
          bank_account_number: '12345678',
          bank_number: '021000021',
        },
      });
      expect(registered.statusCode, registered.body).toBe(202);
      const receiverId = registered.json().id as string;
      const id = await paid({ sendingAnchor: KEYS.acme.publicKey(), receiverId });

      const view = await ok('request_customer_info_update', {
        transaction_id: id,
        customer_type: 'sep31-receiver',
        fields: ['bank_account_number'],
        message: 'the bank reports no such account',
      });
      expect(view.status).toBe('pending_customer_info_update');
      const sep31 = await t.app.inject({ method: 'GET', url: `/sep31/transactions/${id}`, headers: auth });
      expect(sep31.json().transaction.status).toBe('pending_customer_info_update');

      const get = () =>
        t.app.inject({
          method: 'GET',
          url: '/sep12/customer',
          query: { transaction_id: id, type: 'sep31-receiver' },
          headers: auth,
        });
      let customer: Json = {};
      await eventually('the receiver asked for the field', async () => {
        customer = (await get()).json();
        return customer.status === 'NEEDS_INFO';
      });
      expect(customer).toMatchObject({ id: receiverId, status: 'NEEDS_INFO' });
      expect(Object.keys(customer.fields)).toEqual(['bank_account_number']);
      expect(customer.provided_fields.bank_account_number).toMatchObject({
        status: 'REJECTED',
        error: 'the bank reports no such account',
      });
      // Once the customer's actor has applied the request, the customer still asks for the field.
      await eventually('the customer actor to apply the request', async () => {
        const link = await t.db
          .selectFrom('customer_transactions')
          .select(['applied_seq', 'requested_fields'])
          .where('transaction_id', '=', id)
          .where('type', '=', 'sep31-receiver')
          .executeTakeFirst();
        return link !== undefined && link.applied_seq !== null && link.requested_fields === null;
      });
      const applied = (await get()).json();
      expect(applied).toMatchObject({ id: receiverId, status: 'NEEDS_INFO' });
      expect(applied.provided_fields.bank_account_number).toMatchObject({ status: 'REJECTED' });
    });

    it('request_transaction_info_update: pending_transaction_info_update with the fields required', async () => {
      const id = await paid();
      const view = await ok('request_transaction_info_update', {
        transaction_id: id,
        message: 'we need the reference',
        fields: { reference: { description: 'the invoice number' } },
      });
      expect(view).toMatchObject({
        status: 'pending_transaction_info_update',
        required_info_message: 'we need the reference',
        required_info_updates: { transaction: { reference: { description: 'the invoice number' } } },
      });
      expect(
        (await call('request_transaction_info_update', { transaction_id: id, fields: {} })).error?.code,
      ).toBe(-32602);
    });

    it('notify_transaction_error, then notify_transaction_recovery once funds arrived in full', async () => {
      const id = await payingOut();
      expect(
        await ok('notify_transaction_error', { transaction_id: id, message: 'rails down' }),
      ).toMatchObject({
        status: 'error',
        status_message: 'rails down',
      });
      expect(await ok('notify_transaction_recovery', { transaction_id: id, message: 'retry' })).toMatchObject(
        {
          status: 'pending_receiver',
          state: 'pending_receiver.ready',
        },
      );
    });

    it('notify_transaction_expired: pending_sender → expired at once, before its deadline', async () => {
      const id = await waiting({ expiresAt: '2099-01-01T00:00:00.000Z' });
      expect(
        await ok('notify_transaction_expired', { transaction_id: id, message: 'cancelled' }),
      ).toMatchObject({
        status: 'expired',
        status_message: 'cancelled',
      });
    });

    it('notify_amounts_updated: new fee and amount_out when they add up', async () => {
      const id = await paid();
      const asset = `stellar:USDC:${ISSUER}`;
      const view = await ok('notify_amounts_updated', {
        transaction_id: id,
        amount_out: { amount: '98', asset },
        fee_details: { total: '2', asset, details: [{ name: 'service', amount: '2' }] },
      });
      expect(view).toMatchObject({
        status: 'pending_receiver',
        amount_out: '98',
        amount_fee: '2',
        fee_details: { total: '2', details: [{ name: 'service', amount: '2' }] },
      });
      const wrong = await call('notify_amounts_updated', {
        transaction_id: id,
        amount_out: { amount: '99', asset },
        fee_details: { total: '2', asset },
      });
      expect(wrong.error).toMatchObject({ code: -32001, data: { status: 'pending_receiver' } });
      expect(wrong.error?.message).toMatch(/conditions are not met/);
    });

    it('get_transactions: filtered by status, paged, ordered', async () => {
      const ids = [await waiting(), await waiting(), await waiting()];
      for (const id of ids) await ok('notify_transaction_expired', { transaction_id: id });
      const page = await ok('get_transactions', {
        statuses: ['expired'],
        order_by: 'updated_at',
        order: 'desc',
        page_size: 2,
      });
      expect(page.records).toHaveLength(2);
      expect(page.records.every((r: { status: string }) => r.status === 'expired')).toBe(true);
      const all: string[] = [];
      for (let n = 0; ; n++) {
        const { records } = await ok('get_transactions', {
          statuses: ['expired'],
          page_size: 2,
          page_number: n,
        });
        all.push(...records.map((r: { id: string }) => r.id));
        if (records.length < 2) break;
      }
      expect(all).toEqual(expect.arrayContaining(ids));
      expect(new Set(all).size).toBe(all.length);
      expect((await call('get_transactions', { page_size: 1000 })).error?.code).toBe(-32602);
      expect((await call('get_transactions', { statuses: ['lost'] })).error?.code).toBe(-32602);
    });

    it('list_unmatched_payments: what could not be credited, with the reason', async () => {
      const operationId = String(Math.floor(Math.random() * 1e15));
      await recordUnmatchedPayment(t.db, {
        operationId,
        transactionHash: HASH,
        account: 'GDISTRIBUTION',
        fromAccount: 'GSENDER',
        amount: '12.5',
        assetCode: 'USDC',
        assetIssuer: ISSUER,
        memoType: 'text',
        memo: 'nobody',
        reason: 'unknown_memo',
        transactionId: null,
        payload: {},
      });
      const { records } = await ok('list_unmatched_payments', { unrefunded_only: true, page_size: 100 });
      expect(records.find((r: { operation_id: string }) => r.operation_id === operationId)).toMatchObject({
        amount: '12.5',
        reason: 'unknown_memo',
        memo: 'nobody',
        stellar_transaction_id: HASH,
        refunded_at: null,
      });
    });
  });

  describe('the machine decides', () => {
    it('an event the state does not take is -32001 with the events it takes and their methods', async () => {
      const id = await waiting();
      const refused = await call('notify_offchain_funds_sent', {
        transaction_id: id,
        idempotency_key: 'k-1',
      });
      expect(refused.error).toMatchObject({
        code: -32001,
        message: 'PAYOUT_COMPLETED is not accepted in status pending_sender',
        data: { status: 'pending_sender', state: 'pending_sender' },
      });
      expect(refused.error?.data?.accepts).toEqual([
        { event: 'PAYMENT_RECEIVED', methods: ['notify_onchain_funds_received'] },
        { event: 'EXPIRE', methods: [] },
        { event: 'ERROR', methods: ['notify_transaction_error'] },
        { event: 'EXPIRE_NOW', methods: ['notify_transaction_expired'] },
      ]);
      // Retried with the same key: refused again, saying the same.
      expect(
        (await call('notify_offchain_funds_sent', { transaction_id: id, idempotency_key: 'k-1' })).error,
      ).toEqual(refused.error);
      expect((await listEvents(t.db, id)).map((e) => e.event_type)).not.toContain('PAYOUT_COMPLETED');
    });

    it('a guard that says no is -32001 too (recovery without funds)', async () => {
      const id = await waiting();
      await ok('notify_transaction_error', { transaction_id: id });
      const refused = await call('notify_transaction_recovery', { transaction_id: id });
      expect(refused.error).toMatchObject({ code: -32001, data: { status: 'error', state: 'error' } });
      expect(refused.error?.message).toMatch(/conditions are not met/);
    });

    it('an unknown transaction is -32002', async () => {
      expect(await call('notify_transaction_error', { transaction_id: randomUUID() })).toMatchObject({
        error: { code: -32002 },
      });
    });

    it('records who acted in the event log (X-Operator, default "operator"); a repeated key applies once', async () => {
      const id = await waiting();
      await ok(
        'notify_transaction_error',
        { transaction_id: id, idempotency_key: 'once' },
        { 'x-operator': 'alice' },
      );
      const again = await ok(
        'notify_transaction_error',
        { transaction_id: id, idempotency_key: 'once', message: 'other' },
        { 'x-operator': 'alice' },
      );
      expect(again.status).toBe('error');
      await ok('notify_transaction_expired', { transaction_id: id });
      const log = await listEvents(t.db, id);
      expect(log.map((e) => [e.event_type, e.operator])).toEqual([
        ['CREATED', null],
        ['ACCOUNT_ASSIGNED', null],
        ['ERROR', 'alice'],
        ['EXPIRE_NOW', 'operator'],
      ]);
      expect(log[2]!.event_id).toBe('operator:notify_transaction_error:once');
    });
  });
});

describe('operator API without OPERATOR_TOKEN', () => {
  it('is off: 404 saying how to turn it on', async () => {
    const t = await buildTestApp();
    try {
      const response = await t.app.inject({
        method: 'POST',
        url: '/operator/rpc',
        payload: '{}',
        headers: { 'content-type': 'application/json' },
      });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({ error: OPERATOR_OFF });
    } finally {
      await t.close();
    }
  });
});
