/**
 * Everything that can happen to a SEP-31 transaction. Time and ids come in with the event:
 * the machine has no clock and no randomness.
 */
import type { FeeDetails } from './context.ts';

export type MemoType = 'text' | 'hash' | 'id';

export interface StellarPayment {
  /** Horizon operation id: the idempotency key of a credit. */
  operationId: string;
  transactionHash: string;
  /** Amount the destination actually received, decimal string. */
  amount: string;
  assetCode: string;
  /** null for the native asset. */
  assetIssuer: string | null;
  /** Horizon `created_at` of the payment. */
  createdAt: string;
}

export interface RefundPayment {
  /** Stellar transaction hash of the refund (not guaranteed unique). */
  id: string;
  amount: string;
  fee: string;
  /** Set by the machine on a refund of an over-payment's excess: it leaves `amount_out` alone. */
  excess?: boolean;
}

/** Who sends a requested refund: Mooring itself (a `send_refund` effect) or the business (it reports it). */
export type RefundSender = 'mooring' | 'business';

export type TransactionEvent =
  | {
      type: 'ACCOUNT_ASSIGNED';
      at: string;
      stellarAccountId: string;
      stellarMemoType: MemoType;
      stellarMemo: string;
    }
  | { type: 'PAYMENT_RECEIVED'; at: string; payment: StellarPayment }
  | {
      type: 'CUSTOMER_INFO_NEEDED';
      at: string;
      message: string;
      customerType?: string;
      /** SEP-9 names of the fields found wrong (e.g. by the rails); absent: all of the type's fields. */
      fields?: string[];
    }
  | { type: 'CUSTOMER_INFO_UPDATED'; at: string }
  | {
      type: 'TRANSACTION_INFO_NEEDED';
      at: string;
      message: string;
      fields: Record<string, { description: string; optional?: boolean; choices?: string[] }>;
    }
  | { type: 'TRANSACTION_INFO_UPDATED'; at: string; values: Record<string, string> }
  | { type: 'PAYOUT_REQUESTED'; at: string }
  | { type: 'PAYOUT_PENDING_EXTERNAL'; at: string; externalTransactionId: string; message?: string }
  | { type: 'PAYOUT_SUBMITTED_STELLAR'; at: string; transactionHash: string }
  | { type: 'PAYOUT_COMPLETED'; at: string; externalTransactionId?: string; message?: string }
  | { type: 'PAYOUT_FAILED'; at: string; message: string }
  | { type: 'PAYOUT_UNKNOWN'; at: string; message: string }
  /** Reconciliation: the operator has the same payout (same idempotency key) tried again. */
  | { type: 'PAYOUT_RETRY'; at: string; by?: string }
  /** Reconciliation: the operator found the payout made (e.g. in the rails' records). */
  | { type: 'PAYOUT_CONFIRMED'; at: string; externalTransactionId?: string; message?: string; by?: string }
  | {
      type: 'REFUND_REQUESTED';
      at: string;
      /** Unique per refund of the transaction; the idempotency key of its sending. */
      refundId: string;
      /** What goes back to the sending anchor. */
      amount: string;
      /** What the refund costs the sending anchor (kept, not sent). */
      fee: string;
      /** The over-payment's excess (the `refund_excess` effect), apart from `amount_in`. */
      excess?: boolean;
      /** Default `mooring`. */
      sentBy?: RefundSender;
      by?: string;
    }
  /** A refund confirmed on Stellar; `refundId` names the request it settles (absent: reported unasked). */
  | { type: 'REFUND_SENT'; at: string; refund: RefundPayment; refundId?: string }
  /** A requested refund could not be sent (it will not be: nothing left the account). */
  | { type: 'REFUND_FAILED'; at: string; refundId: string; message: string }
  | { type: 'EXPIRE'; at: string }
  | { type: 'ERROR'; at: string; message: string }
  | { type: 'RECOVER'; at: string; message?: string }
  /** An operator ends a transaction that never got its funds, without waiting for its deadline. */
  | { type: 'EXPIRE_NOW'; at: string; message?: string }
  /** The business corrects what the receiver gets and the fee (before the payout). */
  | { type: 'AMOUNTS_UPDATED'; at: string; amountOut: string; feeDetails: FeeDetails; message?: string };

export type TransactionEventType = TransactionEvent['type'];

export const TRANSACTION_EVENT_TYPES: readonly TransactionEventType[] = [
  'ACCOUNT_ASSIGNED',
  'PAYMENT_RECEIVED',
  'CUSTOMER_INFO_NEEDED',
  'CUSTOMER_INFO_UPDATED',
  'TRANSACTION_INFO_NEEDED',
  'TRANSACTION_INFO_UPDATED',
  'PAYOUT_REQUESTED',
  'PAYOUT_PENDING_EXTERNAL',
  'PAYOUT_SUBMITTED_STELLAR',
  'PAYOUT_COMPLETED',
  'PAYOUT_FAILED',
  'PAYOUT_UNKNOWN',
  'PAYOUT_RETRY',
  'PAYOUT_CONFIRMED',
  'REFUND_REQUESTED',
  'REFUND_SENT',
  'REFUND_FAILED',
  'EXPIRE',
  'ERROR',
  'RECOVER',
  'EXPIRE_NOW',
  'AMOUNTS_UPDATED',
];

/** An event addressed to one transaction, as it travels on the bus. `eventId` makes delivery idempotent. */
export interface TransactionEventEnvelope {
  eventId: string;
  transactionId: string;
  event: TransactionEvent;
}
