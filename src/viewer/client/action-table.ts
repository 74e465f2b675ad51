// The one table from machine events to operator API methods (JSON-RPC 2.0, named as the Stellar Anchor
// Platform's). An action is offered when the transaction's state accepts its event: the server's `accepts`, read
// from the machine definition. No DOM here: the browser test reads the same table.

/** A field the operator fills in before confirming. */
export interface Field {
  name: string;
  label: string;
  /** Decimal amounts are checked as such; text is free. */
  kind: 'text' | 'amount';
  optional?: boolean;
}

export interface Action {
  /** The machine event the call sends: the action is offered when the state accepts it. */
  event: string;
  method: string;
  label: string;
  fields: Field[];
  /** The params besides `transaction_id`, from the filled fields. */
  params(values: Record<string, string>): Record<string, unknown>;
}

const message = (values: Record<string, string>) => (values.message ? { message: values.message } : {});

/** The one table from machine events to operator methods. */
export const ACTIONS: readonly Action[] = [
  {
    event: 'REFUND_REQUESTED',
    method: 'do_refund',
    label: 'Refund (Mooring sends it)',
    fields: [{ name: 'amount', label: 'Amount (empty: all that is left)', kind: 'amount', optional: true }],
    params: (v) => (v.amount ? { amount: v.amount } : {}),
  },
  {
    event: 'REFUND_SENT',
    method: 'notify_refund_sent',
    label: 'Refund sent by the business',
    fields: [
      { name: 'id', label: 'Stellar transaction hash', kind: 'text' },
      { name: 'amount', label: 'Amount', kind: 'amount' },
      { name: 'fee', label: 'Fee', kind: 'amount' },
    ],
    params: (v) => ({ refund: { id: v.id, amount: { amount: v.amount }, amount_fee: { amount: v.fee } } }),
  },
  {
    event: 'PAYOUT_RETRY',
    method: 'resolve_payout',
    label: 'Retry the payout (same idempotency key)',
    fields: [],
    params: () => ({ action: 'retry' }),
  },
  {
    event: 'PAYOUT_CONFIRMED',
    method: 'resolve_payout',
    label: 'Resolve the payout: paid',
    fields: [{ name: 'message', label: 'Message', kind: 'text', optional: true }],
    params: (v) => ({ action: 'mark_paid', ...message(v) }),
  },
  {
    event: 'CUSTOMER_INFO_NEEDED',
    method: 'request_customer_info_update',
    label: 'Ask for customer info',
    fields: [{ name: 'message', label: 'Message', kind: 'text' }],
    params: (v) => message(v),
  },
  {
    event: 'RECOVER',
    method: 'notify_transaction_recovery',
    label: 'Recover',
    fields: [{ name: 'message', label: 'Message', kind: 'text', optional: true }],
    params: (v) => message(v),
  },
  {
    event: 'EXPIRE_NOW',
    method: 'notify_transaction_expired',
    label: 'Expire',
    fields: [{ name: 'message', label: 'Message', kind: 'text', optional: true }],
    params: (v) => message(v),
  },
  {
    event: 'ERROR',
    method: 'notify_transaction_error',
    label: 'Mark as error',
    fields: [{ name: 'message', label: 'Reason', kind: 'text' }],
    params: (v) => message(v),
  },
];

/** Refunding an unmatched payment (no transaction event: the payment was never credited). */
export const REFUND_UNMATCHED = 'refund_unmatched_payment';

/** The actions a transaction accepting `accepts` offers, in the table's order. */
export function actionsFor(accepts: readonly string[]): Action[] {
  return ACTIONS.filter((action) => accepts.includes(action.event));
}
