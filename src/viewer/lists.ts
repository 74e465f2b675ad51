// The console's lists: a state's transactions, a search, and unmatched payments. Paged newest first by keyset
// in SQL (never read whole and cut in JS), the same on PostgreSQL and PGlite. Read-only.
import { sql, type Expression, type Kysely, type SqlBool } from 'kysely';
import type { Database, UnmatchedPaymentRow } from '../db/index.ts';
import type { ViewerPage, ViewerTransactionSummary, ViewerUnmatchedPayment } from './api.ts';
import { countedMachine } from './machines.ts';
import { asStateValue, leafStateId } from './state-ids.ts';

export interface TransactionListQuery {
  /** A state id of the transaction machine; a compound state lists those in any of its sub-states. */
  state?: string;
  /** An id, a memo or a Stellar transaction hash, matched exactly. */
  q?: string;
  /** The `next` of the page before. */
  before?: string;
  limit: number;
}

/** A list cursor: the last row's start time and id. */
interface Cursor {
  at: Date;
  id: string;
}

const CURSOR = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)~([A-Za-z0-9._:-]{1,64})$/;

/** A `before` value as a cursor, or null when it is not one (the route answers 400). */
export function parseCursor(text: string): Cursor | null {
  const match = CURSOR.exec(text);
  if (!match) return null;
  const at = new Date(match[1]!);
  return Number.isNaN(at.getTime()) ? null : { at, id: match[2]! };
}

const cursorOf = (at: Date, id: string) => `${at.toISOString()}~${id}`;

const iso = (value: Date | string): string => (value instanceof Date ? value : new Date(value)).toISOString();

/** Whether `state` names a state of the transaction machine. */
export function isCountedState(state: string): boolean {
  return countedMachine().states.some((s) => s.id === state);
}

/**
 * The SQL condition for "in state `stateId`": its status, and below the top level the key path in `state_value`
 * (a leaf is a string value, a compound one an object key).
 */
function inState(stateId: string): Expression<SqlBool> {
  const [status, ...below] = stateId.split('.').slice(1);
  const conditions = [sql<SqlBool>`status = ${status}`];
  if (below.length > 0) {
    const path = [status!, ...below.slice(0, -1)];
    const last = below.at(-1)!;
    const pathLiteral = sql`array[${sql.join(path.map((p) => sql`${p}`))}]::text[]`;
    conditions.push(
      sql<SqlBool>`(state_value #>> ${pathLiteral} = ${last} or coalesce(state_value #> ${pathLiteral} ? ${last}, false))`,
    );
  }
  return sql<SqlBool>`(${sql.join(conditions, sql` and `)})`;
}

/** One page of transactions, newest started first. */
export async function readTransactionList(
  db: Kysely<Database>,
  query: TransactionListQuery,
): Promise<ViewerPage<ViewerTransactionSummary>> {
  const cursor = query.before === undefined ? null : parseCursor(query.before);
  let select = db
    .selectFrom('transactions')
    .select([
      'id',
      'status',
      'state_value',
      'amount_in',
      'amount_in_asset',
      'stellar_memo',
      'status_message',
      'started_at',
      'updated_at',
    ]);
  if (query.state !== undefined) select = select.where(() => inState(query.state!));
  if (query.q !== undefined) {
    const q = query.q;
    select = select.where((eb) =>
      eb.or([eb('id', '=', q), eb('stellar_memo', '=', q), eb('stellar_transaction_id', '=', q)]),
    );
  }
  if (cursor !== null) {
    select = select.where(sql<SqlBool>`(started_at, id) < (${cursor.at}, ${cursor.id})`);
  }
  const rows = await select
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(query.limit + 1)
    .execute();
  const machineId = countedMachine().id;
  const items = rows.slice(0, query.limit).map((row) => ({
    id: row.id,
    status: row.status,
    state:
      leafStateId(machineId, asStateValue(row.state_value) ?? row.status) ?? `${machineId}.${row.status}`,
    amountIn: row.amount_in,
    amountInAsset: row.amount_in_asset,
    stellarMemo: row.stellar_memo,
    statusMessage: row.status_message,
    startedAt: iso(row.started_at),
    updatedAt: iso(row.updated_at),
  }));
  const last = rows.length > query.limit ? rows[query.limit - 1] : undefined;
  return { items, next: last === undefined ? null : cursorOf(new Date(last.started_at), last.id) };
}

export function toUnmatched(row: UnmatchedPaymentRow): ViewerUnmatchedPayment {
  return {
    id: String(row.id),
    operationId: row.operation_id,
    transactionHash: row.transaction_hash,
    account: row.account,
    fromAccount: row.from_account,
    amount: row.amount,
    asset: row.asset_issuer === null ? 'stellar:native' : `stellar:${row.asset_code}:${row.asset_issuer}`,
    memoType: row.memo_type,
    memo: row.memo,
    reason: row.reason,
    transactionId: row.transaction_id,
    at: iso(row.created_at),
    refundedAt: row.refunded_at === null ? null : iso(row.refunded_at),
    refundTransactionHash: row.refund_transaction_hash,
  };
}

/** One page of unmatched payments, newest first; `before` is the id of the last one seen. */
export async function readUnmatchedPayments(
  db: Kysely<Database>,
  query: { before?: string; limit: number; transactionId?: string },
): Promise<ViewerPage<ViewerUnmatchedPayment>> {
  let select = db.selectFrom('unmatched_payments').selectAll();
  if (query.transactionId !== undefined) select = select.where('transaction_id', '=', query.transactionId);
  if (query.before !== undefined) select = select.where('id', '<', query.before);
  const rows = await select
    .orderBy('id', 'desc')
    .limit(query.limit + 1)
    .execute();
  const items = rows.slice(0, query.limit).map(toUnmatched);
  const last = rows.length > query.limit ? items.at(-1) : undefined;
  return { items, next: last?.id ?? null };
}
