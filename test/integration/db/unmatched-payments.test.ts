import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  findUnmatchedPayment,
  listUnmatchedPayments,
  markUnmatchedPaymentRefunded,
  recordUnmatchedPayment,
  type UnmatchedPayment,
} from '../../../src/db/unmatched-payments.repository.ts';
import { testDatabases, type OpenTestDatabase } from '../../helpers/database.ts';

const payment = (operationId: string, overrides: Partial<UnmatchedPayment> = {}): UnmatchedPayment => ({
  operationId,
  transactionHash: `hash-${operationId}`,
  account: 'GRECEIVE',
  fromAccount: 'GSENDER',
  amount: '0.0000001',
  assetCode: 'USDC',
  assetIssuer: 'GISSUER',
  memoType: 'text',
  memo: 'unknown',
  reason: 'no_matching_memo',
  transactionId: null,
  payload: { id: operationId, type: 'payment', path: [] },
  ...overrides,
});

describe.each(testDatabases())('unmatched payments on $name', (database) => {
  let t: OpenTestDatabase;
  beforeEach(async () => {
    t = await database.open();
  });
  afterEach(async () => {
    await t.close();
  });

  it('records a payment once, however often Horizon delivers it', async () => {
    expect(await recordUnmatchedPayment(t.db, payment('op-1'))).toBe(true);
    expect(await recordUnmatchedPayment(t.db, payment('op-1', { reason: 'wrong_asset', amount: '5' }))).toBe(
      false,
    );
    expect(await recordUnmatchedPayment(t.db, payment('op-2', { memoType: 'none', memo: null }))).toBe(true);

    const rows = await listUnmatchedPayments(t.db);
    expect(rows.map((r) => r.operation_id)).toEqual(['op-1', 'op-2']);
    // The first record stands; the replay changed nothing.
    expect(rows[0]).toMatchObject({ reason: 'no_matching_memo', amount: '0.0000001', refunded_at: null });
    expect(rows[0]?.payload).toEqual({ id: 'op-1', type: 'payment', path: [] });
  });

  it('records a refund once', async () => {
    await recordUnmatchedPayment(t.db, payment('op-1'));
    await recordUnmatchedPayment(t.db, payment('op-2'));
    const at = new Date('2026-11-24T13:00:00Z');
    expect(await markUnmatchedPaymentRefunded(t.db, 'op-1', 'refund-hash', at)).toBe(true);
    expect(await markUnmatchedPaymentRefunded(t.db, 'op-1', 'other-hash')).toBe(false);
    expect(await markUnmatchedPaymentRefunded(t.db, 'op-unknown', 'x')).toBe(false);
    expect(await findUnmatchedPayment(t.db, 'op-1')).toMatchObject({
      refunded_at: at,
      refund_transaction_hash: 'refund-hash',
    });
    const queue = await listUnmatchedPayments(t.db, { unrefundedOnly: true });
    expect(queue.map((r) => r.operation_id)).toEqual(['op-2']);
  });
});
