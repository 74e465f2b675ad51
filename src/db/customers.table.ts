import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely';
import type { PersistedCustomer } from '../../machines/index.ts';
import type { DefaultJson, DefaultTimestamp } from './columns.ts';

/**
 * One SEP-9 value a customer sent. Text values are stored as given; a binary field (e.g. `photo_id_front`)
 * points to its bytes in `customer_files`. Rows written before this shape existed may hold a bare string.
 */
export type StoredCustomerField =
  | { kind: 'text'; value: string }
  | {
      kind: 'file';
      fileId: string;
      contentType: string;
      filename: string | null;
      size: number;
      sha256: string;
    };

/** SEP-12 customers, one per (account, memo). */
export interface CustomersTable {
  id: string;
  /** The sending anchor's base `G...` account (an `M...` token is stored as its account + mux id memo). */
  account: string;
  /** The memo the sending anchor registered this customer under (a mux id for `M...`), or null. */
  memo: string | null;
  /** The type of the customer's latest typed `PUT /customer`, or null if it never named one. */
  type: string | null;
  /** The status for `type` (or, with no type, the worst status over all configured types). */
  status: string;
  /** SEP-9 name -> value; see `StoredCustomerField`. */
  fields: DefaultJson<Record<string, StoredCustomerField | string>>;
  callback_url: string | null;
  /** Customer machine per type: `{ [type]: { value, context } }`; every status change goes through it. */
  statuses: DefaultJson<Record<string, PersistedCustomer>>;
  /** +1 on every change: orders changes and keys their callbacks. */
  version: ColumnType<number, number | undefined, number>;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
}

/** Binary SEP-9 fields (multipart uploads); the latest upload per (customer, field). Bytes in `customer_file_chunks`. */
export interface CustomerFilesTable {
  id: string;
  customer_id: string;
  field: string;
  content_type: string;
  filename: string | null;
  size: number;
  sha256: string;
  created_at: DefaultTimestamp;
}

/** A customer file's bytes, in order of `seq`; deleted with their file. */
export interface CustomerFileChunksTable {
  file_id: string;
  seq: number;
  data: Uint8Array;
}

/**
 * A customer's role in a SEP-31 transaction (`PUT /customer` with `transaction_id` + `type`), and the
 * state of the transaction's `pending_customer_info_update` rounds for that role.
 */
export interface CustomerTransactionsTable {
  transaction_id: string;
  type: string;
  /** null when only a request was recorded and the customer is known from sender_id / receiver_id. */
  customer_id: string | null;
  /** Fields the rails flagged as wrong (`flagCustomerFields`), consumed by the next round; null: all. */
  requested_fields: ColumnType<string[] | null, string | null, string | null>;
  requested_message: string | null;
  /** `transaction_events.seq` of the CUSTOMER_INFO_NEEDED already applied to the customer's status. */
  applied_seq: number | null;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
}

/** The SEP-12 tables beyond `customers`; see `customers.repository.ts`. */
export interface CustomerTables {
  customer_files: CustomerFilesTable;
  customer_file_chunks: CustomerFileChunksTable;
  customer_transactions: CustomerTransactionsTable;
}

export type CustomerRow = Selectable<CustomersTable>;
export type NewCustomerRow = Insertable<CustomersTable>;
export type CustomerRowUpdate = Updateable<CustomersTable>;
export type CustomerFileRow = Selectable<CustomerFilesTable>;
export type CustomerTransactionRow = Selectable<CustomerTransactionsTable>;
