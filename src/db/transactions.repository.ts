import type { Kysely, Transaction } from 'kysely';
import type { PersistedTransaction, TransactionContext, TransactionStatus } from '../../machines/index.ts';
import { toJson } from './columns.ts';
import type { Database } from './database.ts';
import type { StateValue } from './transactions.table.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** The read-model columns, derived from the machine's context: the machine is the source of truth. */
export function readModelColumns(status: TransactionStatus, persisted: PersistedTransaction) {
  const c: TransactionContext = persisted.context;
  return {
    status,
    state_value: toJson(persisted.value),
    snapshot: toJson(persisted),
    sending_anchor: c.sendingAnchor,
    asset_code: c.assetCode,
    asset_issuer: c.assetIssuer,
    amount_in: c.amountIn,
    amount_in_asset: c.amountInAsset,
    amount_out: c.amountOut,
    amount_out_asset: c.amountOutAsset,
    amount_fee: c.feeDetails.total,
    amount_fee_asset: c.feeDetails.asset,
    fee_details: toJson(c.feeDetails),
    quote_id: c.quoteId,
    funding_method: c.fundingMethod,
    sender_id: c.senderId,
    receiver_id: c.receiverId,
    refund_memo: c.refundMemo,
    refund_memo_type: c.refundMemoType,
    stellar_account_id: c.stellarAccountId,
    stellar_memo_type: c.stellarMemoType,
    stellar_memo: c.stellarMemo,
    stellar_transaction_id: c.stellarTransactionId,
    stellar_operation_id: c.payment?.operationId ?? null,
    external_transaction_id: c.externalTransactionId,
    status_message: c.statusMessage,
    required_info_message: c.requiredInfoMessage,
    required_info_updates: c.requiredInfoUpdates === null ? null : toJson(c.requiredInfoUpdates),
    refunds: c.refunds === null ? null : toJson(c.refunds),
    expires_at: c.expiresAt,
    started_at: c.startedAt,
    updated_at: c.updatedAt,
    completed_at: c.completedAt,
  };
}

export async function insertTransaction(
  db: Db,
  id: string,
  version: number,
  status: TransactionStatus,
  persisted: PersistedTransaction,
): Promise<void> {
  await db
    .insertInto('transactions')
    .values({ id, version, ...readModelColumns(status, persisted) })
    .execute();
}

/** Locks the row for the rest of the database transaction: one writer per transaction at a time. */
export async function lockTransaction(db: Transaction<Database>, id: string) {
  return db
    .selectFrom('transactions')
    .select(['id', 'version', 'status', 'snapshot'])
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
}

/** Writes the new state if nobody else did since `expectedVersion`; false on a lost race. */
export async function updateTransaction(
  db: Db,
  id: string,
  expectedVersion: number,
  status: TransactionStatus,
  persisted: PersistedTransaction,
): Promise<boolean> {
  const result = await db
    .updateTable('transactions')
    .set({ version: expectedVersion + 1, ...readModelColumns(status, persisted) })
    .where('id', '=', id)
    .where('version', '=', expectedVersion)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export async function findEvent(db: Db, transactionId: string, eventId: string) {
  return db
    .selectFrom('transaction_events')
    .select(['seq', 'status_after'])
    .where('transaction_id', '=', transactionId)
    .where('event_id', '=', eventId)
    .executeTakeFirst();
}

export async function appendEvent(
  db: Db,
  entry: {
    transactionId: string;
    seq: number;
    eventId: string;
    eventType: string;
    payload: unknown;
    statusBefore: TransactionStatus | null;
    statusAfter: TransactionStatus;
    stateAfter: StateValue;
  },
): Promise<void> {
  await db
    .insertInto('transaction_events')
    .values({
      transaction_id: entry.transactionId,
      seq: entry.seq,
      event_id: entry.eventId,
      event_type: entry.eventType,
      payload: toJson(entry.payload),
      status_before: entry.statusBefore,
      status_after: entry.statusAfter,
      state_after: toJson(entry.stateAfter),
    })
    .execute();
}

export async function listEvents(db: Db, transactionId: string) {
  return db
    .selectFrom('transaction_events')
    .selectAll()
    .where('transaction_id', '=', transactionId)
    .orderBy('seq')
    .execute();
}

/** The read model of one transaction. Pass `sendingAnchor` to scope the lookup to its owner. */
export async function findTransaction(db: Db, id: string, sendingAnchor?: string) {
  let query = db.selectFrom('transactions').selectAll().where('id', '=', id);
  if (sendingAnchor !== undefined) query = query.where('sending_anchor', '=', sendingAnchor);
  return query.executeTakeFirst();
}

/**
 * Sets (replaces) the callback URL of a transaction owned by `sendingAnchor`. Not part of the machine's
 * state, so it never bumps the version. False when there is no such transaction for that owner.
 */
export async function setCallbackUrl(
  db: Db,
  id: string,
  sendingAnchor: string,
  url: string,
): Promise<boolean> {
  const result = await db
    .updateTable('transactions')
    .set({ callback_url: url })
    .where('id', '=', id)
    .where('sending_anchor', '=', sendingAnchor)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** The sequence number of the transaction's latest event of `eventType`, or null if it never had one. */
export async function lastEventSeq(db: Db, transactionId: string, eventType: string): Promise<number | null> {
  const row = await db
    .selectFrom('transaction_events')
    .select('seq')
    .where('transaction_id', '=', transactionId)
    .where('event_type', '=', eventType)
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? Number(row.seq) : null;
}
