import type { TransactionStatus } from './statuses.ts';

/**
 * Side effects a transition asks for. The machine only records them; the actor host writes them to
 * the outbox in the same database transaction as the new state, and the relay carries them out.
 * `idempotencyKey` is what the outside world sees (e.g. the rails): a retry of the same effect reuses it.
 */
export type TransactionEffect =
  | { kind: 'status_changed'; status: TransactionStatus }
  | {
      kind: 'execute_payout';
      attempt: number;
      idempotencyKey: string;
      /** An operator's retry of the same payout (reconciliation): 1, 2, ...; absent on the first try. */
      retry?: number;
      /** The outbox row's own key when it is not `idempotencyKey` (a retry keeps the rails' key). */
      outboxKey?: string;
    }
  | { kind: 'refund_excess'; amount: string; idempotencyKey: string }
  /** Mooring sends a requested refund on Stellar; `idempotencyKey` is the refund id. */
  | {
      kind: 'send_refund';
      refundId: string;
      amount: string;
      fee: string;
      excess: boolean;
      idempotencyKey: string;
    };

export type TransactionEffectKind = TransactionEffect['kind'];
