/**
 * What the watcher does with one Horizon payment record, durably: credit it to its transaction, store it
 * as unmatched, or ignore it. Whatever is recorded commits in the same database transaction as
 * `commit(trx)` (the lease fence and the cursor), so the cursor never moves past a record whose outcome
 * is not stored, and an outcome is never stored without the cursor (a replay finds it and does nothing new).
 */
import type { Kysely, Transaction } from 'kysely';
import { EventRejectedError, TransactionNotFoundError, UniquenessError } from '../actors/errors.ts';
import type { TransactionHost } from '../actors/transaction-host.ts';
import type { Database } from '../db/database.ts';
import { findUnmatchedPayment, recordUnmatchedPayment } from '../db/unmatched-payments.repository.ts';
import {
  matchPayment,
  paymentLookupKey,
  type HorizonPaymentRecord,
  type IgnoreReason,
  type IncomingPayment,
  type MatchUnmatchedReason,
} from '../../streams/index.ts';
import type { TransactionStatus } from '../../machines/index.ts';
import { findPaymentCandidate } from './candidates.ts';

/**
 * Why a payment to a watched account was not credited (the `reason` column of `unmatched_payments`):
 * the matcher's reasons, plus `already_credited` (the operation is credited to another transaction) and
 * `rejected` (the transaction's machine refused the payment in its current state).
 */
export type UnmatchedReason = MatchUnmatchedReason | 'already_credited' | 'rejected';

export type RecordOutcome =
  | { outcome: 'credited'; transactionId: string; status: TransactionStatus; duplicate: boolean }
  | { outcome: 'unmatched'; reason: string; transactionId: string | null; detail?: string }
  | { outcome: 'ignored'; reason: IgnoreReason };

export interface HandlePaymentDeps {
  db: Kysely<Database>;
  host: Pick<TransactionHost, 'apply'>;
  /** The watched account whose stream delivered the record. */
  account: string;
  /** Runs inside every database transaction that records an outcome (lease fence, then cursor). */
  commit: (trx: Transaction<Database>, record: HorizonPaymentRecord) => Promise<void>;
}

/** Handles one record. Ignored records commit nothing: the caller moves the cursor past them (batched). */
export async function handlePaymentRecord(
  deps: HandlePaymentDeps,
  record: HorizonPaymentRecord,
): Promise<RecordOutcome> {
  const { db, host, account, commit } = deps;
  const watchedAccounts = [account];
  const key = paymentLookupKey(record, watchedAccounts);
  const candidate = key === null ? null : await findPaymentCandidate(db, key);
  const match = matchPayment(record, { watchedAccounts, candidate });

  switch (match.outcome) {
    case 'ignore':
      return { outcome: 'ignored', reason: match.reason };
    case 'unmatched':
      await storeUnmatched(deps, record, match.payment, match.reason, match.transactionId);
      return { outcome: 'unmatched', reason: match.reason, transactionId: match.transactionId };
    case 'credit': {
      // A payment is never both credited and in the refund queue: once stored as unmatched, it stays so.
      const stored = await findUnmatchedPayment(db, record.id);
      if (stored) {
        await db.transaction().execute((trx) => commit(trx, record));
        return { outcome: 'unmatched', reason: stored.reason, transactionId: stored.transaction_id };
      }
      try {
        const applied = await host.apply(
          { eventId: record.id, transactionId: match.transactionId, event: match.event },
          { alongside: (trx) => commit(trx, record) },
        );
        return {
          outcome: 'credited',
          transactionId: match.transactionId,
          status: applied.status,
          duplicate: applied.outcome === 'duplicate',
        };
      } catch (error) {
        const reason = refusal(error);
        if (reason === null) throw error;
        await storeUnmatched(deps, record, match.payment, reason, match.transactionId);
        return {
          outcome: 'unmatched',
          reason,
          transactionId: match.transactionId,
          detail: (error as Error).message,
        };
      }
    }
  }
}

/** The unmatched reason for a refusal of the host, or null for any other failure (retried). */
function refusal(error: unknown): UnmatchedReason | null {
  // The transaction moved on between the lookup and the event (e.g. it expired meanwhile).
  if (error instanceof EventRejectedError) {
    return error.status === 'pending_sender' ? 'rejected' : 'not_pending_sender';
  }
  // transactions_stellar_operation_id_key: this operation is already credited to another transaction.
  if (error instanceof UniquenessError) return 'already_credited';
  if (error instanceof TransactionNotFoundError) return 'unknown_memo';
  return null;
}

async function storeUnmatched(
  deps: HandlePaymentDeps,
  record: HorizonPaymentRecord,
  payment: IncomingPayment,
  reason: string,
  transactionId: string | null,
): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    await recordUnmatchedPayment(trx, {
      operationId: payment.operationId,
      transactionHash: payment.transactionHash,
      account: payment.account,
      fromAccount: payment.fromAccount,
      amount: payment.amount,
      assetCode: payment.assetCode,
      assetIssuer: payment.assetIssuer,
      memoType: payment.memoType,
      memo: payment.memo,
      reason,
      transactionId,
      payload: record,
    });
    await deps.commit(trx, record);
  });
}
