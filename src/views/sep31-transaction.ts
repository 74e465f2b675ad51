import { amounts, type TransactionContext, type TransactionStatus } from '../../machines/index.ts';

/**
 * A transaction as SEP-31 `GET /transactions/:id` shows it, and as callbacks send it. Wire names are
 * snake_case as in the SEP; absent values are omitted rather than null, which strict client schemas prefer.
 * @see https://github.com/stellar/stellar-protocol/blob/master/ecosystem/sep-0031.md#get-transaction
 */
export interface Sep31Transaction {
  id: string;
  status: TransactionStatus;
  status_message?: string;
  amount_in: string;
  amount_in_asset: string;
  amount_out: string;
  amount_out_asset: string;
  amount_fee: string;
  amount_fee_asset: string;
  fee_details: {
    total: string;
    asset: string;
    details?: { name: string; description?: string; amount: string }[];
  };
  quote_id?: string;
  stellar_account_id?: string;
  stellar_memo_type?: string;
  stellar_memo?: string;
  started_at: string;
  updated_at: string;
  completed_at?: string;
  stellar_transaction_id?: string;
  external_transaction_id?: string;
  refunded: boolean;
  refunds?: {
    amount_refunded: string;
    amount_fee: string;
    payments: { id: string; id_type: 'stellar'; amount: string; fee: string }[];
  };
  required_info_message?: string;
  required_info_updates?: {
    transaction: Record<string, { description: string; optional?: boolean; choices?: string[] }>;
  };
}

const amount = (value: string) => amounts.normalizeAmount(value);
const iso = (value: string) => new Date(value).toISOString();

/** Renders from the machine's own state (the persisted snapshot, or an outbox effect's copy of it). */
export function toSep31Transaction(status: TransactionStatus, c: TransactionContext): Sep31Transaction {
  const view: Sep31Transaction = {
    id: c.id,
    status,
    amount_in: amount(c.amountIn),
    amount_in_asset: c.amountInAsset,
    amount_out: amount(c.amountOut),
    amount_out_asset: c.amountOutAsset,
    amount_fee: amount(c.feeDetails.total),
    amount_fee_asset: c.feeDetails.asset,
    fee_details: {
      total: amount(c.feeDetails.total),
      asset: c.feeDetails.asset,
      ...(c.feeDetails.details && {
        details: c.feeDetails.details.map((d) => ({ ...d, amount: amount(d.amount) })),
      }),
    },
    started_at: iso(c.startedAt),
    updated_at: iso(c.updatedAt),
    refunded: status === 'refunded',
  };
  if (c.statusMessage !== null) view.status_message = c.statusMessage;
  if (c.quoteId !== null) view.quote_id = c.quoteId;
  if (c.stellarAccountId !== null) view.stellar_account_id = c.stellarAccountId;
  if (c.stellarMemoType !== null) view.stellar_memo_type = c.stellarMemoType;
  if (c.stellarMemo !== null) view.stellar_memo = c.stellarMemo;
  if (c.completedAt !== null) view.completed_at = iso(c.completedAt);
  if (c.stellarTransactionId !== null) view.stellar_transaction_id = c.stellarTransactionId;
  if (c.externalTransactionId !== null) view.external_transaction_id = c.externalTransactionId;
  if (c.refunds !== null) {
    view.refunds = {
      amount_refunded: amount(c.refunds.amountRefunded),
      amount_fee: amount(c.refunds.amountFee),
      payments: c.refunds.payments.map((p) => ({
        id: p.id,
        id_type: 'stellar',
        amount: amount(p.amount),
        fee: amount(p.fee),
      })),
    };
  }
  if (c.requiredInfoMessage !== null) view.required_info_message = c.requiredInfoMessage;
  if (status === 'pending_transaction_info_update' && c.requiredInfoUpdates !== null) {
    view.required_info_updates = { transaction: c.requiredInfoUpdates };
  }
  return view;
}
