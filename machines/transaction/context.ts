import type { MemoType, RefundPayment, RefundSender, StellarPayment } from './events.ts';

export interface FeeDetails {
  total: string;
  asset: string;
  details?: { name: string; description?: string; amount: string }[];
}

export interface Refunds {
  amountRefunded: string;
  amountFee: string;
  payments: RefundPayment[];
}

/** A refund requested and not yet confirmed (or failed). */
export interface PendingRefund {
  refundId: string;
  amount: string;
  fee: string;
  excess: boolean;
  sentBy: RefundSender;
}

/** A payout an operator must resolve: its key, and what the rails last answered. */
export interface PayoutReconciliation {
  attempt: number;
  idempotencyKey: string;
  /** `failed`: the rails said so; `unknown`: no answer after every try. */
  outcome: 'failed' | 'unknown';
  answer: string;
}

/** What a transaction is created with (POST /transactions, already validated and priced). */
export interface TransactionInput {
  id: string;
  /** SEP-10 `sub` of the sending anchor that created it; every lookup is scoped to it. */
  sendingAnchor: string;
  startedAt: string;
  assetCode: string;
  assetIssuer: string | null;
  /** SEP-38 form, e.g. `stellar:USDC:G...`. */
  amountInAsset: string;
  amountIn: string;
  amountOutAsset: string;
  amountOut: string;
  /**
   * Significant decimals of `amountOutAsset`: a partial refund of a converted (quoted) transaction re-prices
   * `amountOut` and rounds it down to them. Absent in snapshots older than the field: 7.
   */
  amountOutDecimals?: number;
  feeDetails: FeeDetails;
  fundingMethod: string | null;
  quoteId: string | null;
  senderId: string | null;
  receiverId: string | null;
  refundMemo: string | null;
  refundMemoType: MemoType | null;
  /** Deadline for the sender's payment (ISO 8601), or null for none. */
  expiresAt: string | null;
  /** Extra per-transaction fields (legacy SEP-31 `fields.transaction`). */
  fields: Record<string, string>;
}

export interface TransactionContext extends TransactionInput {
  updatedAt: string;
  completedAt: string | null;
  stellarAccountId: string | null;
  stellarMemoType: MemoType | null;
  stellarMemo: string | null;
  /** The credited incoming payment; set once, never replaced. */
  payment: StellarPayment | null;
  stellarTransactionId: string | null;
  /** Received beyond `amountIn`; owed back to the sending anchor. */
  excessAmount: string | null;
  externalTransactionId: string | null;
  statusMessage: string | null;
  requiredInfoMessage: string | null;
  requiredInfoUpdates: Record<string, { description: string; optional?: boolean; choices?: string[] }> | null;
  refunds: Refunds | null;
  /** Increases with each payout request; with the id it forms the payout's idempotency key. */
  payoutAttempt: number;
  /** Refunds requested, not yet confirmed. Absent in snapshots older than refund requests. */
  refundsInFlight?: PendingRefund[];
  /** Set while a failed or unknown payout waits for an operator (error). */
  payoutReconciliation?: PayoutReconciliation | null;
  /** Operator retries of payouts so far: numbers each retry's outbox row. */
  payoutRetries?: number;
}
