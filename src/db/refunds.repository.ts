import { sql } from 'kysely';
import type { Executor } from './database.ts';
import type { RefundRow } from './refunds.table.ts';

/** What a refund is: who sends what to whom, with which memo. */
export interface RefundOrder {
  refundKey: string;
  transactionId: string | null;
  unmatchedOperationId: string | null;
  sourceAccount: string;
  destination: string;
  /** `native` for XLM. */
  assetCode: string;
  assetIssuer: string | null;
  amount: string;
  fee: string;
  memoType: string | null;
  memo: string | null;
  requestedBy: string | null;
}

/** Stores a refund once (a repeat of its key, or of its unmatched payment, keeps the first); returns the row. */
export async function ensureRefund(db: Executor, order: RefundOrder, now: Date): Promise<RefundRow> {
  await db
    .insertInto('refunds')
    .values({
      refund_key: order.refundKey,
      transaction_id: order.transactionId,
      unmatched_operation_id: order.unmatchedOperationId,
      source_account: order.sourceAccount,
      destination: order.destination,
      asset_code: order.assetCode,
      asset_issuer: order.assetIssuer,
      amount: order.amount,
      fee: order.fee,
      memo_type: order.memoType,
      memo: order.memo,
      state: 'pending',
      requested_by: order.requestedBy,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) => oc.doNothing())
    .execute();
  const row = await findRefund(db, order.refundKey);
  if (row === undefined) {
    throw new Error(`refund ${order.refundKey}: its unmatched payment is already being refunded`);
  }
  return row;
}

export async function findRefund(db: Executor, refundKey: string): Promise<RefundRow | undefined> {
  return db.selectFrom('refunds').selectAll().where('refund_key', '=', refundKey).executeTakeFirst();
}

export async function findUnmatchedRefund(db: Executor, operationId: string): Promise<RefundRow | undefined> {
  return db
    .selectFrom('refunds')
    .selectAll()
    .where('unmatched_operation_id', '=', operationId)
    .executeTakeFirst();
}

/**
 * Stores the signed envelope before it is submitted; only over no envelope or the one it replaces
 * (compare-and-set), so two senders can never both think their envelope is the refund.
 */
export async function storeEnvelope(
  db: Executor,
  refundKey: string,
  replaces: string | null,
  envelope: { xdr: string; hash: string; sequence: string },
  now: Date,
): Promise<boolean> {
  const result = await db
    .updateTable('refunds')
    .set({
      state: 'submitted',
      envelope_xdr: envelope.xdr,
      transaction_hash: envelope.hash,
      sequence: envelope.sequence,
      updated_at: now,
    })
    .where('refund_key', '=', refundKey)
    .where(
      replaces === null
        ? sql<boolean>`transaction_hash is null`
        : sql<boolean>`transaction_hash = ${replaces}`,
    )
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function markRefundConfirmed(
  db: Executor,
  refundKey: string,
  hash: string,
  ledger: number | null,
  now: Date,
): Promise<void> {
  await db
    .updateTable('refunds')
    .set({ state: 'confirmed', transaction_hash: hash, ledger, last_error: null, updated_at: now })
    .where('refund_key', '=', refundKey)
    .execute();
}

export async function markRefundFailed(
  db: Executor,
  refundKey: string,
  error: string,
  now: Date,
): Promise<void> {
  await db
    .updateTable('refunds')
    .set({ state: 'failed', last_error: error, updated_at: now })
    .where('refund_key', '=', refundKey)
    .execute();
}

export async function noteRefundError(
  db: Executor,
  refundKey: string,
  error: string,
  now: Date,
): Promise<void> {
  await db
    .updateTable('refunds')
    .set({ last_error: error.slice(0, 1000), updated_at: now })
    .where('refund_key', '=', refundKey)
    .execute();
}
