import type { Insertable, Selectable, Updateable } from 'kysely';
import type { BigSerial, Decimal, DefaultTimestamp, Json, Timestamp } from './columns.ts';

/** Incoming payments to a watched account that could not be credited; operators refund from here. */
export interface UnmatchedPaymentsTable {
  id: BigSerial;
  operation_id: string;
  transaction_hash: string;
  /** The receiving (watched) account. */
  account: string;
  from_account: string | null;
  /** What the account actually received. */
  amount: Decimal;
  asset_code: string;
  asset_issuer: string | null;
  /** Horizon's `memo_type`: none, text, id, hash or return. */
  memo_type: string | null;
  memo: string | null;
  reason: string;
  /** The transaction it matched but could not be credited to, if any. */
  transaction_id: string | null;
  /** The Horizon record, as received. */
  payload: Json<unknown>;
  created_at: DefaultTimestamp;
  refunded_at: Timestamp | null;
  refund_transaction_hash: string | null;
}

export type UnmatchedPaymentRow = Selectable<UnmatchedPaymentsTable>;
export type NewUnmatchedPaymentRow = Insertable<UnmatchedPaymentsTable>;
export type UnmatchedPaymentRowUpdate = Updateable<UnmatchedPaymentsTable>;
