import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toJson } from '../../../src/db/columns.ts';
import type { NewTransactionEventRow } from '../../../src/db/transaction-events.table.ts';
import { testDatabases, type OpenTestDatabase } from '../../helpers/database.ts';
import { expectUniqueViolation, transactionRow } from './fixtures.ts';

/** Decimal strings as exact (integer, scale) pairs, so '1.5' equals '1.5000000'. */
function decimal(value: string): string {
  const [whole = '0', fraction = ''] = value.split('.');
  return `${BigInt(whole)}.${fraction.replace(/0+$/, '')}`;
}

describe.each(testDatabases())('constraints on $name', (database) => {
  let t: OpenTestDatabase;
  beforeEach(async () => {
    t = await database.open();
  });
  afterEach(async () => {
    await t.close();
  });

  it('round-trips amounts exactly, as strings', async () => {
    const amounts = ['0.0000001', '922337203685.4775807', '1.5', '0'];
    for (const [i, amount] of amounts.entries()) {
      await t.db
        .insertInto('transactions')
        .values(transactionRow(`tx-${i}`, { amount_in: amount, amount_out: amount, amount_fee: amount }))
        .execute();
    }
    const rows = await t.db
      .selectFrom('transactions')
      .select(['id', 'amount_in', 'amount_out'])
      .orderBy('id')
      .execute();
    for (const [i, amount] of amounts.entries()) {
      expect(typeof rows[i]?.amount_in).toBe('string');
      expect(decimal(rows[i]?.amount_in ?? '')).toBe(decimal(amount));
      expect(decimal(rows[i]?.amount_out ?? '')).toBe(decimal(amount));
    }
    // Sums are exact too; through a float the last digits would be lost.
    const { total } = await t.db
      .selectFrom('transactions')
      .select(sql<string>`sum(amount_in)`.as('total'))
      .executeTakeFirstOrThrow();
    expect(decimal(total)).toBe(decimal('922337203686.9775808'));
  });

  it('rejects a negative amount', async () => {
    await expect(
      t.db
        .insertInto('transactions')
        .values(transactionRow('tx-neg', { amount_in: '-0.0000001' }))
        .execute(),
    ).rejects.toMatchObject({ code: '23514' });
  });

  it('rejects a second transaction expecting the same (account, memo type, memo)', async () => {
    const memo = { stellar_account_id: 'GRECEIVE', stellar_memo_type: 'id' as const, stellar_memo: '42' };
    await t.db.insertInto('transactions').values(transactionRow('tx-1', memo)).execute();
    await t.db
      .insertInto('transactions')
      .values(transactionRow('tx-2', { ...memo, stellar_memo_type: 'text' }))
      .execute();
    await t.db
      .insertInto('transactions')
      .values(transactionRow('tx-3', { ...memo, stellar_account_id: 'GOTHER' }))
      .execute();
    await expectUniqueViolation(
      t.db.insertInto('transactions').values(transactionRow('tx-4', memo)).execute(),
      'transactions_stellar_memo_key',
    );
    // Assigning the memo later (the usual path) is guarded just the same.
    await t.db.insertInto('transactions').values(transactionRow('tx-5')).execute();
    await expectUniqueViolation(
      t.db.updateTable('transactions').set(memo).where('id', '=', 'tx-5').execute(),
      'transactions_stellar_memo_key',
    );
  });

  it('credits a Stellar operation to at most one transaction', async () => {
    // Uncredited transactions (NULL operation id) do not collide with each other.
    await t.db
      .insertInto('transactions')
      .values([transactionRow('tx-1'), transactionRow('tx-2')])
      .execute();
    await t.db
      .updateTable('transactions')
      .set({ stellar_operation_id: '123456789' })
      .where('id', '=', 'tx-1')
      .execute();
    await expectUniqueViolation(
      t.db
        .updateTable('transactions')
        .set({ stellar_operation_id: '123456789' })
        .where('id', '=', 'tx-2')
        .execute(),
      'transactions_stellar_operation_id_key',
    );
  });

  describe('transaction_events', () => {
    const event = (seq: number, eventId: string): NewTransactionEventRow => ({
      transaction_id: 'tx-1',
      seq,
      event_id: eventId,
      event_type: 'PAYMENT_RECEIVED',
      payload: toJson({ type: 'PAYMENT_RECEIVED' }),
      status_before: 'pending_sender',
      status_after: 'pending_receiver',
    });

    beforeEach(async () => {
      await t.db.insertInto('transactions').values(transactionRow('tx-1')).execute();
      await t.db.insertInto('transaction_events').values(event(1, 'evt-a')).execute();
    });

    it('rejects the same event id twice', async () => {
      await expectUniqueViolation(
        t.db.insertInto('transaction_events').values(event(2, 'evt-a')).execute(),
        'transaction_events_event_id_key',
      );
    });

    it('rejects the same seq twice', async () => {
      await expectUniqueViolation(
        t.db.insertInto('transaction_events').values(event(1, 'evt-b')).execute(),
        'transaction_events_seq_key',
      );
      await t.db.insertInto('transaction_events').values(event(2, 'evt-b')).execute();
    });

    it('rejects an event for an unknown transaction', async () => {
      await expect(
        t.db
          .insertInto('transaction_events')
          .values({ ...event(1, 'evt-a'), transaction_id: 'nope' })
          .execute(),
      ).rejects.toMatchObject({ code: '23503' });
    });

    it('returns the bigserial id as a string and jsonb as a value', async () => {
      const row = await t.db.selectFrom('transaction_events').selectAll().executeTakeFirstOrThrow();
      expect(row.id).toBe('1');
      expect(row.payload).toEqual({ type: 'PAYMENT_RECEIVED' });
      expect(row.created_at).toBeInstanceOf(Date);
    });
  });

  it('allows one customer per (account, memo), a missing memo included', async () => {
    const customer = (id: string, memo: string | null) => ({
      id,
      account: 'GACCOUNT',
      memo,
      status: 'NEEDS_INFO',
    });
    await t.db
      .insertInto('customers')
      .values([customer('c-1', null), customer('c-2', '7')])
      .execute();
    await expectUniqueViolation(
      t.db.insertInto('customers').values(customer('c-3', null)).execute(),
      'customers_account_memo_key',
    );
    await expectUniqueViolation(
      t.db.insertInto('customers').values(customer('c-4', '7')).execute(),
      'customers_account_memo_key',
    );
    const row = await t.db
      .selectFrom('customers')
      .selectAll()
      .where('id', '=', 'c-1')
      .executeTakeFirstOrThrow();
    expect(row.fields).toEqual({});
  });
});
