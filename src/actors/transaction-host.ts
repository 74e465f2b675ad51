/**
 * Applying messages to transactions directly, one database transaction per call, through the same code
 * as the actor host's group commit. For tests, fixtures and tools that own the database: production
 * producers publish to the bus instead (`src/actors/commands.ts`), so that one host owns each actor.
 */
import type { Kysely } from 'kysely';
import type {
  TransactionEvent,
  TransactionEventEnvelope,
  TransactionInput,
  TransactionStatus,
} from '../../machines/index.ts';
import type { Config } from '../config/index.ts';
import type { Database } from '../db/database.ts';
import type { BusinessEventKind } from '../effects/business-events.ts';
import {
  EventRejectedError,
  isRetryableConflict,
  TransactionNotFoundError,
  UniquenessError,
} from './errors.ts';
import { transactionAddress, type TransactionMessageBody, type TransactionReply } from './messages.ts';
import { applyTransactionBatch } from './transaction-batch.ts';

export type ApplyOutcome =
  | { outcome: 'applied'; transactionId: string; status: TransactionStatus; version: number }
  | { outcome: 'duplicate'; transactionId: string; status: TransactionStatus; version: number };

export interface TransactionHost {
  /** Creates a transaction, applying its first events (e.g. ACCOUNT_ASSIGNED) atomically with it. */
  create(
    input: TransactionInput,
    options: { eventId: string; then?: TransactionEvent[] },
  ): Promise<ApplyOutcome>;
  /** Applies one event exactly once (by `eventId`). Throws EventRejectedError when the state does not take it. */
  apply(envelope: TransactionEventEnvelope): Promise<ApplyOutcome>;
  /** PUT /transactions/:id/callback: later status changes are told to `url`. */
  registerCallback(
    transactionId: string,
    options: { messageId: string; sendingAnchor: string; url: string },
  ): Promise<ApplyOutcome>;
}

export interface TransactionHostOptions {
  db: Kysely<Database>;
  /**
   * Request payouts by themselves, as the actor host does, once funded transactions' customers of these
   * types are ACCEPTED. Default null: never (tests that step a transaction by hand).
   */
  payoutCustomerTypes?: readonly string[] | null;
  sep12?: Pick<Config['sep12'], 'types'>;
  clock?: () => Date;
  /** Outbox kinds of business events (`businessEventKinds(config)`). Default: none. */
  eventKinds?: readonly BusinessEventKind[];
}

/** Racing writers on one transaction retry this often before giving up. */
const MAX_CONFLICT_RETRIES = 100;

const CONSTRAINTS: Partial<Record<string, string>> = {
  memo_taken: 'transactions_stellar_memo_key',
  already_credited: 'transactions_stellar_operation_id_key',
  exists: 'transactions_pkey',
  quote_used: 'quotes_transaction_id_key',
};

export function createTransactionHost(options: TransactionHostOptions): TransactionHost {
  const { db } = options;
  async function run(
    transactionId: string,
    messageId: string,
    body: TransactionMessageBody,
    eventType: string,
  ) {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await db.transaction().execute((trx) =>
          applyTransactionBatch(trx, [{ messageId, transactionId, body, replyTo: null }], {
            payoutCustomerTypes: options.payoutCustomerTypes ?? null,
            sep12: options.sep12 ?? { types: {} },
            clock: options.clock ?? (() => new Date()),
            eventKinds: options.eventKinds ?? [],
          }),
        );
        return outcomeOf(transactionId, eventType, result.answers[0]!);
      } catch (error) {
        // Another writer won the version race: read again and retry, as the actor host does.
        if (!isRetryableConflict(error) || attempt >= MAX_CONFLICT_RETRIES) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * Math.min(attempt, 10)));
      }
    }
  }
  return {
    create: (input, { eventId, then = [] }) =>
      run(input.id, eventId, { type: 'create', input, then, notAfter: null }, 'CREATED'),
    apply: ({ eventId, transactionId, event }) =>
      run(transactionId, eventId, { type: 'event', event }, event.type),
    registerCallback: (transactionId, { messageId, sendingAnchor, url }) =>
      run(transactionId, messageId, { type: 'register_callback', sendingAnchor, url }, 'register_callback'),
  };
}

function outcomeOf(transactionId: string, eventType: string, answer: TransactionReply): ApplyOutcome {
  if (answer.outcome !== 'refused') return { ...answer, transactionId };
  const constraint = CONSTRAINTS[answer.code];
  if (constraint !== undefined) throw new UniquenessError(constraint);
  if (answer.code === 'not_found') throw new TransactionNotFoundError(transactionId);
  if (answer.code === 'rejected' && answer.status !== null) {
    throw new EventRejectedError(
      transactionId,
      answer.status,
      eventType as never,
      answer.accepts,
      answer.reason,
    );
  }
  throw new Error(`${transactionAddress(transactionId)}: ${answer.code}: ${answer.reason}`);
}
