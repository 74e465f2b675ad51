/**
 * The `execute_payout` outbox handler: carries out a payout the transaction's actor asked for.
 *
 * The actor recorded the effect `{ attempt, idempotencyKey: '<id>:payout:<attempt>', transaction }` in the
 * database transaction that moved it to `pending_receiver.paying_out`. The payout relay claims the row with
 * a lease and calls this handler, which
 * 1. checks the transaction is still paying out this attempt (an operator may have halted it: then no
 *    money moves);
 * 2. calls the rails with the effect's idempotency key;
 * 3. tells the actor the answer, as PAYOUT_PENDING_EXTERNAL / PAYOUT_COMPLETED / PAYOUT_FAILED /
 *    CUSTOMER_INFO_NEEDED, with the event id `<idempotencyKey>:result`.
 *
 * Crash anywhere, and the row is redone (after the relay's backoff, or when the lease expires): the rails
 * get the SAME key and answer as the first time without paying again, and the event id makes the actor
 * take the answer once. An unknown outcome (the rails threw or timed out) is retried the same way, never as
 * a fresh payout; after the relay's last attempt the row fails for good and the transaction waits in
 * `paying_out` for an operator to reconcile with the key.
 */
import type { Kysely, Transaction } from 'kysely';
import {
  isTransactionStatus,
  type PersistedTransaction,
  type TransactionContext,
  type TransactionEvent,
  type TransactionStatus,
} from '../../machines/index.ts';
import { EventRejectedError } from '../actors/errors.ts';
import type { TransactionHost } from '../actors/transaction-host.ts';
import { flagCustomerFields } from '../db/customers.repository.ts';
import type { Database } from '../db/database.ts';
import type { OutboxRow } from '../db/outbox.table.ts';
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

/** An outbox `execute_payout` payload, as the actor host writes it. */
export interface ExecutePayoutPayload {
  kind: 'execute_payout';
  attempt: number;
  idempotencyKey: string;
  transaction: { status: TransactionStatus; context: TransactionContext };
}

export interface ExecutePayoutOptions {
  db: Kysely<Database>;
  host: Pick<TransactionHost, 'apply'>;
  rails: RailsIntegration;
}

/** The customer type asked about when the rails do not say. */
export const DEFAULT_PAYOUT_CUSTOMER_TYPE = 'sep31-receiver';

/** The event id under which the rails' answer to one payout is applied. */
export function payoutResultEventId(idempotencyKey: string): string {
  return `${idempotencyKey}:result`;
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
      };
  }
}

export function executePayoutHandler(options: ExecutePayoutOptions): EffectHandler {
  const { db, host, rails } = options;
  return async (row, { now, signal }) => {
    const { attempt, idempotencyKey, transaction } = payoutPayload(row);
    const transactionId = transaction.context.id;
    const resultEventId = payoutResultEventId(idempotencyKey);

    const current = await findTransaction(db, transactionId);
    if (!current) throw new PermanentEffectError(`payout ${idempotencyKey}: no transaction ${transactionId}`);
    const context = (current.snapshot as unknown as PersistedTransaction).context;
    if (!isPayingOut(current.state_value) || context.payoutAttempt !== attempt) {
      // Redone after its answer was applied (the row could not be marked done): nothing left to do.
      if (await findEvent(db, transactionId, resultEventId)) return;
      throw new PermanentEffectError(
        `payout ${idempotencyKey} not executed: transaction ${transactionId} is ${current.status} ` +
          `(${JSON.stringify(current.state_value)}, payout attempt ${context.payoutAttempt}), no longer ` +
          `paying out attempt ${attempt}; if an earlier try reached the rails, reconcile with this key`,
      );
    }

    const result = await rails.executeOutgoingTransaction(
      toRailsTransaction(transaction.status, transaction.context),
      { idempotencyKey, signal },
    );
    const event = payoutResultEvent(result, now.toISOString());
    const fields = result.status === 'customer_info_needed' ? (result.fields ?? []) : [];
    try {
      await host.apply(
        { eventId: resultEventId, transactionId, event },
        fields.length === 0 || event.type !== 'CUSTOMER_INFO_NEEDED'
          ? {}
          : {
              alongside: (trx) =>
                flagFieldsOnce(trx, transactionId, resultEventId, {
                  type: event.customerType ?? DEFAULT_PAYOUT_CUSTOMER_TYPE,
                  fields,
                  message: event.message,
                  at: now,
                }),
            },
      );
    } catch (error) {
      if (!(error instanceof EventRejectedError)) throw error;
      throw new PermanentEffectError(
        `payout ${idempotencyKey}: the rails answered ${result.status}, but transaction ${transactionId} ` +
          `is now ${error.status} and refused it (${error.message}); reconcile with this key`,
        { cause: error },
      );
    }
  };
}

/**
 * Records which fields the rails found wrong, with the CUSTOMER_INFO_NEEDED it goes with. `alongside` also
 * runs for a duplicate: then only while that event is still the transaction's latest, so an old answer
 * never re-flags fields a later round has consumed.
 */
async function flagFieldsOnce(
  trx: Transaction<Database>,
  transactionId: string,
  eventId: string,
  request: { type: string; fields: string[]; message: string; at: Date },
): Promise<void> {
  const seen = await findEvent(trx, transactionId, eventId);
  const row = await trx
    .selectFrom('transactions')
    .select('version')
    .where('id', '=', transactionId)
    .executeTakeFirst();
  if (!seen || !row || row.version !== seen.seq) return;
  await flagCustomerFields(trx, { transactionId, ...request });
}

function isPayingOut(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<string, unknown>)['pending_receiver'] === 'paying_out'
  );
}

function payoutPayload(row: OutboxRow): ExecutePayoutPayload {
  const payload = row.payload as Partial<ExecutePayoutPayload> | null;
  const transaction = payload?.transaction;
  if (
    payload?.kind !== 'execute_payout' ||
    typeof payload.idempotencyKey !== 'string' ||
    payload.idempotencyKey === '' ||
    typeof payload.attempt !== 'number' ||
    typeof transaction !== 'object' ||
    transaction === null ||
    typeof transaction.status !== 'string' ||
    !isTransactionStatus(transaction.status) ||
    typeof transaction.context !== 'object' ||
    transaction.context === null ||
    typeof transaction.context.id !== 'string'
  ) {
    throw new PermanentEffectError(
      `outbox row ${row.id}: execute_payout payload needs { attempt, idempotencyKey, transaction }`,
    );
  }
  return payload as ExecutePayoutPayload;
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
  const { host, rails, ...relay } = options;
  return startOutboxRelay({
    ...relay,
    handlers: { execute_payout: executePayoutHandler({ db: relay.db, host, rails }) },
  });
}
