import type { Insertable, Selectable, Updateable } from 'kysely';
import type { DefaultJson, DefaultTimestamp } from './columns.ts';

/** SEP-12 customers, one per (account, memo). */
export interface CustomersTable {
  id: string;
  account: string;
  memo: string | null;
  type: string | null;
  status: string;
  fields: DefaultJson<Record<string, unknown>>;
  callback_url: string | null;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
}

export type CustomerRow = Selectable<CustomersTable>;
export type NewCustomerRow = Insertable<CustomersTable>;
export type CustomerRowUpdate = Updateable<CustomersTable>;
