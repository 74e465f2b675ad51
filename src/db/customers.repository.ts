/**
 * SEP-12 customers: rows of `customers`, their uploaded files (`customer_files`) and their roles in SEP-31
 * transactions (`customer_transactions`). Every lookup that serves a request is scoped by the caller: the
 * routes check ownership with `ownsCustomer` before using a row.
 */
import { sql } from 'kysely';
import type { CustomerStatus, PersistedCustomer } from '../../machines/index.ts';
import { isCustomerStatus } from '../../machines/index.ts';
import { toJson } from './columns.ts';
import type { CustomerRow, StoredCustomerField } from './customers.table.ts';
import type { Executor } from './database.ts';

/** Who owns customers: a sending anchor's base account, and the memo its token is bound to (if any). */
export interface CustomerOwner {
  account: string;
  memo: string | null;
}

/** How customers are keyed: (account, memo). */
export interface CustomerKey {
  account: string;
  memo: string | null;
}

export interface CustomerRecord {
  id: string;
  account: string;
  memo: string | null;
  /** The type of the latest typed PUT, or null. */
  type: string | null;
  status: string;
  fields: Record<string, StoredCustomerField>;
  statuses: Record<string, PersistedCustomer>;
  callbackUrl: string | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** A customer is visible to an owner whose account it was registered under, and memo if the token has one. */
export function ownsCustomer(
  owner: CustomerOwner,
  customer: Pick<CustomerRecord, 'account' | 'memo'>,
): boolean {
  return customer.account === owner.account && (owner.memo === null || customer.memo === owner.memo);
}

function toRecord(row: CustomerRow): CustomerRecord {
  const fields: Record<string, StoredCustomerField> = {};
  for (const [name, value] of Object.entries(row.fields ?? {})) {
    // Rows written before the typed shape (or by hand) hold bare strings.
    if (typeof value === 'string') fields[name] = { kind: 'text', value };
    else if (value !== null && typeof value === 'object') fields[name] = value;
  }
  return {
    id: row.id,
    account: row.account,
    memo: row.memo,
    type: row.type,
    status: row.status,
    fields,
    statuses: row.statuses ?? {},
    callbackUrl: row.callback_url,
    version: row.version ?? 0,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A customer by id; `forUpdate` locks its row for the rest of the database transaction (one writer). */
export async function findCustomerById(
  db: Executor,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<CustomerRecord | undefined> {
  let query = db.selectFrom('customers').selectAll().where('id', '=', id);
  if (options.forUpdate) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row && toRecord(row);
}

export async function findCustomerByKey(db: Executor, key: CustomerKey): Promise<CustomerRecord | undefined> {
  const row = await db
    .selectFrom('customers')
    .selectAll()
    .where('account', '=', key.account)
    .where(sql<string>`coalesce(memo, '')`, '=', key.memo ?? '')
    .executeTakeFirst();
  return row && toRecord(row);
}

/**
 * The customer for (account, memo), created (status NEEDS_INFO, nothing received) if there is none. Safe
 * under concurrency: the unique index on (account, memo) makes a racing insert a no-op, and the winner's
 * row is returned.
 */
export async function findOrCreateCustomer(
  db: Executor,
  key: CustomerKey,
  create: { id: string; at: Date },
): Promise<{ customer: CustomerRecord; created: boolean }> {
  const existing = await findCustomerByKey(db, key);
  if (existing) return { customer: existing, created: false };
  const inserted = await db
    .insertInto('customers')
    .values({
      id: create.id,
      account: key.account,
      memo: key.memo,
      type: null,
      status: 'NEEDS_INFO',
      created_at: create.at,
      updated_at: create.at,
    })
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { customer: toRecord(inserted), created: true };
  const winner = await findCustomerByKey(db, key);
  if (!winner) throw new Error(`customer for ${key.account} (memo ${key.memo ?? 'none'}) vanished`);
  return { customer: winner, created: false };
}

/** The new state of a customer; written only if nobody changed it since `expectedVersion`. */
export interface CustomerUpdate {
  type: string | null;
  status: CustomerStatus;
  fields: Record<string, StoredCustomerField>;
  statuses: Record<string, PersistedCustomer>;
  at: Date;
}

/** Writes a change (version + 1); false on a lost race (the caller re-reads and retries). */
export async function updateCustomer(
  db: Executor,
  id: string,
  expectedVersion: number,
  update: CustomerUpdate,
): Promise<boolean> {
  const result = await db
    .updateTable('customers')
    .set({
      type: update.type,
      status: update.status,
      fields: toJson(update.fields),
      statuses: toJson(update.statuses),
      version: expectedVersion + 1,
      updated_at: update.at,
    })
    .where('id', '=', id)
    .where('version', '=', expectedVersion)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Deletes the customer stored under (account, memo) with its files; false when there was none. */
export async function deleteCustomer(db: Executor, key: CustomerKey): Promise<string | null> {
  const row = await db
    .deleteFrom('customers')
    .where('account', '=', key.account)
    .where(sql<string>`coalesce(memo, '')`, '=', key.memo ?? '')
    .returning('id')
    .executeTakeFirst();
  return row?.id ?? null;
}

/** Replaces the callback URL (`PUT /customer/callback`). Not a status change: the version stays. */
export async function setCustomerCallbackUrl(db: Executor, id: string, url: string): Promise<boolean> {
  const result = await db
    .updateTable('customers')
    .set({ callback_url: url })
    .where('id', '=', id)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

// ---------------------------------------------------------------------------------------------------------
// Files

export interface NewCustomerFile {
  id: string;
  customerId: string;
  field: string;
  contentType: string;
  filename: string | null;
  sha256: string;
  data: Uint8Array;
}

/** Stores the latest upload of a binary field, replacing the previous one. */
export async function saveCustomerFile(db: Executor, file: NewCustomerFile): Promise<void> {
  await db
    .insertInto('customer_files')
    .values({
      id: file.id,
      customer_id: file.customerId,
      field: file.field,
      content_type: file.contentType,
      filename: file.filename,
      size: file.data.byteLength,
      sha256: file.sha256,
      data: file.data,
    })
    .onConflict((oc) =>
      oc.columns(['customer_id', 'field']).doUpdateSet((eb) => ({
        id: eb.ref('excluded.id'),
        content_type: eb.ref('excluded.content_type'),
        filename: eb.ref('excluded.filename'),
        size: eb.ref('excluded.size'),
        sha256: eb.ref('excluded.sha256'),
        data: eb.ref('excluded.data'),
        created_at: sql`now()`,
      })),
    )
    .execute();
}

export async function readCustomerFile(
  db: Executor,
  customerId: string,
  field: string,
): Promise<Uint8Array | null> {
  const row = await db
    .selectFrom('customer_files')
    .select('data')
    .where('customer_id', '=', customerId)
    .where('field', '=', field)
    .executeTakeFirst();
  return row ? new Uint8Array(row.data) : null;
}

// ---------------------------------------------------------------------------------------------------------
// Customers in SEP-31 transactions

/** The transaction-side customer columns by SEP-12 type (SEP-31 `sender_id` / `receiver_id`). */
const TRANSACTION_COLUMNS: Record<string, 'sender_id' | 'receiver_id'> = {
  'sep31-sender': 'sender_id',
  'sep31-receiver': 'receiver_id',
};

export interface CustomerTransactionLink {
  transactionId: string;
  type: string;
  customerId: string | null;
  requestedFields: string[] | null;
  requestedMessage: string | null;
  appliedSeq: number | null;
}

/** Makes `customerId` the transaction's customer of this type (the latest `PUT` wins). */
export async function linkCustomerToTransaction(
  db: Executor,
  link: { transactionId: string; type: string; customerId: string; at: Date },
): Promise<void> {
  await db
    .insertInto('customer_transactions')
    .values({
      transaction_id: link.transactionId,
      type: link.type,
      customer_id: link.customerId,
      created_at: link.at,
      updated_at: link.at,
    })
    .onConflict((oc) =>
      oc
        .columns(['transaction_id', 'type'])
        .doUpdateSet({ customer_id: link.customerId, updated_at: link.at }),
    )
    .execute();
}

export async function findCustomerTransactionLink(
  db: Executor,
  transactionId: string,
  type: string,
  options: { forUpdate?: boolean } = {},
): Promise<CustomerTransactionLink | null> {
  let query = db
    .selectFrom('customer_transactions')
    .selectAll()
    .where('transaction_id', '=', transactionId)
    .where('type', '=', type);
  if (options.forUpdate) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) return null;
  return {
    transactionId: row.transaction_id,
    type: row.type,
    customerId: row.customer_id,
    requestedFields: row.requested_fields,
    requestedMessage: row.requested_message,
    appliedSeq: row.applied_seq,
  };
}

/**
 * The customer of a transaction for a type: the one linked by `PUT /customer` (`transaction_id` + `type`),
 * else the transaction's `sender_id` / `receiver_id` for the SEP-31 types. Not scoped: callers check
 * ownership of the transaction first.
 */
export async function customerIdOfTransaction(
  db: Executor,
  transaction: { id: string; sender_id: string | null; receiver_id: string | null },
  type: string,
): Promise<string | null> {
  const link = await findCustomerTransactionLink(db, transaction.id, type);
  if (link?.customerId) return link.customerId;
  const column = TRANSACTION_COLUMNS[type];
  return column === undefined ? null : transaction[column];
}

/**
 * For the rails (or an operator), before applying CUSTOMER_INFO_NEEDED to a transaction: which of the
 * customer's fields (SEP-9 names) were found wrong, so `GET /customer?transaction_id=` asks for exactly
 * these. Without this record the whole type's fields are asked for again. Consumed by the next
 * `pending_customer_info_update` round.
 */
export async function flagCustomerFields(
  db: Executor,
  request: { transactionId: string; type: string; fields: readonly string[]; message?: string; at?: Date },
): Promise<void> {
  const at = request.at ?? new Date();
  const fields = toJson([...new Set(request.fields)].sort());
  await db
    .insertInto('customer_transactions')
    .values({
      transaction_id: request.transactionId,
      type: request.type,
      customer_id: null,
      requested_fields: fields,
      requested_message: request.message ?? null,
      created_at: at,
      updated_at: at,
    })
    .onConflict((oc) =>
      oc.columns(['transaction_id', 'type']).doUpdateSet({
        requested_fields: fields,
        requested_message: request.message ?? null,
        updated_at: at,
      }),
    )
    .execute();
}

/** Records that round `seq` was applied to the customer's status (and consumes the flagged fields). */
export async function markInfoRequestApplied(
  db: Executor,
  applied: { transactionId: string; type: string; customerId: string; seq: number; at: Date },
): Promise<void> {
  await db
    .insertInto('customer_transactions')
    .values({
      transaction_id: applied.transactionId,
      type: applied.type,
      customer_id: applied.customerId,
      applied_seq: applied.seq,
      created_at: applied.at,
      updated_at: applied.at,
    })
    .onConflict((oc) =>
      oc.columns(['transaction_id', 'type']).doUpdateSet({
        customer_id: applied.customerId,
        applied_seq: applied.seq,
        requested_fields: null,
        requested_message: null,
        updated_at: applied.at,
      }),
    )
    .execute();
}

/** The latest CUSTOMER_INFO_NEEDED of a transaction: its event seq, message and customer type. */
export async function latestCustomerInfoRequest(
  db: Executor,
  transactionId: string,
): Promise<{ seq: number; message: string | null; customerType: string | null } | null> {
  const row = await db
    .selectFrom('transaction_events')
    .select(['seq', 'payload'])
    .where('transaction_id', '=', transactionId)
    .where('event_type', '=', 'CUSTOMER_INFO_NEEDED')
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!row) return null;
  const payload = (row.payload ?? {}) as { message?: unknown; customerType?: unknown };
  return {
    seq: row.seq,
    message: typeof payload.message === 'string' ? payload.message : null,
    customerType: typeof payload.customerType === 'string' ? payload.customerType : null,
  };
}

/** Ids of the transactions in `pending_customer_info_update` this customer takes part in. */
export async function pendingInfoTransactionIds(db: Executor, customerId: string): Promise<string[]> {
  const linked = db
    .selectFrom('customer_transactions')
    .select('transaction_id')
    .where('customer_id', '=', customerId);
  const rows = await db
    .selectFrom('transactions')
    .select('id')
    .where('status', '=', 'pending_customer_info_update')
    .where((eb) =>
      eb.or([eb('id', 'in', linked), eb('sender_id', '=', customerId), eb('receiver_id', '=', customerId)]),
    )
    .orderBy('id')
    .execute();
  return rows.map((row) => row.id);
}

// ---------------------------------------------------------------------------------------------------------
// For SEP-31

/**
 * The SEP-12 status a customer has for `type`, as the sending anchor `owner` sees it; null when it is not
 * this owner's customer (unknown id or another anchor's: never visible). A type the customer was never
 * considered for is NEEDS_INFO.
 */
export async function customerStatusForType(
  db: Executor,
  id: string,
  owner: CustomerOwner,
  type: string,
): Promise<CustomerStatus | null> {
  if (id.length === 0 || id.length > 200 || id.includes('\u0000')) return null;
  const customer = await findCustomerById(db, id);
  if (!customer || !ownsCustomer(owner, customer)) return null;
  const value = customer.statuses[type]?.value;
  return isCustomerStatus(value) ? value : 'NEEDS_INFO';
}
