import type { Selectable } from 'kysely';
import type { Decimal, Timestamp } from './columns.ts';

export const REFUND_STATES = ['pending', 'submitted', 'confirmed', 'failed'] as const;
export type RefundState = (typeof REFUND_STATES)[number];

/** Refunds Mooring sends on Stellar; the stored envelope makes a resubmission the same payment. */
export interface RefundsTable {
  /** A transaction's refund id (`<transaction id>:refund:...`) or `unmatched:<operation id>`. */
  refund_key: string;
  transaction_id: string | null;
  /** The unmatched payment refunded (unique: once). */
  unmatched_operation_id: string | null;
  /** The account that sends the refund (the one that received the payment). */
  source_account: string;
  destination: string;
  /** `native` for XLM. */
  asset_code: string;
  asset_issuer: string | null;
  amount: Decimal;
  fee: Decimal;
  memo_type: string | null;
  memo: string | null;
  /** pending: nothing signed; submitted: envelope stored (maybe on the ledger); confirmed; failed. */
  state: RefundState;
  /** The envelope's sequence number (decimal). */
  sequence: string | null;
  envelope_xdr: string | null;
  transaction_hash: string | null;
  ledger: number | null;
  last_error: string | null;
  requested_by: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type RefundRow = Selectable<RefundsTable>;
