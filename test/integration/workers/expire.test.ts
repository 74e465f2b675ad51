import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTransactionHost, type TransactionHost } from '../../../src/actors/transaction-host.ts';
import type { Database } from '../../../src/db/index.ts';
import { findTransaction } from '../../../src/db/transactions.repository.ts';
import { runExpirePass } from '../../../src/workers/index.ts';
import { payment, transactionInput } from '../../fixtures/transactions.ts';
import { testDatabases, type OpenTestDatabase } from '../../helpers/database.ts';
import { awaitingPayment, eventTypes, funded } from './support.ts';

const DEADLINE = '2026-11-24T12:00:00.000Z';
const before = new Date('2026-11-24T11:59:59.999Z');
const at = new Date(DEADLINE);

describe.each(testDatabases())('the expire worker on $name', (database) => {
  let t: OpenTestDatabase;
  let db: Kysely<Database>;
  let host: TransactionHost;

  beforeEach(async () => {
    t = await database.open();
    db = t.db;
    host = createTransactionHost({ db });
  });
  afterEach(() => t.close());

  const expire = (now: Date) => runExpirePass({ db, host, clock: () => now });
  const status = async (id: string) => (await findTransaction(db, id))!.status;

  it('expires only unfunded transactions whose deadline has passed', async () => {
    const waiting = await awaitingPayment(host, { expiresAt: DEADLINE });
    const later = await awaitingPayment(host, { expiresAt: '2026-11-24T12:00:01.000Z' });
    const noDeadline = await awaitingPayment(host, { expiresAt: null });
    // Created, but its account was never assigned (pending_receiver.preparing).
    const preparing = transactionInput({ expiresAt: DEADLINE });
    await host.create(preparing, { eventId: `create-${preparing.id}` });
    // Funded in time: paying it out is what is left, whatever the deadline says.
    const paid = await funded(db, host);
    await db.updateTable('transactions').set({ expires_at: DEADLINE }).where('id', '=', paid.id).execute();
    // Halted by an operator before any funds: the deadline still ends it.
    const halted = await awaitingPayment(host, { expiresAt: DEADLINE });
    await host.apply({
      eventId: 'halt',
      transactionId: halted.id,
      event: { type: 'ERROR', at: '2026-11-24T11:00:00.000Z', message: 'held' },
    });
    // Under-paid: in error WITH funds, which must be refunded, never expired.
    const underpaid = await awaitingPayment(host, { expiresAt: DEADLINE });
    await host.apply({
      eventId: 'pay',
      transactionId: underpaid.id,
      event: { type: 'PAYMENT_RECEIVED', at: '2026-11-24T11:00:00.000Z', payment: payment({ amount: '50' }) },
    });
    expect(await status(underpaid.id)).toBe('error');

    expect(await expire(before)).toEqual({ due: 0, expired: 0, movedOn: 0, errors: 0 });
    expect(await expire(at)).toEqual({ due: 3, expired: 3, movedOn: 0, errors: 0 });

    for (const { id } of [waiting, preparing, halted]) {
      expect(await status(id)).toBe('expired');
      expect((await eventTypes(db, id)).at(-1)).toBe('EXPIRE');
    }
    expect(await status(later.id)).toBe('pending_sender');
    expect(await status(noDeadline.id)).toBe('pending_sender');
    expect(await status(paid.id)).toBe('pending_receiver');
    expect(await status(underpaid.id)).toBe('error');

    // Done once: the next pass finds nothing.
    expect(await expire(new Date('2026-11-24T13:00:00.000Z'))).toMatchObject({ due: 1, expired: 1 });
    expect(await status(later.id)).toBe('expired');
    expect(await expire(new Date('2026-11-24T14:00:00.000Z'))).toMatchObject({ due: 0 });
  });

  it('a payment that lands first wins: the actor refuses EXPIRE, counted as moved on', async () => {
    const input = await awaitingPayment(host, { expiresAt: DEADLINE });
    // The payment is credited while the pass is between reading the candidates and applying EXPIRE.
    const racing: TransactionHost = {
      ...host,
      async apply(envelope, options) {
        await host.apply({
          eventId: 'pay',
          transactionId: input.id,
          event: { type: 'PAYMENT_RECEIVED', at: '2026-11-24T11:59:59.000Z', payment: payment() },
        });
        return host.apply(envelope, options);
      },
    };
    const counts = await runExpirePass({ db, host: racing, clock: () => at });
    expect(counts).toEqual({ due: 1, expired: 0, movedOn: 1, errors: 0 });
    expect(await findTransaction(db, input.id)).toMatchObject({
      status: 'pending_receiver',
      state_value: { pending_receiver: 'ready' },
    });
  });

  it('pages through more due transactions than one batch', async () => {
    const inputs = [];
    for (let i = 0; i < 5; i++) inputs.push(await awaitingPayment(host, { expiresAt: DEADLINE }));
    expect(await runExpirePass({ db, host, clock: () => at, batchSize: 2 })).toMatchObject({
      due: 5,
      expired: 5,
    });
    for (const { id } of inputs) expect(await status(id)).toBe('expired');
  });
});
