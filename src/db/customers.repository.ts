/**
 * SEP-12 customers: rows of `customers`, their uploaded files (`customer_files`) and their roles in SEP-31
 * transactions (`customer_transactions`). The customer actors (`src/actors/customer-actors.ts`) are the
 * only writers of customers; the read model (`src/read-model/customers.ts`) checks ownership with
 * `ownsCustomer` before it shows a row.
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

/** The customers stored under these keys (one statement), by `customerKeyText`. */
export async function findCustomersByKeys(
  db: Executor,
  keys: readonly CustomerKey[],
): Promise<Map<string, CustomerRecord>> {
  if (keys.length === 0) return new Map();
  const rows = await db
    .selectFrom('customers')
    .selectAll()
    .where((eb) =>
      eb.or(
        keys.map((key) =>
          eb.and([eb('account', '=', key.account), eb(sql<string>`coalesce(memo, '')`, '=', key.memo ?? '')]),
        ),
      ),
    )
    .execute();
  return new Map(rows.map((row) => [customerKeyText(row), toRecord(row)]));
}

export function customerKeyText(key: CustomerKey): string {
  return `${key.account}\u0000${key.memo ?? ''}`;
}

/**
 * A new customer (status NEEDS_INFO, nothing received) for (account, memo); undefined when another writer
 * stored one first (the unique index on (account, memo) turns the insert into a no-op).
 */
export async function insertCustomer(
  db: Executor,
  key: CustomerKey,
  create: { id: string; at: Date },
): Promise<CustomerRecord | undefined> {
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
  return inserted && toRecord(inserted);
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

/** Deletes a customer with its files (its transaction links keep the transaction side); false: none. */
export async function deleteCustomer(db: Executor, id: string): Promise<boolean> {
  const result = await db.deleteFrom('customers').where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows === 1n;
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

/**
 * Takes a staged upload (`src/storage/uploads.ts`) as the latest file of a binary field, replacing the
 * previous one (its chunks go with it). The bytes move inside the database, chunk row by chunk row, never
 * through the bus or this process.
 */
export async function saveCustomerFileFromUpload(
  db: Executor,
  file: { id: string; customerId: string; field: string; uploadId: string },
): Promise<void> {
  await db
    .deleteFrom('customer_files')
    .where('customer_id', '=', file.customerId)
    .where('field', '=', file.field)
    .execute();
  await db
    .insertInto('customer_files')
    .columns(['id', 'customer_id', 'field', 'content_type', 'filename', 'size', 'sha256'])
    .expression((eb) =>
      eb
        .selectFrom('uploads')
        .select([
          eb.val(file.id).as('id'),
          eb.val(file.customerId).as('customer_id'),
          eb.val(file.field).as('field'),
          'content_type',
          'filename',
          'size',
          'sha256',
        ])
        .where('id', '=', file.uploadId)
        .where('sha256', 'is not', null),
    )
    .execute();
  await db
    .insertInto('customer_file_chunks')
    .columns(['file_id', 'seq', 'data'])
    .expression((eb) =>
      eb
        .selectFrom('upload_chunks')
        .select([eb.val(file.id).as('file_id'), 'seq', 'data'])
        .where('upload_id', '=', file.uploadId),
    )
    .execute();
}

/** The bytes of a customer's file, or null when the field has none. */
export async function readCustomerFile(
  db: Executor,
  customerId: string,
  field: string,
): Promise<Uint8Array | null> {
  const file = await db
    .selectFrom('customer_files')
    .select('id')
    .where('customer_id', '=', customerId)
    .where('field', '=', field)
    .executeTakeFirst();
  if (!file) return null;
  const chunks = await db
    .selectFrom('customer_file_chunks')
    .select('data')
    .where('file_id', '=', file.id)
    .orderBy('seq')
    .execute();
  return Buffer.concat(chunks.map((chunk) => chunk.data));
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

/**
 * The customer of a transaction for a type: the one linked by `PUT /customer` (`transaction_id` + `type`),
 * else the transaction's `senderId` / `receiverId` for the SEP-31 types. Not scoped: callers check
 * ownership of the transaction first.
 */
export async function customerIdOfTransaction(
  db: Executor,
  transaction: { id: string; senderId: string | null; receiverId: string | null },
  type: string,
): Promise<string | null> {
  const link = await db
    .selectFrom('customer_transactions')
    .select('customer_id')
    .where('transaction_id', '=', transaction.id)
    .where('type', '=', type)
    .executeTakeFirst();
  if (link?.customer_id) return link.customer_id;
  const column = TRANSACTION_COLUMNS[type];
  if (column === undefined) return null;
  return column === 'sender_id' ? transaction.senderId : transaction.receiverId;
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

/** A transaction's link to its customer of one type, as the transaction host reads it. */
export interface StoredCustomerLink {
  customerId: string | null;
  /** The CUSTOMER_INFO_NEEDED round (event seq) last applied to the customer. */
  appliedSeq: number | null;
}

/** The latest CUSTOMER_INFO_NEEDED of each of these transactions (one statement). */
export async function latestCustomerInfoRequests(
  db: Executor,
  transactionIds: readonly string[],
): Promise<Map<string, { seq: number; message: string | null; customerType: string | null }>> {
  if (transactionIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('transaction_events')
    .distinctOn('transaction_id')
    .select(['transaction_id', 'seq', 'payload'])
    .where('transaction_id', 'in', [...transactionIds])
    .where('event_type', '=', 'CUSTOMER_INFO_NEEDED')
    .orderBy('transaction_id')
    .orderBy('seq', 'desc')
    .execute();
  return new Map(
    rows.map((row) => {
      const payload = (row.payload ?? {}) as { message?: unknown; customerType?: unknown };
      return [
        row.transaction_id,
        {
          seq: row.seq,
          message: typeof payload.message === 'string' ? payload.message : null,
          customerType: typeof payload.customerType === 'string' ? payload.customerType : null,
        },
      ];
    }),
  );
}

/** Transactions these customers take part in (linked, or as `sender_id` / `receiver_id`). */
function involving(db: Executor, customerIds: readonly string[]) {
  const ids = [...customerIds];
  const linked = db
    .selectFrom('customer_transactions')
    .select('transaction_id')
    .where('customer_id', 'in', ids);
  return db
    .selectFrom('transactions')
    .where((eb) => eb.or([eb('id', 'in', linked), eb('sender_id', 'in', ids), eb('receiver_id', 'in', ids)]));
}

/**
 * Ids of the transactions these customers take part in that wait on customers: in
 * `pending_customer_info_update`, or funded and waiting for their customers before the payout.
 */
export async function waitingTransactionIds(db: Executor, customerIds: readonly string[]): Promise<string[]> {
  if (customerIds.length === 0) return [];
  const rows = await involving(db, customerIds)
    .select('id')
    .where((eb) =>
      eb.or([
        eb('status', '=', 'pending_customer_info_update'),
        eb.and([
          eb('status', '=', 'pending_receiver'),
          eb(sql`state_value`, '=', sql`'{"pending_receiver":"ready"}'::jsonb`),
        ]),
      ]),
    )
    .orderBy('id')
    .execute();
  return rows.map((row) => row.id);
}

/** What decides which `pending_customer_info_update` rounds still have to be applied to customers. */
export interface InfoRoundFacts {
  /** The transactions in `pending_customer_info_update` the customers take part in. */
  transactions: { id: string; senderId: string | null; receiverId: string | null }[];
  /** The latest CUSTOMER_INFO_NEEDED of each. */
  rounds: Map<string, { seq: number; message: string | null; customerType: string | null }>;
  /** Their customer links, by transaction id and type. */
  links: Map<string, CustomerTransactionLink>;
}

export function linkKeyText(transactionId: string, type: string): string {
  return `${transactionId}\u0000${type}`;
}

/** The facts of the rounds that may concern these customers (three statements). */
export async function readInfoRounds(db: Executor, customerIds: readonly string[]): Promise<InfoRoundFacts> {
  const facts: InfoRoundFacts = { transactions: [], rounds: new Map(), links: new Map() };
  if (customerIds.length === 0) return facts;
  const rows = await involving(db, customerIds)
    .select(['id', 'sender_id', 'receiver_id'])
    .where('status', '=', 'pending_customer_info_update')
    .orderBy('id')
    .execute();
  if (rows.length === 0) return facts;
  facts.transactions = rows.map((row) => ({
    id: row.id,
    senderId: row.sender_id,
    receiverId: row.receiver_id,
  }));
  const ids = rows.map((row) => row.id);
  facts.rounds = await latestCustomerInfoRequests(db, ids);
  const links = await db
    .selectFrom('customer_transactions')
    .selectAll()
    .where('transaction_id', 'in', ids)
    .execute();
  for (const row of links) {
    facts.links.set(linkKeyText(row.transaction_id, row.type), {
      transactionId: row.transaction_id,
      type: row.type,
      customerId: row.customer_id,
      requestedFields: row.requested_fields,
      requestedMessage: row.requested_message,
      appliedSeq: row.applied_seq,
    });
  }
  return facts;
}

// ---------------------------------------------------------------------------------------------------------
// For SEP-31

/** What a SEP-31 request needs of a customer: whose it is and its status per type. */
export interface CustomerStatusRow {
  id: string;
  account: string;
  memo: string | null;
  statuses: Record<string, PersistedCustomer> | null;
}

/** The customers with these ids (those that exist), read for their statuses. */
export async function findCustomerStatusRows(
  db: Executor,
  ids: readonly string[],
): Promise<CustomerStatusRow[]> {
  const wellFormed = ids.filter((id) => id.length > 0 && id.length <= 200 && !id.includes('\u0000'));
  if (wellFormed.length === 0) return [];
  return db
    .selectFrom('customers')
    .select(['id', 'account', 'memo', 'statuses'])
    .where('id', 'in', [...new Set(wellFormed)])
    .execute();
}

/**
 * The SEP-12 status `customer` has for `type`, as the sending anchor `owner` sees it; null when it is not
 * this owner's customer (unknown id or another anchor's: never visible). A type the customer was never
 * considered for is NEEDS_INFO.
 */
export function customerStatusFor(
  customer: CustomerStatusRow | undefined,
  owner: CustomerOwner,
  type: string,
): CustomerStatus | null {
  if (!customer || !ownsCustomer(owner, customer)) return null;
  const value = (customer.statuses ?? {})[type]?.value;
  return isCustomerStatus(value) ? value : 'NEEDS_INFO';
}
