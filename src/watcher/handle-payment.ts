/**
 * What the watcher does with a page of Horizon payment records: look up the transactions their memos
 * point at (one statement), match each record (pure), publish the credits to the transactions' actors,
 * and only then store what it could not credit and move the cursor, in one database transaction.
 *
 * The cursor therefore never passes a payment the bus does not hold (NATS: stored; in-process: applied).
 * A crash between publishing and the cursor commit publishes the same credits again after the restart:
 * the message id is the Horizon operation id, so the bus drops the repeat within its window and the
 * actor's record of applied event ids forever. Cases only the actor can decide (the payment is already
 * credited elsewhere, the transaction moved on) are stored as unmatched by the actor host.
 */
import type { Kysely, Transaction } from 'kysely';
import { transactionEventMessage, type UnmatchedPaymentInfo } from '../actors/messages.ts';
import type { EventBus } from '../bus/index.ts';
import { crashPoint } from '../crash-points.ts';
import type { Database } from '../db/database.ts';
import {
  findUnmatchedOperations,
  recordUnmatchedPayments,
  type UnmatchedPayment,
} from '../db/unmatched-payments.repository.ts';
import {
  matchPayment,
  paymentLookupKey,
  type HorizonPaymentRecord,
  type IgnoreReason,
  type IncomingPayment,
  type MatchUnmatchedReason,
} from '../../streams/index.ts';
import { candidateKey, findPaymentCandidates } from './candidates.ts';

/**
 * Why a payment to a watched account was not credited (the `reason` column of `unmatched_payments`):
 * the matcher's reasons, plus those the actor decides: `already_credited` (the operation is credited to
 * another transaction), `not_pending_sender`, `expired` (the transaction expired, or the payment came after
 * its firm quote expired) and `rejected` (the machine refused the payment).
 */
export type UnmatchedReason = MatchUnmatchedReason | 'already_credited' | 'rejected';

export type RecordOutcome =
  /** Handed to the transaction's actor (which credits it, or stores it as unmatched). */
  | { outcome: 'published'; transactionId: string }
  | { outcome: 'unmatched'; reason: string; transactionId: string | null; alreadyStored: boolean }
  | { outcome: 'ignored'; reason: IgnoreReason };

export interface HandlePaymentsDeps {
  db: Kysely<Database>;
  bus: Pick<EventBus, 'publishMany'>;
  /** The watched account whose stream delivered the records. */
  account: string;
  /** Runs inside the database transaction that stores the page's outcome (lease fence, then cursor). */
  commit: (trx: Transaction<Database>, last: HorizonPaymentRecord) => Promise<void>;
}

/** Handles records of one account, in order; returns each record's outcome. */
export async function handlePaymentRecords(
  deps: HandlePaymentsDeps,
  records: readonly HorizonPaymentRecord[],
): Promise<RecordOutcome[]> {
  if (records.length === 0) return [];
  const { db, account } = deps;
  const watchedAccounts = [account];
  const keys = records.map((record) => paymentLookupKey(record, watchedAccounts));
  const candidates = await findPaymentCandidates(
    db,
    keys.filter((key) => key !== null),
  );
  // A payment stored as unmatched stays so: it is never credited later, so never both credited and refunded.
  const stored = await findUnmatchedOperations(
    db,
    records.map((record) => record.id),
  );

  const credits = [];
  const unmatched: UnmatchedPayment[] = [];
  const outcomes: RecordOutcome[] = [];
  for (const [index, record] of records.entries()) {
    const key = keys[index];
    const candidate = key ? (candidates.get(candidateKey(key)) ?? null) : null;
    const match = matchPayment(record, { watchedAccounts, candidate });
    if (match.outcome === 'ignore') {
      outcomes.push({ outcome: 'ignored', reason: match.reason });
    } else if (stored.has(record.id)) {
      outcomes.push({ outcome: 'unmatched', reason: 'stored', transactionId: null, alreadyStored: true });
    } else if (match.outcome === 'unmatched') {
      unmatched.push({
        ...paymentInfo(match.payment),
        reason: match.reason,
        transactionId: match.transactionId,
        payload: record,
      });
      outcomes.push({
        outcome: 'unmatched',
        reason: match.reason,
        transactionId: match.transactionId,
        alreadyStored: false,
      });
    } else {
      credits.push(
        transactionEventMessage(match.transactionId, record.id, match.event, paymentInfo(match.payment)),
      );
      outcomes.push({ outcome: 'published', transactionId: match.transactionId });
    }
  }

  await deps.bus.publishMany(credits);
  if (credits.length > 0) crashPoint('watcher.published');
  await db.transaction().execute(async (trx) => {
    await recordUnmatchedPayments(trx, unmatched);
    await deps.commit(trx, records.at(-1)!);
  });
  return outcomes;
}

function paymentInfo(payment: IncomingPayment): Omit<UnmatchedPaymentInfo, 'record'> {
  return {
    operationId: payment.operationId,
    transactionHash: payment.transactionHash,
    account: payment.account,
    fromAccount: payment.fromAccount,
    amount: payment.amount,
    assetCode: payment.assetCode,
    assetIssuer: payment.assetIssuer,
    memoType: payment.memoType,
    memo: payment.memo,
  };
}
