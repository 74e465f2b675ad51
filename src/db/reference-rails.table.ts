import type { Insertable, Selectable } from 'kysely';
import type { Decimal, Json, Timestamp } from './columns.ts';

export type ReferencePayoutStatus = 'pending_external' | 'completed' | 'failed';

/** The reference rails' (simulated bank's) payouts: one row per idempotency key, so per payout. */
export interface ReferenceRailsPayoutsTable {
  /** `<transaction id>:payout:<attempt>`; the primary key makes a repeated request the same payout. */
  idempotency_key: string;
  transaction_id: string;
  external_transaction_id: string;
  amount: Decimal;
  /** The SEP-38 asset paid out (`amount_out_asset`). */
  asset: string;
  receiver_id: string | null;
  funding_method: string | null;
  status: ReferencePayoutStatus;
  /** Where the payout ends, drawn once when it is made (the failure rate). */
  outcome: 'completed' | 'failed';
  message: string | null;
  /** The answer to the first request; every repeat of the key gets it again. */
  first_result: Json<unknown>;
  created_at: Timestamp;
  /** When a pending payout settles (`created_at` + the configured delay). */
  settles_at: Timestamp;
  settled_at: Timestamp | null;
}

export type ReferenceRailsPayoutRow = Selectable<ReferenceRailsPayoutsTable>;
export type NewReferenceRailsPayoutRow = Insertable<ReferenceRailsPayoutsTable>;
