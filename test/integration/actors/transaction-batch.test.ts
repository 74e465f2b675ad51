/**
 * One group commit of transaction messages (`applyTransactionBatch`): what it decides for each message of
 * a batch, and what it does by itself once a transaction waits on its customers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import {
  persistCustomer,
  restore,
  startCustomer,
  stepCustomerAll,
  type TransactionEvent,
} from '../../../machines/index.ts';
import {
  createMessageId,
  transactionAddress,
  type TransactionMessageBody,
  type TransactionReply,
} from '../../../src/actors/messages.ts';
import { applyTransactionBatch, type CachedTransaction } from '../../../src/actors/transaction-batch.ts';
import { createTransactionHost, type TransactionHost } from '../../../src/actors/transaction-host.ts';
import type { Config } from '../../../src/config/index.ts';
import { toJson, type Database } from '../../../src/db/index.ts';
import { findTransaction, listEvents } from '../../../src/db/transactions.repository.ts';
import { testDatabases } from '../../helpers/database.ts';
import { SENDING_ANCHOR, accountAssigned, payment, transactionInput } from '../../fixtures/transactions.ts';

const AT = '2026-11-24T10:10:00.000Z';
const SEP12: Pick<Config['sep12'], 'types'> = {
  types: {
    'sep31-sender': { description: 'sender', fields: ['first_name'] },
    'sep31-receiver': { description: 'receiver', fields: ['first_name', 'bank_account_number'] },
  },
};
const TYPES = ['sep31-sender', 'sep31-receiver'];

describe.each(testDatabases())('transaction batch on $name', (database) => {
  let db: Kysely<Database>;
  let close: () => Promise<void>;
  let host: TransactionHost;

  beforeAll(async () => {
    ({ db, close } = await database.open());
    host = createTransactionHost({ db });
  });
  afterAll(() => close());

  type Item = { id: string; messageId: string; body: TransactionMessageBody };
  const event = (id: string, messageId: string, e: TransactionEvent): Item => ({
    id,
    messageId,
    body: { type: 'event', event: e },
  });

  async function batch(
    items: Item[],
    options: { payoutTypes?: readonly string[] | null; cached?: Map<string, CachedTransaction> } = {},
  ): Promise<TransactionReply[]> {
    const result = await db.transaction().execute((trx) =>
      applyTransactionBatch(
        trx,
        items.map((item) => ({
          messageId: item.messageId,
          transactionId: item.id,
          body: item.body,
          replyTo: null,
        })),
        {
          payoutCustomerTypes: options.payoutTypes === undefined ? null : options.payoutTypes,
          sep12: SEP12,
          clock: () => new Date(AT),
          ...(options.cached && { cached: (id: string) => options.cached!.get(id) }),
        },
      ),
    );
    return result.answers;
  }

  async function created(overrides: Parameters<typeof transactionInput>[0] = {}) {
    const input = transactionInput(overrides);
    await host.create(input, { eventId: createMessageId(input.id), then: [accountAssigned()] });
    return input.id;
  }

  /** A customer of the sending anchor, ACCEPTED (or only registered) for every configured type. */
  async function customer(id: string, accepted: boolean) {
    const statuses = Object.fromEntries(
      TYPES.map((type) => {
        const required = SEP12.types[type]!.fields as string[];
        let snapshot = startCustomer({ type, required, at: AT });
        snapshot = stepCustomerAll(snapshot, [
          { type: 'FIELDS_PROVIDED', at: AT, fields: required },
          ...(accepted ? [{ type: 'FIELDS_VERIFIED' as const, at: AT, fields: required }] : []),
        ]);
        return [type, persistCustomer(snapshot)];
      }),
    );
    const fields = Object.fromEntries(
      ['first_name', 'bank_account_number'].map((name) => [name, { kind: 'text', value: 'x' }]),
    );
    await db
      .insertInto('customers')
      .values({
        id,
        account: SENDING_ANCHOR,
        memo: id, // one customer per (account, memo)
        type: null,
        status: accepted ? 'ACCEPTED' : 'PROCESSING',
        fields: toJson(fields),
        statuses: toJson(statuses),
      })
      .onConflict((oc) =>
        oc
          .column('id')
          .doUpdateSet({ statuses: toJson(statuses), status: accepted ? 'ACCEPTED' : 'PROCESSING' }),
      )
      .execute();
  }

  it('answers every message in order; a refusal is recorded and holds back nothing', async () => {
    const [a, b] = [await created(), await created()];
    const answers = await batch([
      event(a, 'pay-a', { type: 'PAYMENT_RECEIVED', at: AT, payment: payment() }),
      event(b, 'complete-b', { type: 'PAYOUT_COMPLETED', at: AT }), // b is pending_sender: refused
      event(b, 'pay-b', { type: 'PAYMENT_RECEIVED', at: AT, payment: payment() }),
      event(a, 'pay-a', { type: 'PAYMENT_RECEIVED', at: AT, payment: payment() }), // the same message again
    ]);
    expect(answers).toMatchObject([
      { outcome: 'applied', status: 'pending_receiver', version: 3 },
      { outcome: 'refused', code: 'rejected', status: 'pending_sender' },
      { outcome: 'applied', status: 'pending_receiver', version: 3 },
      { outcome: 'duplicate', status: 'pending_receiver', version: 3 },
    ]);
    expect((await listEvents(db, a)).map((e) => e.event_id)).toEqual([
      createMessageId(a),
      `${createMessageId(a)}:1`,
      'pay-a',
    ]);
    const refused = await db
      .selectFrom('refused_messages')
      .selectAll()
      .where('actor', '=', transactionAddress(b))
      .execute();
    expect(refused).toMatchObject([
      { message_id: 'complete-b', code: 'rejected', kind: 'event:PAYOUT_COMPLETED' },
    ]);
    // A refusal is a decision: the same message later is answered the same way without a second look.
    expect(await batch([event(b, 'complete-b', { type: 'PAYOUT_COMPLETED', at: AT })])).toMatchObject([
      { outcome: 'refused', code: 'rejected' },
    ]);
  });

  it('refuses a create whose memo another transaction has, or that arrived after its deadline', async () => {
    const existing = await created();
    const memo = (await findTransaction(db, existing))!.stellar_memo!;
    const taken = transactionInput();
    const late = transactionInput();
    const answers = await batch([
      {
        id: taken.id,
        messageId: createMessageId(taken.id),
        body: { type: 'create', input: taken, then: [accountAssigned(memo)], notAfter: null },
      },
      {
        id: late.id,
        messageId: createMessageId(late.id),
        body: {
          type: 'create',
          input: late,
          then: [accountAssigned()],
          notAfter: '2026-11-24T10:09:59.000Z',
        },
      },
    ]);
    expect(answers).toMatchObject([
      { outcome: 'refused', code: 'memo_taken' },
      { outcome: 'refused', code: 'late' },
    ]);
    expect(await findTransaction(db, taken.id)).toBeUndefined();
    expect(await findTransaction(db, late.id)).toBeUndefined();
    // A refused create leaves nothing behind: its retry with another memo is heard.
    const retry = await batch([
      {
        id: taken.id,
        messageId: createMessageId(taken.id),
        body: { type: 'create', input: taken, then: [accountAssigned()], notAfter: null },
      },
    ]);
    expect(retry).toMatchObject([{ outcome: 'applied', status: 'pending_sender' }]);
  });

  it("registers a callback for the transaction's own sending anchor only, without a new version", async () => {
    const id = await created();
    const answers = await batch([
      {
        id,
        messageId: 'cb-1',
        body: { type: 'register_callback', sendingAnchor: 'GSOMEONE_ELSE', url: 'https://x/cb' },
      },
      {
        id,
        messageId: 'cb-2',
        body: { type: 'register_callback', sendingAnchor: SENDING_ANCHOR, url: 'https://a/cb' },
      },
    ]);
    expect(answers).toMatchObject([
      { outcome: 'refused', code: 'not_found' },
      { outcome: 'applied', version: 2 },
    ]);
    expect(await findTransaction(db, id)).toMatchObject({ callback_url: 'https://a/cb', version: 2 });
  });

  it('requests the payout of a funded transaction at once when its customers are ACCEPTED', async () => {
    await customer('sender-ok', true);
    await customer('receiver-ok', true);
    await customer('receiver-waiting', false);
    const ready = await created({ senderId: 'sender-ok', receiverId: 'receiver-ok' });
    const waiting = await created({ senderId: 'sender-ok', receiverId: 'receiver-waiting' });
    await batch(
      [
        event(ready, `pay-${ready}`, { type: 'PAYMENT_RECEIVED', at: AT, payment: payment() }),
        event(waiting, `pay-${waiting}`, { type: 'PAYMENT_RECEIVED', at: AT, payment: payment() }),
      ],
      { payoutTypes: TYPES },
    );
    expect(await findTransaction(db, ready)).toMatchObject({
      state_value: { pending_receiver: 'paying_out' },
    });
    expect((await listEvents(db, ready)).at(-1)).toMatchObject({ event_id: `payout-request:${ready}:1` });
    const payouts = await db
      .selectFrom('outbox')
      .select('idempotency_key')
      .where('transaction_id', '=', ready)
      .where('kind', '=', 'execute_payout')
      .execute();
    expect(payouts).toEqual([{ idempotency_key: `${ready}:payout:1` }]);
    expect(await findTransaction(db, waiting)).toMatchObject({ state_value: { pending_receiver: 'ready' } });

    // The customer is ACCEPTED later: its notice moves the waiting transaction on.
    await customer('receiver-waiting', true);
    const answers = await batch(
      [{ id: waiting, messageId: 'notice-1', body: { type: 'customers_changed', at: AT } }],
      { payoutTypes: TYPES },
    );
    expect(answers).toMatchObject([{ outcome: 'applied' }]);
    expect(await findTransaction(db, waiting)).toMatchObject({
      state_value: { pending_receiver: 'paying_out' },
    });
  });

  it('resumes a transaction waiting for customer info once the round is answered, then pays out', async () => {
    await customer('fixed-receiver', false);
    const id = await created({ receiverId: 'fixed-receiver' });
    await host.apply({
      eventId: 'pay',
      transactionId: id,
      event: { type: 'PAYMENT_RECEIVED', at: AT, payment: payment() },
    });
    await host.apply({
      eventId: 'info',
      transactionId: id,
      event: { type: 'CUSTOMER_INFO_NEEDED', at: AT, message: 'bad account', customerType: 'sep31-receiver' },
    });
    const round = (await listEvents(db, id)).at(-1)!.seq;
    const notice = () =>
      batch([{ id, messageId: `notice-${Math.random()}`, body: { type: 'customers_changed', at: AT } }], {
        payoutTypes: ['sep31-receiver'],
      });

    // Not answered yet: the round was not applied to the customer.
    await notice();
    expect(await findTransaction(db, id)).toMatchObject({ status: 'pending_customer_info_update' });

    // The customer's actor applied the round and the customer is ACCEPTED again.
    await customer('fixed-receiver', true);
    await db
      .insertInto('customer_transactions')
      .values({
        transaction_id: id,
        type: 'sep31-receiver',
        customer_id: 'fixed-receiver',
        applied_seq: round,
      })
      .execute();
    await notice();
    const events = (await listEvents(db, id)).map((e) => e.event_id);
    expect(events.slice(-2)).toEqual([`customer-info-updated:${id}:${round}`, `payout-request:${id}:1`]);
    expect(await findTransaction(db, id)).toMatchObject({ state_value: { pending_receiver: 'paying_out' } });
  });

  it('uses a cached actor only at the version the database has (a write around the host is seen)', async () => {
    const id = await created();
    const row = (await findTransaction(db, id))!;
    const stale: CachedTransaction = {
      version: row.version,
      status: row.status,
      snapshot: restore(row.snapshot as never),
      callbackUrl: null,
    };
    // Written around the host: the cached copy is now one version behind.
    await host.apply({
      eventId: 'around',
      transactionId: id,
      event: { type: 'PAYMENT_RECEIVED', at: AT, payment: payment() },
    });
    const answers = await batch([event(id, 'hold', { type: 'ERROR', at: AT, message: 'hold' })], {
      cached: new Map([[id, stale]]),
    });
    expect(answers).toMatchObject([{ outcome: 'applied', status: 'error', version: 4 }]);
    expect((await listEvents(db, id)).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });
});
