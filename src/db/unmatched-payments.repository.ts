import { toJson } from './columns.ts';
import type { Executor } from './database.ts';
import type { UnmatchedPaymentRow } from './unmatched-payments.table.ts';

export interface UnmatchedPayment {
  operationId: string;
  transactionHash: string;
  /** The receiving (watched) account. */
  account: string;
  fromAccount: string | null;
  /** Decimal string: what the account actually received. */
  amount: string;
  assetCode: string;
  assetIssuer: string | null;
  memoType: string | null;
  memo: string | null;
  /** Why it could not be credited, e.g. `no_matching_memo`, `wrong_asset`, `not_pending_sender`. */
  reason: string;
  /** The transaction it matched but could not be credited to, if any. */
  transactionId: string | null;
  /** The Horizon record as received. */
  payload: unknown;
}

/**
 * Records a payment that could not be credited. Idempotent on the operation id (Horizon delivers at
 * least once): returns true if it was new, false if it was already recorded.
 */
export async function recordUnmatchedPayment(db: Executor, payment: UnmatchedPayment): Promise<boolean> {
  const inserted = await db
    .insertInto('unmatched_payments')
    .values(unmatchedRow(payment))
    .onConflict((oc) => oc.column('operation_id').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

function unmatchedRow(payment: UnmatchedPayment) {
  return {
    operation_id: payment.operationId,
    transaction_hash: payment.transactionHash,
    account: payment.account,
    from_account: payment.fromAccount,
    amount: payment.amount,
    asset_code: payment.assetCode,
    asset_issuer: payment.assetIssuer,
    memo_type: payment.memoType,
    memo: payment.memo,
    reason: payment.reason,
    transaction_id: payment.transactionId,
    payload: toJson(payment.payload),
  };
}

export async function findUnmatchedPayment(
  db: Executor,
  operationId: string,
): Promise<UnmatchedPaymentRow | undefined> {
  return db
    .selectFrom('unmatched_payments')
    .selectAll()
    .where('operation_id', '=', operationId)
    .executeTakeFirst();
}

/** Records several payments that could not be credited (one statement); idempotent like the above. */
export async function recordUnmatchedPayments(
  db: Executor,
  payments: readonly UnmatchedPayment[],
): Promise<void> {
  if (payments.length === 0) return;
  await db
    .insertInto('unmatched_payments')
    .values(payments.map(unmatchedRow))
    .onConflict((oc) => oc.column('operation_id').doNothing())
    .execute();
}

/** Which of these operations are stored as unmatched. */
export async function findUnmatchedOperations(
  db: Executor,
  operationIds: readonly string[],
): Promise<Set<string>> {
  if (operationIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('unmatched_payments')
    .select('operation_id')
    .where('operation_id', 'in', [...operationIds])
    .execute();
  return new Set(rows.map((row) => row.operation_id));
}

/** Oldest first; `unrefundedOnly` for the operators' refund queue. */
export async function listUnmatchedPayments(
  db: Executor,
  options: { unrefundedOnly?: boolean; limit?: number } = {},
): Promise<UnmatchedPaymentRow[]> {
  let query = db
    .selectFrom('unmatched_payments')
    .selectAll()
    .orderBy('id')
    .limit(options.limit ?? 100);
  if (options.unrefundedOnly) query = query.where('refunded_at', 'is', null);
  return query.execute();
}

/** Records the refund of an unmatched payment, once: false if it was already refunded (or is unknown). */
export async function markUnmatchedPaymentRefunded(
  db: Executor,
  operationId: string,
  refundTransactionHash: string,
  at = new Date(),
): Promise<boolean> {
  const result = await db
    .updateTable('unmatched_payments')
    .set({ refunded_at: at, refund_transaction_hash: refundTransactionHash })
    .where('operation_id', '=', operationId)
    .where('refunded_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
