import { sql, type Kysely, type Transaction } from 'kysely';
import type { PersistedTransaction, TransactionContext, TransactionStatus } from '../../machines/index.ts';
import { toJson } from './columns.ts';
import type { Database } from './database.ts';
import type { StateValue } from './transactions.table.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** The read-model columns as JSON text where they are jsonb (for kysely inserts). */
export function readModelColumns(status: TransactionStatus, persisted: PersistedTransaction) {
  const values = readModelValues(status, persisted);
  return {
    ...values,
    state_value: toJson(values.state_value),
    snapshot: toJson(values.snapshot),
    fee_details: toJson(values.fee_details),
    required_info_updates:
      values.required_info_updates === null ? null : toJson(values.required_info_updates),
    refunds: values.refunds === null ? null : toJson(values.refunds),
  };
}

/** The read-model columns, derived from the machine's context: the machine is the source of truth. */
export function readModelValues(status: TransactionStatus, persisted: PersistedTransaction) {
  const c: TransactionContext = persisted.context;
  return {
    status,
    state_value: persisted.value,
    snapshot: persisted,
    sending_anchor: c.sendingAnchor,
    asset_code: c.assetCode,
    asset_issuer: c.assetIssuer,
    amount_in: c.amountIn,
    amount_in_asset: c.amountInAsset,
    amount_out: c.amountOut,
    amount_out_asset: c.amountOutAsset,
    amount_fee: c.feeDetails.total,
    amount_fee_asset: c.feeDetails.asset,
    fee_details: c.feeDetails,
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
    required_info_updates: c.requiredInfoUpdates,
    refunds: c.refunds,
    expires_at: c.expiresAt,
    started_at: c.startedAt,
    updated_at: c.updatedAt,
    completed_at: c.completedAt,
  };
}

/** A transaction as its actor host loads it. */
export interface StoredTransaction {
  id: string;
  version: number;
  status: TransactionStatus;
  persisted: PersistedTransaction;
  callbackUrl: string | null;
}

/** The transactions with these ids (those that exist). */
export async function loadTransactions(db: Db, ids: readonly string[]): Promise<StoredTransaction[]> {
  return ((await loadTransactionsQuery(db, ids)?.execute()) ?? []).map(storedTransaction);
}

/** The transactions with these ids, as `loadTransactions` reads them; JSON-safe columns (`readTogether`). */
export function loadTransactionsQuery(db: Db, ids: readonly string[]) {
  if (ids.length === 0) return null;
  return db
    .selectFrom('transactions')
    .select(['id', 'version', 'status', 'snapshot', 'callback_url'])
    .where('id', 'in', [...ids]);
}

export function storedTransaction(row: {
  id: string;
  version: number;
  status: TransactionStatus;
  snapshot: unknown;
  callback_url: string | null;
}): StoredTransaction {
  return {
    id: row.id,
    version: row.version,
    status: row.status,
    persisted: row.snapshot as PersistedTransaction,
    callbackUrl: row.callback_url,
  };
}

/** The current version of each of these transactions (those that exist); JSON-safe columns. */
export function transactionVersionsQuery(db: Db, ids: readonly string[]) {
  if (ids.length === 0) return null;
  return db
    .selectFrom('transactions')
    .select(['id', 'version'])
    .where('id', 'in', [...ids]);
}

/** What is written for one transaction: its new state, and the version it was read at (0: new). */
export interface TransactionWrite {
  id: string;
  expectedVersion: number;
  version: number;
  status: TransactionStatus;
  persisted: PersistedTransaction;
  callbackUrl: string | null;
  /** A new transaction created by a POST with an `Idempotency-Key`: written once, on insert. */
  idempotency?: Idempotency | null;
}

/** The `Idempotency-Key` of the POST that created a transaction, and the hash of that POST's body. */
export interface Idempotency {
  key: string;
  requestHash: string;
}

/**
 * The INSERT of new transactions, to run with other writes (`writeTogether`); null: none. A taken id or memo
 * is a unique violation (callers check first).
 */
export function insertTransactionsQuery(db: Db, rows: readonly TransactionWrite[]) {
  if (rows.length === 0) return null;
  return db.insertInto('transactions').values(
    rows.map((row) => ({
      id: row.id,
      version: row.version,
      callback_url: row.callbackUrl,
      idempotency_key: row.idempotency?.key ?? null,
      request_hash: row.idempotency?.requestHash ?? null,
      ...readModelColumns(row.status, row.persisted),
    })),
  );
}

/**
 * Which of these ids a transaction has, with the key and request hash it was created with (JSON-safe
 * columns): what a create with an `Idempotency-Key` is checked against.
 */
export function findKeyedTransactionsQuery(db: Db, ids: readonly string[]) {
  if (ids.length === 0) return null;
  return db
    .selectFrom('transactions')
    .select(['id', 'sending_anchor', 'status', 'idempotency_key', 'request_hash'])
    .where('id', 'in', [...ids]);
}

/** The jsonb_to_recordset column list of a transaction write: every read-model column, typed. */
const WRITE_COLUMNS: Record<string, string> = {
  version: 'integer',
  callback_url: 'text',
  status: 'text',
  state_value: 'jsonb',
  snapshot: 'jsonb',
  sending_anchor: 'text',
  asset_code: 'text',
  asset_issuer: 'text',
  amount_in: 'numeric',
  amount_in_asset: 'text',
  amount_out: 'numeric',
  amount_out_asset: 'text',
  amount_fee: 'numeric',
  amount_fee_asset: 'text',
  fee_details: 'jsonb',
  quote_id: 'text',
  funding_method: 'text',
  sender_id: 'text',
  receiver_id: 'text',
  refund_memo: 'text',
  refund_memo_type: 'text',
  stellar_account_id: 'text',
  stellar_memo_type: 'text',
  stellar_memo: 'text',
  stellar_transaction_id: 'text',
  stellar_operation_id: 'text',
  external_transaction_id: 'text',
  status_message: 'text',
  required_info_message: 'text',
  required_info_updates: 'jsonb',
  refunds: 'jsonb',
  expires_at: 'timestamptz',
  started_at: 'timestamptz',
  updated_at: 'timestamptz',
  completed_at: 'timestamptz',
};

/**
 * Writes the new state of existing transactions in one statement, each only if it is still at its
 * `expectedVersion`. Returns the ids written: one missing means someone else wrote it (a lost race).
 */
export async function updateTransactions(db: Db, rows: readonly TransactionWrite[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const records = rows.map((row) => {
    const columns: Record<string, unknown> = readModelValues(row.status, row.persisted);
    return {
      id: row.id,
      expected: row.expectedVersion,
      version: row.version,
      callback_url: row.callbackUrl,
      ...columns,
    };
  });
  const names = Object.keys(WRITE_COLUMNS);
  const definition = sql.join([
    sql`id text`,
    sql`expected integer`,
    ...names.map((name) => sql`${sql.ref(name)} ${sql.raw(WRITE_COLUMNS[name]!)}`),
  ]);
  const assignments = sql.join(names.map((name) => sql`${sql.ref(name)} = v.${sql.ref(name)}`));
  const result = await sql<{ id: string }>`
    update transactions as t set ${assignments}
    from jsonb_to_recordset(${toJson(records)}::jsonb) as v(${definition})
    where t.id = v.id and t.version = v.expected
    returning t.id`.execute(db);
  return new Set(result.rows.map((row) => row.id));
}

/**
 * The events among `eventIds` that these transactions have applied (a superset is asked, pairs filtered);
 * JSON-safe columns.
 */
export function findAppliedEventsQuery(
  db: Db,
  transactionIds: readonly string[],
  eventIds: readonly string[],
) {
  if (transactionIds.length === 0 || eventIds.length === 0) return null;
  return db
    .selectFrom('transaction_events')
    .select(['transaction_id', 'event_id', 'seq', 'status_after'])
    .where('transaction_id', 'in', [...transactionIds])
    .where('event_id', 'in', [...eventIds]);
}

/** Which of these Horizon operations are credited (JSON-safe columns); `creditedOperations` reads them. */
export function findCreditedOperationsQuery(db: Db, operationIds: readonly string[]) {
  if (operationIds.length === 0) return null;
  return db
    .selectFrom('transactions')
    .select(['id', 'stellar_operation_id'])
    .where('stellar_operation_id', 'in', [...operationIds]);
}

export function creditedOperations(
  rows: readonly { id: string; stellar_operation_id: string | null }[],
): Map<string, string> {
  return new Map(rows.map((row) => [row.stellar_operation_id!, row.id]));
}

export interface MemoKey {
  account: string;
  memoType: string;
  memo: string;
}

export const memoKeyText = (key: MemoKey) => `${key.account}\u0000${key.memoType}\u0000${key.memo}`;

/** Which of these (account, memo type, memo) a transaction has (JSON-safe); `takenMemos` reads them. */
export function findTakenMemosQuery(db: Db, keys: readonly MemoKey[]) {
  if (keys.length === 0) return null;
  return db
    .selectFrom('transactions')
    .select(['stellar_account_id', 'stellar_memo_type', 'stellar_memo'])
    .where(
      'stellar_memo',
      'in',
      keys.map((key) => key.memo),
    );
}

export function takenMemos(
  rows: readonly {
    stellar_account_id: string | null;
    stellar_memo_type: string | null;
    stellar_memo: string | null;
  }[],
): Set<string> {
  return new Set(
    rows.map((row) =>
      memoKeyText({
        account: row.stellar_account_id ?? '',
        memoType: row.stellar_memo_type ?? '',
        memo: row.stellar_memo ?? '',
      }),
    ),
  );
}

export interface NewEvent {
  transactionId: string;
  seq: number;
  eventId: string;
  eventType: string;
  payload: unknown;
  statusBefore: TransactionStatus | null;
  statusAfter: TransactionStatus;
  stateAfter: StateValue;
  /** Who sent it, for an operator's event. */
  operator?: string | null;
  /** The transition taken (`transitionKey`); null for the creation. */
  transition: string | null;
}

/** Appends events, with other writes (`writeTogether`); null: none. */
export function appendEventsQuery(db: Db, entries: readonly NewEvent[]) {
  if (entries.length === 0) return null;
  return db.insertInto('transaction_events').values(
    entries.map((entry) => ({
      transaction_id: entry.transactionId,
      seq: entry.seq,
      event_id: entry.eventId,
      event_type: entry.eventType,
      payload: toJson(entry.payload),
      status_before: entry.statusBefore,
      status_after: entry.statusAfter,
      state_after: toJson(entry.stateAfter),
      operator: entry.operator ?? null,
      transition: entry.transition,
    })),
  );
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

/** The event `eventId` of a transaction, if it was applied. */
export async function findEvent(db: Db, transactionId: string, eventId: string) {
  return db
    .selectFrom('transaction_events')
    .select(['seq', 'status_after'])
    .where('transaction_id', '=', transactionId)
    .where('event_id', '=', eventId)
    .executeTakeFirst();
}
