/**
 * SEP-31 transaction statuses, verbatim, with the SEP's meaning.
 * @see https://github.com/stellar/stellar-protocol/blob/master/ecosystem/sep-0031.md#transaction-object
 */
export const TRANSACTION_STATUSES = [
  'pending_receiver',
  'pending_sender',
  'pending_stellar',
  'pending_customer_info_update',
  'pending_transaction_info_update',
  'pending_external',
  'completed',
  'refunded',
  'expired',
  'error',
] as const;

export type TransactionStatus = (typeof TRANSACTION_STATUSES)[number];

export const FINAL_STATUSES: readonly TransactionStatus[] = ['completed', 'refunded', 'expired'];

export const STATUS_DESCRIPTIONS: Record<TransactionStatus, string> = {
  pending_receiver:
    'The receiving anchor is working: checks before payment, or funds received and the payout is being prepared.',
  pending_sender: 'Ready: waiting for the sending anchor to send the Stellar payment.',
  pending_stellar: 'A Stellar transaction has been submitted but is not yet confirmed.',
  pending_customer_info_update: 'SEP-12 customer information was wrong; the sending anchor must update it.',
  pending_transaction_info_update:
    'Transaction fields were wrong; the sending anchor must update them (deprecated flow).',
  pending_external: 'The off-chain payout was sent and is not yet confirmed.',
  completed: 'The receiver has the funds.',
  refunded: 'The funds were returned to the sending anchor.',
  expired: 'The sending anchor never sent the payment.',
  error: 'Something went wrong; an operator must look at it.',
};

export function isTransactionStatus(value: string): value is TransactionStatus {
  return (TRANSACTION_STATUSES as readonly string[]).includes(value);
}
