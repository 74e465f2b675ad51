/**
 * The `execute_payout` outbox handler: carries out a payout the transaction's actor asked for.
 *
 * The actor recorded the effect `{ attempt, idempotencyKey: '<id>:payout:<attempt>', transaction }` in the
 * database transaction that moved it to `pending_receiver.paying_out`. The payout relay claims the row with
 * a lease and calls this handler, which
 * 1. checks the transaction is still paying out this attempt (an operator may have halted it: then no
 *    money moves);
 * 2. calls the rails with the effect's idempotency key;
 * 3. publishes the answer to the actor on the bus, as PAYOUT_PENDING_EXTERNAL / PAYOUT_COMPLETED /
 *    PAYOUT_FAILED / CUSTOMER_INFO_NEEDED, with the event id `<idempotencyKey>:result`; the row is done
 *    once the bus holds it.
 *
 * Crash anywhere, and the row is redone (after the relay's backoff, or when the lease expires): the rails
 * get the SAME key and answer as the first time without paying again, and the event id makes the actor
 * take the answer once (an answer its state no longer takes is recorded in `refused_messages`). An unknown outcome (the rails threw or timed out) is retried the same way, never as
 * a fresh payout; on the relay's last attempt an unknown outcome is told to the actor as PAYOUT_UNKNOWN,
 * which moves the transaction to `error` with the payout to reconcile (the rails' last answer in its
 * status message). Only an operator resolves it: PAYOUT_RETRY has this handler try the SAME key again
 * (a new outbox row, `retry` n, whose answer has its own event id), PAYOUT_CONFIRMED marks it paid, or
 * a refund returns the funds.
 */
import type { Kysely } from 'kysely';
import type { PersistedTransaction, TransactionEvent } from '../../machines/index.ts';
import { transactionEventMessage } from '../actors/messages.ts';
import { crashPoint } from '../crash-points.ts';
import type { EventBus } from '../bus/index.ts';
import type { Database } from '../db/database.ts';
import { readPayload } from '../effects/payloads.ts';
import { findEvent, findTransaction } from '../db/transactions.repository.ts';
import {
  PermanentEffectError,
  startOutboxRelay,
  type EffectHandler,
  type OutboxRelay,
  type OutboxRelayOptions,
} from '../effects/relay.ts';
import type { ExecuteOutgoingResult, RailsIntegration } from '../integrations/rails-integration.ts';
import { toRailsTransaction } from './rails-transaction.ts';

export type { ExecutePayoutPayload } from '../effects/payloads.ts';

export interface ExecutePayoutOptions {
  db: Kysely<Database>;
  bus: Pick<EventBus, 'publish'>;
  rails: RailsIntegration;
  /** The relay's last attempt: an unknown outcome then goes to reconciliation. Default: never. */
  maxAttempts?: number;
}

/** The customer type asked about when the rails do not say. */
export const DEFAULT_PAYOUT_CUSTOMER_TYPE = 'sep31-receiver';

/** The event id under which the rails' answer to one payout (or to an operator's retry n) is applied. */
export function payoutResultEventId(idempotencyKey: string, retry = 0): string {
  return retry > 0 ? `${idempotencyKey}:retry:${retry}:result` : `${idempotencyKey}:result`;
}

/** The event id of "no answer after every attempt" for one payout (or retry). */
export function payoutUnknownEventId(idempotencyKey: string, retry = 0): string {
  return `${payoutResultEventId(idempotencyKey, retry)}:unknown`;
}

/** The machine event for the rails' answer to a payout. */
export function payoutResultEvent(result: ExecuteOutgoingResult, at: string): TransactionEvent {
  const message = result.message !== undefined ? { message: result.message } : {};
  switch (result.status) {
    case 'pending_external':
      return {
        type: 'PAYOUT_PENDING_EXTERNAL',
        at,
        externalTransactionId: result.externalTransactionId,
        ...message,
      };
    case 'completed':
      return {
        type: 'PAYOUT_COMPLETED',
        at,
        ...(result.externalTransactionId !== undefined && {
          externalTransactionId: result.externalTransactionId,
        }),
        ...message,
      };
    case 'failed':
      return { type: 'PAYOUT_FAILED', at, message: result.message };
    case 'customer_info_needed':
      return {
        type: 'CUSTOMER_INFO_NEEDED',
        at,
        message: result.message,
        customerType: result.customerType ?? DEFAULT_PAYOUT_CUSTOMER_TYPE,
        ...(result.fields !== undefined && result.fields.length > 0 && { fields: [...result.fields] }),
      };
  }
}

export function executePayoutHandler(options: ExecutePayoutOptions): EffectHandler {
  const { db, bus, rails } = options;
  return async (row, { now, signal, attempt: relayAttempt }) => {
    const { attempt, idempotencyKey, transaction, retry = 0 } = readPayload(row, 'execute_payout');
    const transactionId = transaction.context.id;
    const resultEventId = payoutResultEventId(idempotencyKey, retry);

    const current = await findTransaction(db, transactionId);
    if (!current) throw new PermanentEffectError(`payout ${idempotencyKey}: no transaction ${transactionId}`);
    const context = (current.snapshot as unknown as PersistedTransaction).context;
    if (!isPayingOut(current.state_value) || context.payoutAttempt !== attempt) {
      // Redone after its answer was applied (the row could not be marked done): nothing left to do.
      if (await findEvent(db, transactionId, resultEventId)) return;
      if (await findEvent(db, transactionId, payoutUnknownEventId(idempotencyKey, retry))) return;
      throw new PermanentEffectError(
        `payout ${idempotencyKey} not executed: transaction ${transactionId} is ${current.status} ` +
          `(${JSON.stringify(current.state_value)}, payout attempt ${context.payoutAttempt}), no longer ` +
          `paying out attempt ${attempt}; if an earlier try reached the rails, reconcile with this key`,
      );
    }

    let result: ExecuteOutgoingResult;
    try {
      result = await rails.executeOutgoingTransaction(
        toRailsTransaction(transaction.status, transaction.context),
        { idempotencyKey, signal },
      );
    } catch (error) {
      if (options.maxAttempts === undefined || relayAttempt < options.maxAttempts) throw error;
      // The last attempt, still no answer: the actor goes to reconciliation instead of waiting for ever.
      const message = error instanceof Error ? error.message : String(error);
      await bus.publish(
        transactionEventMessage(transactionId, payoutUnknownEventId(idempotencyKey, retry), {
          type: 'PAYOUT_UNKNOWN',
          at: now.toISOString(),
          message: `no answer from the rails after ${relayAttempt} attempts: ${message}`,
        }),
      );
      return;
    }
    crashPoint('payout.booked');
    await bus.publish(
      transactionEventMessage(transactionId, resultEventId, payoutResultEvent(result, now.toISOString())),
    );
  };
}

function isPayingOut(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<string, unknown>)['pending_receiver'] === 'paying_out'
  );
}

/** Suggested payout relay settings: patient retries (same key each time), up to about a day. */
export const DEFAULT_PAYOUT_RELAY_SETTINGS = {
  intervalMs: 1_000,
  batchSize: 10,
  leaseMs: 120_000,
  handlerTimeoutMs: 60_000,
  maxAttempts: 40,
  backoff: { initialMs: 5_000, factor: 2, maxMs: 3_600_000 },
} as const;

export type PayoutRelayOptions = Omit<OutboxRelayOptions, 'handlers'> & Omit<ExecutePayoutOptions, 'db'>;

/**
 * An outbox relay that carries out payouts only (it claims `execute_payout` rows, leaving the callbacks to
 * the callback relay): its lease is the payout's claim, which expires if the process dies.
 */
export function startPayoutRelay(options: PayoutRelayOptions): OutboxRelay {
  const { bus, rails, ...relay } = options;
  return startOutboxRelay({
    ...relay,
    handlers: {
      execute_payout: executePayoutHandler({ db: relay.db, bus, rails, maxAttempts: relay.maxAttempts }),
    },
  });
}
