import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { toJson } from '../../db/columns.ts';
import type { ReferenceRailsPayoutRow } from '../../db/reference-rails.table.ts';
import type {
  ExecuteOutgoingResult,
  PollOutgoingResult,
  RailsIntegration,
  RailsTransaction,
} from '../rails-integration.ts';

export interface ReferenceRailsOptions {
  db: Kysely<Database>;
  /** 0: a payout completes at once. More: it is `pending_external` until a poll this much later. */
  payoutDelaySeconds: number;
  /** Share of payouts the bank refuses, 0 (default) to 1. Drawn once per payout. */
  failureRate?: number;
  /** Default: the real clock. */
  clock?: () => Date;
  /** Default: Math.random. A payout fails when `random() < failureRate`. */
  random?: () => number;
  /** Default: `ref-<uuid>`. */
  newExternalId?: () => string;
}

/** One payout as the simulated bank booked it. */
export interface ReferencePayout {
  idempotencyKey: string;
  transactionId: string;
  externalTransactionId: string;
  amount: string;
  asset: string;
  receiverId: string | null;
  fundingMethod: string | null;
  status: 'pending_external' | 'completed' | 'failed';
  createdAt: Date;
  settledAt: Date | null;
}

export interface ReferenceRails extends RailsIntegration {
  /** How many payouts the bank was asked to make for a transaction: one per idempotency key. */
  payoutCount(transactionId: string): Promise<number>;
  /** The transaction's payouts, oldest first. */
  payouts(transactionId: string): Promise<ReferencePayout[]>;
}

const PAID = 'paid by the simulated bank';
const REFUSED = 'the simulated bank refused the payout';

/**
 * The built-in rails: a simulated bank for demos and tests. It keeps a payout book in the database
 * (`reference_rails_payouts`), one row per idempotency key, so a repeated request, from a retry or after a
 * restart, is the same payout: it answers with its first answer and never pays twice.
 *
 * With `payoutDelaySeconds` 0 a payout completes (or fails) at once; otherwise it is `pending_external`
 * and a poll after the delay finds it settled. Whether it fails is drawn once, when it is made.
 */
export function createReferenceRails(options: ReferenceRailsOptions): ReferenceRails {
  const { db } = options;
  const clock = options.clock ?? (() => new Date());
  const random = options.random ?? Math.random;
  const newExternalId = options.newExternalId ?? (() => `ref-${randomUUID()}`);
  const failureRate = options.failureRate ?? 0;
  const delayMs = options.payoutDelaySeconds * 1000;
  if (!(delayMs >= 0) || !Number.isFinite(delayMs)) {
    throw new Error(
      `reference rails: payoutDelaySeconds must be a non-negative number (got ${options.payoutDelaySeconds})`,
    );
  }
  if (!(failureRate >= 0 && failureRate <= 1)) {
    throw new Error(`reference rails: failureRate must be between 0 and 1 (got ${failureRate})`);
  }

  async function existing(idempotencyKey: string, transactionId: string) {
    const row = await db
      .selectFrom('reference_rails_payouts')
      .selectAll()
      .where('idempotency_key', '=', idempotencyKey)
      .executeTakeFirst();
    if (row && row.transaction_id !== transactionId) {
      throw new Error(
        `reference rails: idempotency key ${idempotencyKey} was used for transaction ${row.transaction_id}`,
      );
    }
    return row && (row.first_result as ExecuteOutgoingResult);
  }

  async function executeOutgoingTransaction(
    transaction: RailsTransaction,
    { idempotencyKey }: { idempotencyKey: string },
  ): Promise<ExecuteOutgoingResult> {
    const known = await existing(idempotencyKey, transaction.id);
    if (known) return known;

    const now = clock();
    const outcome = random() < failureRate ? 'failed' : 'completed';
    const externalTransactionId = newExternalId();
    const settled = delayMs === 0;
    const result: ExecuteOutgoingResult = !settled
      ? { status: 'pending_external', externalTransactionId }
      : outcome === 'completed'
        ? { status: 'completed', externalTransactionId, message: PAID }
        : { status: 'failed', message: REFUSED };
    const inserted = await db
      .insertInto('reference_rails_payouts')
      .values({
        idempotency_key: idempotencyKey,
        transaction_id: transaction.id,
        external_transaction_id: externalTransactionId,
        amount: transaction.amount_out,
        asset: transaction.amount_out_asset,
        receiver_id: transaction.receiver_id,
        funding_method: transaction.funding_method,
        status: settled ? outcome : 'pending_external',
        outcome,
        message: outcome === 'completed' ? PAID : REFUSED,
        first_result: toJson(result),
        created_at: now,
        settles_at: new Date(now.getTime() + delayMs),
        settled_at: settled ? now : null,
      })
      // A concurrent request with the same key got there first: it made the payout, we answer as it did.
      .onConflict((oc) => oc.column('idempotency_key').doNothing())
      .returning('idempotency_key')
      .executeTakeFirst();
    if (inserted) return result;
    const winner = await existing(idempotencyKey, transaction.id);
    if (!winner) throw new Error(`reference rails: payout ${idempotencyKey} vanished`);
    return winner;
  }

  async function pollOutgoingTransactions(
    transactions: readonly RailsTransaction[],
  ): Promise<PollOutgoingResult[]> {
    if (transactions.length === 0) return [];
    const rows = await db
      .selectFrom('reference_rails_payouts')
      .selectAll()
      .where(
        'transaction_id',
        'in',
        transactions.map((t) => t.id),
      )
      .orderBy('created_at')
      .orderBy('idempotency_key')
      .execute();
    const now = clock();
    const results: PollOutgoingResult[] = [];
    for (const transaction of transactions) {
      const mine = rows.filter((row) => row.transaction_id === transaction.id);
      // The payout the transaction knows of; else its latest.
      const row =
        mine.find((r) => r.external_transaction_id === transaction.external_transaction_id) ?? mine.at(-1);
      if (row === undefined) continue;
      const status = row.status === 'pending_external' ? await settle(row, now) : row.status;
      results.push({
        id: transaction.id,
        status,
        externalTransactionId: row.external_transaction_id,
        ...(status !== 'pending_external' && row.message !== null && { message: row.message }),
      });
    }
    return results;
  }

  /** Settles a pending payout whose time has come; its status now. */
  async function settle(row: ReferenceRailsPayoutRow, now: Date) {
    if (now.getTime() < row.settles_at.getTime()) return 'pending_external' as const;
    await db
      .updateTable('reference_rails_payouts')
      .set({ status: row.outcome, settled_at: now })
      .where('idempotency_key', '=', row.idempotency_key)
      .where('status', '=', 'pending_external')
      .execute();
    return row.outcome;
  }

  async function payouts(transactionId: string): Promise<ReferencePayout[]> {
    const rows = await db
      .selectFrom('reference_rails_payouts')
      .selectAll()
      .where('transaction_id', '=', transactionId)
      .orderBy('created_at')
      .orderBy('idempotency_key')
      .execute();
    return rows.map((row) => ({
      idempotencyKey: row.idempotency_key,
      transactionId: row.transaction_id,
      externalTransactionId: row.external_transaction_id,
      amount: row.amount,
      asset: row.asset,
      receiverId: row.receiver_id,
      fundingMethod: row.funding_method,
      status: row.status,
      createdAt: row.created_at,
      settledAt: row.settled_at,
    }));
  }

  async function payoutCount(transactionId: string): Promise<number> {
    const row = await db
      .selectFrom('reference_rails_payouts')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('transaction_id', '=', transactionId)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  return { executeOutgoingTransaction, pollOutgoingTransactions, payouts, payoutCount };
}
