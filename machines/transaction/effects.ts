import type { TransactionStatus } from './statuses.ts';

/**
 * Side effects a transition asks for. The machine only records them; the actor host writes them to
 * the outbox in the same database transaction as the new state, and the relay carries them out.
 * `idempotencyKey` is what the outside world sees (e.g. the rails): a retry of the same effect reuses it.
 */
export type TransactionEffect =
  | { kind: 'status_changed'; status: TransactionStatus }
  | { kind: 'execute_payout'; attempt: number; idempotencyKey: string }
  | { kind: 'refund_excess'; amount: string; idempotencyKey: string };

export type TransactionEffectKind = TransactionEffect['kind'];
