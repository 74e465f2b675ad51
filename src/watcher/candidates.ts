import type { Executor } from '../db/database.ts';
import { canonicalMemo, type PaymentCandidate, type PaymentLookupKey } from '../../streams/index.ts';

/** The map key of a lookup: account, memo type and canonical memo. */
export function candidateKey(key: Pick<PaymentLookupKey, 'account' | 'memoType' | 'memo'>): string {
  return `${key.account}\u0000${key.memoType}\u0000${key.memo}`;
}

/**
 * The transactions a page of payments points at, by (receiving account, memo type, memo): one statement
 * per (account, memo type) pair, each an `in` list on the unique index `transactions_stellar_memo_key`
 * (all three columns bound, so no plan reads every transaction of the account). Every form a memo may be
 * stored in is asked for (hash memos: base64 or hex); the result is keyed by the canonical form.
 */
export async function findPaymentCandidates(
  db: Executor,
  keys: readonly PaymentLookupKey[],
): Promise<Map<string, PaymentCandidate>> {
  const groups = new Map<
    string,
    { account: string; memoType: PaymentLookupKey['memoType']; forms: Set<string> }
  >();
  for (const key of keys) {
    const group = `${key.account}\u0000${key.memoType}`;
    let entry = groups.get(group);
    if (!entry)
      groups.set(group, (entry = { account: key.account, memoType: key.memoType, forms: new Set() }));
    for (const form of key.memoForms) entry.forms.add(form);
  }
  const found = new Map<string, PaymentCandidate>();
  for (const { account, memoType, forms } of groups.values()) {
    const rows = await db
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
      .where('stellar_account_id', '=', account)
      .where('stellar_memo_type', '=', memoType)
      .where('stellar_memo', 'in', [...forms])
      .execute();
    for (const row of rows) {
      const memo = row.stellar_memo === null ? null : canonicalMemo(memoType, row.stellar_memo);
      if (memo === null) continue;
      found.set(candidateKey({ account, memoType, memo }), {
        id: row.id,
        status: row.status,
        stellarAccountId: row.stellar_account_id,
        memoType: row.stellar_memo_type,
        memo: row.stellar_memo,
        assetCode: row.asset_code,
        assetIssuer: row.asset_issuer,
        creditedOperationId: row.stellar_operation_id,
      });
    }
  }
  return found;
}
