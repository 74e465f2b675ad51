import type { Insertable, Selectable, Updateable } from 'kysely';
import type { FeeDetails, Refunds, TransactionContext } from '../../machines/transaction/context.ts';
import type { MemoType } from '../../machines/transaction/events.ts';
import type { TransactionStatus } from '../../machines/transaction/statuses.ts';
import type { Decimal, Json, Timestamp } from './columns.ts';

/** xstate's snapshot `value`, e.g. `'pending_sender'` or `{ pending_receiver: 'ready' }`. */
export type StateValue = string | { [state: string]: StateValue };

export type RequiredInfoUpdates = NonNullable<TransactionContext['requiredInfoUpdates']>;

/** The read model of a SEP-31 transaction and its persisted actor (`snapshot`), written together. */
export interface TransactionsTable {
  id: string;
  sending_anchor: string;
  status: TransactionStatus;
  state_value: Json<StateValue> | null;
  /** Optimistic concurrency: every write checks and bumps it. */
  version: number;
  snapshot: Json<Record<string, unknown>>;
  asset_code: string;
  asset_issuer: string | null;
  amount_in: Decimal;
  amount_in_asset: string;
  amount_out: Decimal;
  amount_out_asset: string;
  amount_fee: Decimal;
  amount_fee_asset: string;
  fee_details: Json<FeeDetails>;
  quote_id: string | null;
  funding_method: string | null;
  sender_id: string | null;
  receiver_id: string | null;
  refund_memo: string | null;
  refund_memo_type: MemoType | null;
  stellar_account_id: string | null;
  stellar_memo_type: MemoType | null;
  stellar_memo: string | null;
  stellar_transaction_id: string | null;
  /** Horizon operation id of the credited payment; unique, so a payment is credited at most once. */
  stellar_operation_id: string | null;
  external_transaction_id: string | null;
  status_message: string | null;
  required_info_message: string | null;
  required_info_updates: Json<RequiredInfoUpdates> | null;
  refunds: Json<Refunds> | null;
  callback_url: string | null;
  /** The sending anchor's `Idempotency-Key` of the POST that created it (unique per sending anchor). */
  idempotency_key: string | null;
  /** With the key: the hash of that POST's canonical body, to tell a retry from a reused key. */
  request_hash: string | null;
  lang: string | null;
  expires_at: Timestamp | null;
  started_at: Timestamp;
  updated_at: Timestamp;
  completed_at: Timestamp | null;
}

export type TransactionRow = Selectable<TransactionsTable>;
export type NewTransactionRow = Insertable<TransactionsTable>;
export type TransactionRowUpdate = Updateable<TransactionsTable>;
