// SEP-12 with SEP-31 transactions: linking customers, and the pending_customer_info_update round trip
// (SEPS.md §5.5): the rails ask for customer info again, GET /customer says what to resend, PUT fixes it,
// the transaction goes back to pending_receiver.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flagCustomerFields } from '../../../src/db/customers.repository.ts';
import { findTransaction, listEvents } from '../../../src/db/transactions.repository.ts';
import { accountAssigned, payment, transactionInput } from '../../fixtures/transactions.ts';
import { buildTestApp, eventually, KEYS, testConfigFile, tokenFor, type TestApp } from '../../helpers/app.ts';

const acme = () => KEYS.acme.publicKey();
const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const memo = () => String(Math.floor(Math.random() * 1e12));
const AT = '2026-11-24T10:10:00.000Z';

const NAMES = { first_name: 'Ada', last_name: 'Lovelace' };
const BANK = { bank_account_number: '12345678', bank_number: '021000021' };

describe('SEP-12 and SEP-31 transactions', () => {
  let t: TestApp;
  let token: string;
  let rivalToken: string;

  beforeAll(async () => {
    // http://localhost callback URLs are allowed only with callbacks.allowLoopback.
    const file = testConfigFile({ callbacks: { allowLoopback: true } });
    t = await buildTestApp({ file });
    expect(t.config.callbacks.allowLoopback).toBe(true);
    token = await tokenFor(t.config, acme());
    rivalToken = await tokenFor(t.config, KEYS.rival.publicKey());
  });
  afterAll(async () => {
    await t.close();
  });

  const get = (query: Record<string, string>, bearer = token) =>
    t.app.inject({ method: 'GET', url: '/sep12/customer', query, headers: auth(bearer) });
  const put = (payload: Record<string, unknown>, bearer = token) =>
    t.app.inject({ method: 'PUT', url: '/sep12/customer', payload, headers: auth(bearer) });

  async function register(fields: Record<string, string>) {
    const response = await put(fields);
    expect(response.statusCode, response.body).toBe(202);
    return response.json().id as string;
  }

  /** A paid transaction of acme, in pending_receiver (ready for payout). */
  async function paidTransaction(options: { senderId?: string | null; receiverId?: string | null } = {}) {
    const input = transactionInput({
      sendingAnchor: acme(),
      senderId: options.senderId ?? null,
      receiverId: options.receiverId ?? null,
    });
    await t.host.create(input, { eventId: `create:${input.id}`, then: [accountAssigned()] });
    await t.host.apply({
      eventId: `pay:${input.id}`,
      transactionId: input.id,
      event: { type: 'PAYMENT_RECEIVED', at: AT, payment: payment() },
    });
    return input.id;
  }

  async function askForCustomerInfo(transactionId: string, customerType?: string) {
    await t.host.apply({
      eventId: `info:${transactionId}:${randomUUID()}`,
      transactionId,
      event: {
        type: 'CUSTOMER_INFO_NEEDED',
        at: AT,
        message: 'the receiving bank refused the payout',
        ...(customerType !== undefined && { customerType }),
      },
    });
    expect((await findTransaction(t.db, transactionId))?.status).toBe('pending_customer_info_update');
  }

  const statusOf = async (transactionId: string) => (await findTransaction(t.db, transactionId))?.status;
  /** The customer tells its transactions after its commit: they move a moment after the PUT answered. */
  const reaches = (transactionId: string, status: string) =>
    eventually(
      `transaction ${transactionId} in ${status}`,
      async () => (await statusOf(transactionId)) === status,
    );

  const outbox = (customerId: string) =>
    t.db
      .selectFrom('outbox')
      .selectAll()
      .where('kind', '=', 'customer_status_changed')
      .where(sql<string>`payload->>'customerId'`, '=', customerId)
      .orderBy('id')
      .execute();

  it('round trip: flagged field -> GET NEEDS_INFO -> PUT fixes -> transaction back in pending_receiver', async () => {
    const receiverId = await register({ memo: memo(), type: 'sep31-receiver', ...NAMES, ...BANK });
    const senderId = await register({ memo: memo(), type: 'sep31-sender', ...NAMES });
    const callback = await t.app.inject({
      method: 'PUT',
      url: '/sep12/customer/callback',
      payload: { id: receiverId, url: 'http://localhost:9999/kyc' },
      headers: auth(token),
    });
    expect(callback.statusCode, callback.body).toBe(200);

    const transactionId = await paidTransaction({ senderId, receiverId });
    await flagCustomerFields(t.db, {
      transactionId,
      type: 'sep31-receiver',
      fields: ['bank_account_number'],
      message: 'the bank reports no such account',
    });
    await askForCustomerInfo(transactionId, 'sep31-receiver');

    // The receiver is asked for exactly the flagged field; everything received is listed.
    const asked = await get({ transaction_id: transactionId, type: 'sep31-receiver' });
    expect(asked.statusCode, asked.body).toBe(200);
    expect(asked.json()).toEqual({
      id: receiverId,
      status: 'NEEDS_INFO',
      fields: { bank_account_number: { type: 'string', description: 'Number identifying bank account' } },
      provided_fields: {
        bank_account_number: {
          type: 'string',
          description: 'Number identifying bank account',
          status: 'REJECTED',
          error: 'the bank reports no such account',
        },
        bank_number: {
          type: 'string',
          description: 'Number identifying bank in national banking system (routing number in US)',
          status: 'ACCEPTED',
        },
        first_name: { type: 'string', description: 'Given or first name', status: 'ACCEPTED' },
        last_name: { type: 'string', description: 'Family or last name', status: 'ACCEPTED' },
      },
      message: 'the bank reports no such account',
    });
    // Asking again changes nothing; the sender was not asked.
    expect((await get({ transaction_id: transactionId, type: 'sep31-receiver' })).json()).toEqual(
      asked.json(),
    );
    expect((await get({ transaction_id: transactionId, type: 'sep31-sender' })).json().status).toBe(
      'ACCEPTED',
    );
    expect((await findTransaction(t.db, transactionId))?.status).toBe('pending_customer_info_update');

    // The regression to NEEDS_INFO is a status change: a callback effect with the GET body, written once
    // the customer actor applied the round the transaction sent it.
    await eventually(
      'the round applied to the receiver',
      async () => (await outbox(receiverId)).length === 1,
    );
    const [regressed] = await outbox(receiverId);
    expect(regressed?.payload).toMatchObject({
      kind: 'customer_status_changed',
      customerId: receiverId,
      type: 'sep31-receiver',
      status: 'NEEDS_INFO',
      previousStatus: 'ACCEPTED',
      url: 'http://localhost:9999/kyc',
      body: asked.json(),
    });

    const fixed = await put({
      transaction_id: transactionId,
      type: 'sep31-receiver',
      id: receiverId,
      bank_account_number: '87654321',
    });
    expect(fixed.statusCode, fixed.body).toBe(202);
    expect(fixed.json()).toEqual({ id: receiverId });

    // Both customers are ACCEPTED again: the transaction resumes and, funded, requests its payout at once.
    await eventually('the payout requested', async () => {
      const row = await findTransaction(t.db, transactionId);
      return JSON.stringify(row?.state_value) === JSON.stringify({ pending_receiver: 'paying_out' });
    });
    const events = await listEvents(t.db, transactionId);
    const updated = events.filter((e) => e.event_type === 'CUSTOMER_INFO_UPDATED');
    const needed = events.filter((e) => e.event_type === 'CUSTOMER_INFO_NEEDED');
    expect(updated).toHaveLength(1);
    expect(updated[0]!.event_id).toBe(`customer-info-updated:${transactionId}:${needed[0]!.seq}`);
    expect(events.at(-1)?.event_type).toBe('PAYOUT_REQUESTED');

    const after = (await get({ transaction_id: transactionId, type: 'sep31-receiver' })).json();
    expect(after.status).toBe('ACCEPTED');
    expect(after.provided_fields.bank_account_number.status).toBe('ACCEPTED');
    expect((await outbox(receiverId)).map((row) => (row.payload as { status: string }).status)).toEqual([
      'NEEDS_INFO',
      'ACCEPTED',
    ]);

    // A second identical PUT does nothing more.
    await put({
      transaction_id: transactionId,
      type: 'sep31-receiver',
      id: receiverId,
      bank_account_number: '87654321',
    });
    expect((await listEvents(t.db, transactionId)).length).toBe(events.length);
  });

  it('without flagged fields or a customer type, every field of the linked customer is asked for again', async () => {
    const m = memo();
    const transactionId = await paidTransaction();
    await askForCustomerInfo(transactionId);

    // No customer is linked yet: the caller's customer under the memo, unknown so far.
    const before = await get({ transaction_id: transactionId, type: 'sep31-receiver', memo: m });
    expect(before.json()).toMatchObject({ status: 'NEEDS_INFO' });
    expect(before.json().id).toBeUndefined();

    // Linking with the complete data answers the request at once.
    const response = await put({
      transaction_id: transactionId,
      type: 'sep31-receiver',
      memo: m,
      ...NAMES,
      ...BANK,
    });
    expect(response.statusCode, response.body).toBe(202);
    const id = response.json().id;
    await reaches(transactionId, 'pending_receiver');
    // The GET with the transaction finds the linked customer without id or memo.
    const view = await get({ transaction_id: transactionId, type: 'sep31-receiver' });
    expect(view.json()).toMatchObject({ id, status: 'ACCEPTED' });
  });

  it('an existing customer resending the same values after a round is accepted again', async () => {
    const receiverId = await register({ memo: memo(), type: 'sep31-receiver', ...NAMES, ...BANK });
    const transactionId = await paidTransaction({ receiverId });
    await askForCustomerInfo(transactionId, 'sep31-receiver');
    const asked = (await get({ transaction_id: transactionId, type: 'sep31-receiver' })).json();
    expect(asked.status).toBe('NEEDS_INFO');
    expect(Object.keys(asked.fields).sort()).toEqual([
      'bank_account_number',
      'bank_number',
      'first_name',
      'last_name',
    ]);
    // Only part of it: still waiting.
    await put({ id: receiverId, ...NAMES });
    expect((await findTransaction(t.db, transactionId))?.status).toBe('pending_customer_info_update');
    expect(Object.keys((await get({ id: receiverId, type: 'sep31-receiver' })).json().fields).sort()).toEqual(
      ['bank_account_number', 'bank_number'],
    );
    await put({ id: receiverId, ...BANK });
    await reaches(transactionId, 'pending_receiver');
  });

  it('a PUT arriving before any GET still answers the round', async () => {
    const receiverId = await register({ memo: memo(), type: 'sep31-receiver', ...NAMES, ...BANK });
    const transactionId = await paidTransaction({ receiverId });
    await flagCustomerFields(t.db, { transactionId, type: 'sep31-receiver', fields: ['bank_number'] });
    await askForCustomerInfo(transactionId, 'sep31-receiver');
    await put({ id: receiverId, bank_number: '026009593' });
    await reaches(transactionId, 'pending_receiver');
  });

  it('a bad value sent in answer keeps the transaction waiting', async () => {
    const receiverId = await register({ memo: memo(), type: 'sep31-receiver', ...NAMES, ...BANK });
    const transactionId = await paidTransaction({ receiverId });
    await flagCustomerFields(t.db, { transactionId, type: 'sep31-receiver', fields: ['bank_number'] });
    await askForCustomerInfo(transactionId, 'sep31-receiver');
    await put({ id: receiverId, bank_number: 'not digits' });
    expect((await findTransaction(t.db, transactionId))?.status).toBe('pending_customer_info_update');
    const view = (await get({ id: receiverId, type: 'sep31-receiver' })).json();
    expect(view.provided_fields.bank_number).toMatchObject({
      status: 'REJECTED',
      error: 'bank_number must contain digits only',
    });
  });

  it("another sending anchor can neither link nor read with acme's transaction", async () => {
    const transactionId = await paidTransaction();
    const notFound = { error: `transaction not found for id: ${transactionId}` };
    const linked = await put(
      { transaction_id: transactionId, type: 'sep31-receiver', memo: memo(), ...NAMES },
      rivalToken,
    );
    expect(linked.statusCode).toBe(404);
    expect(linked.json()).toEqual(notFound);
    const read = await get({ transaction_id: transactionId, type: 'sep31-receiver' }, rivalToken);
    expect(read.statusCode).toBe(404);
    expect(read.json()).toEqual(notFound);
    // A memo-bound token of acme does not own a transaction created by the account-wide token either.
    const bound = await tokenFor(t.config, `${acme()}:${memo()}`);
    expect((await get({ transaction_id: transactionId, type: 'sep31-receiver' }, bound)).statusCode).toBe(
      404,
    );
    // Unknown and malformed ids look the same.
    expect((await get({ transaction_id: randomUUID(), type: 'sep31-receiver' })).statusCode).toBe(404);
    expect((await get({ transaction_id: 'nope', type: 'sep31-receiver' })).statusCode).toBe(404);
  });

  describe('PUT /customer/callback', () => {
    it('stores the URL; each status change then gets one outbox effect, in the same transaction', async () => {
      const m = memo();
      const id = await register({ memo: m, first_name: 'Ada' });
      const response = await t.app.inject({
        method: 'PUT',
        url: '/sep12/customer/callback',
        payload: { memo: m, url: 'http://localhost:4000/callbacks/kyc' },
        headers: auth(token),
      });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toEqual({});
      const row = await t.db
        .selectFrom('customers')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(row.callback_url).toBe('http://localhost:4000/callbacks/kyc');
      expect(await outbox(id)).toEqual([]);

      await put({ id, type: 'sep31-sender', last_name: 'Lovelace' });
      const effects = await outbox(id);
      expect(effects).toHaveLength(1);
      expect(effects[0]).toMatchObject({
        transaction_id: null,
        kind: 'customer_status_changed',
        idempotency_key: `sep12:${id}:${row.version + 1}:sep31-sender`,
        state: 'pending',
      });
      expect(effects[0]!.payload).toEqual({
        kind: 'customer_status_changed',
        customerId: id,
        type: 'sep31-sender',
        status: 'ACCEPTED',
        previousStatus: 'NEEDS_INFO',
        version: row.version + 1,
        url: 'http://localhost:4000/callbacks/kyc',
        body: (await get({ id, type: 'sep31-sender' })).json(),
      });
      // The receiver type did not change status (still NEEDS_INFO): no effect for it. Nothing changes: none.
      await put({ id, type: 'sep31-sender', last_name: 'Lovelace' });
      expect(await outbox(id)).toHaveLength(1);
    });

    it('refuses unsafe URLs and unknown customers', async () => {
      const m = memo();
      const id = await register({ memo: m, first_name: 'Ada' });
      for (const url of [
        'http://10.0.0.1/cb',
        'https://169.254.169.254/latest',
        'ftp://example.com/cb',
        'not a url',
      ]) {
        const response = await t.app.inject({
          method: 'PUT',
          url: '/sep12/customer/callback',
          payload: { id, url },
          headers: auth(token),
        });
        expect(response.statusCode, url).toBe(400);
        expect(response.json().error).toMatch(/callback url/);
      }
      const unknown = await t.app.inject({
        method: 'PUT',
        url: '/sep12/customer/callback',
        payload: { memo: memo(), url: 'http://localhost:4000/cb' },
        headers: auth(token),
      });
      expect(unknown.statusCode).toBe(404);
      const missing = await t.app.inject({
        method: 'PUT',
        url: '/sep12/customer/callback',
        payload: { id },
        headers: auth(token),
      });
      expect(missing.statusCode).toBe(400);
    });
  });
});
