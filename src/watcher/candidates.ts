import type { Executor } from '../db/database.ts';
import type { PaymentCandidate, PaymentLookupKey } from '../../streams/index.ts';

/**
 * The transaction a payment's (receiving account, memo type, memo) points at, or null. The unique index
 * `transactions_stellar_memo_key` makes it at most one per stored form; every form the memo may be stored
 * in is asked for (hash memos: base64 or hex), and `matchPayment` compares canonical forms.
 */
export async function findPaymentCandidate(
  db: Executor,
  key: PaymentLookupKey,
): Promise<PaymentCandidate | null> {
  // One point lookup per form on the unique index: with `in (...)` and an `order by`, PostgreSQL without
  // table statistics chose to read every transaction of the account (found by the benchmark).
  let row;
  for (const memo of key.memoForms) {
    row = await db
      .selectFrom('transactions')
      .select([
        'id',
        'status',
        'stellar_account_id',
        'stellar_memo_type',
        'stellar_memo',
        'asset_code',
        'asset_issuer',
        'stellar_operation_id',
      ])
      .where('stellar_account_id', '=', key.account)
      .where('stellar_memo_type', '=', key.memoType)
      .where('stellar_memo', '=', memo)
      .executeTakeFirst();
    if (row) break;
  }
  if (!row) return null;
  return {
    id: row.id,
    status: row.status,
    stellarAccountId: row.stellar_account_id,
    memoType: row.stellar_memo_type,
    memo: row.stellar_memo,
    assetCode: row.asset_code,
    assetIssuer: row.asset_issuer,
    creditedOperationId: row.stellar_operation_id,
  };
}
