import type { Kysely, Transaction } from 'kysely';
import {
  invariantViolations,
  persist,
  restore,
  startTransaction,
  stepTransaction,
  type PersistedTransaction,
  type Step,
  type TransactionEvent,
  type TransactionEventEnvelope,
  type TransactionInput,
  type TransactionStatus,
} from '../../machines/index.ts';
import type { Database } from '../db/database.ts';
import { insertEffects } from '../db/outbox.repository.ts';
import {
  appendEvent,
  findEvent,
  insertTransaction,
  lockTransaction,
  updateTransaction,
} from '../db/transactions.repository.ts';
import {
  EventRejectedError,
  TransactionNotFoundError,
  UniquenessError,
  VersionConflictError,
} from './errors.ts';

export type ApplyOutcome =
  | { outcome: 'applied'; transactionId: string; status: TransactionStatus; version: number }
  | { outcome: 'duplicate'; transactionId: string; status: TransactionStatus; version: number };

export interface ApplyOptions {
  alongside?: (trx: Transaction<Database>) => Promise<void>;
}

export interface TransactionHost {
  /** Creates a transaction, optionally applying its first events (e.g. ACCOUNT_ASSIGNED) atomically with it. */
  create(
    input: TransactionInput,
    options: { eventId: string; then?: TransactionEvent[] },
  ): Promise<ApplyOutcome>;
  /**
   * Applies one event exactly once (by `eventId`). Throws EventRejectedError when the state does not take it.
   * `alongside` runs in the same database transaction, after the event (also when it is a duplicate): the
   * Horizon watcher moves its cursor there, so the cursor and the credit commit together or not at all.
   */
  apply(envelope: TransactionEventEnvelope, options?: ApplyOptions): Promise<ApplyOutcome>;
}

const MAX_CONFLICT_RETRIES = 5;

/**
 * The actor host. Every transaction is a passivated actor: its snapshot lives in Postgres, is loaded and
 * locked for one event, stepped by the pure machine, and written back together with the event log and
 * the effects it asked for, in one database transaction. Nothing is kept in memory between events.
 */
export function createTransactionHost({ db }: { db: Kysely<Database> }): TransactionHost {
  async function create(input: TransactionInput, options: { eventId: string; then?: TransactionEvent[] }) {
    return write(async (trx) => {
      const existing = await findEvent(trx, input.id, options.eventId);
      if (existing) return duplicate(input.id, existing);
      const steps: {
        eventId: string;
        event: { type: string };
        statusBefore: TransactionStatus | null;
        step: Step;
      }[] = [];
      let step = startTransaction(input);
      steps.push({
        eventId: options.eventId,
        event: { type: 'CREATED', ...input },
        statusBefore: null,
        step,
      });
      for (const [index, event] of (options.then ?? []).entries()) {
        const before = step.status;
        step = accept(input.id, step, event);
        steps.push({ eventId: `${options.eventId}:${index + 1}`, event, statusBefore: before, step });
      }
      await insertTransaction(trx, input.id, steps.length, step.status, checked(input.id, step));
      for (const [index, entry] of steps.entries()) {
        await record(trx, input.id, index + 1, entry.eventId, entry.event, entry.statusBefore, entry.step);
      }
      return {
        outcome: 'applied' as const,
        transactionId: input.id,
        status: step.status,
        version: steps.length,
      };
    });
  }

  async function apply(
    { eventId, transactionId, event }: TransactionEventEnvelope,
    options: ApplyOptions = {},
  ): Promise<ApplyOutcome> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await write(async (trx) => {
          const row = await lockTransaction(trx, transactionId);
          if (!row) throw new TransactionNotFoundError(transactionId);
          const seen = await findEvent(trx, transactionId, eventId);
          if (seen) {
            await options.alongside?.(trx);
            return duplicate(transactionId, seen);
          }
          const current = restore(row.snapshot as unknown as PersistedTransaction);
          const before = row.status as TransactionStatus;
          const step = accept(transactionId, { snapshot: current, status: before, effects: [] }, event);
          const updated = await updateTransaction(
            trx,
            transactionId,
            row.version,
            step.status,
            checked(transactionId, step),
          );
          if (!updated) throw new VersionConflictError(transactionId, row.version);
          await record(trx, transactionId, row.version + 1, eventId, event, before, step);
          await options.alongside?.(trx);
          return {
            outcome: 'applied' as const,
            transactionId,
            status: step.status,
            version: row.version + 1,
          };
        });
      } catch (error) {
        if (!(error instanceof VersionConflictError) || attempt >= MAX_CONFLICT_RETRIES) throw error;
      }
    }
  }

  async function write<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    try {
      return await db.transaction().execute(work);
    } catch (error) {
      throw translateUniqueViolation(error);
    }
  }

  return { create, apply };
}

function accept(transactionId: string, current: Step, event: TransactionEvent): Step {
  const result = stepTransaction(current.snapshot, event);
  if (!result.accepted) {
    throw new EventRejectedError(transactionId, current.status, event.type, result.accepts, result.reason);
  }
  return result.step;
}

/** Last line of defence: a state that breaks a money invariant is never written. */
function checked(transactionId: string, step: Step): PersistedTransaction {
  const broken = invariantViolations(step.status, step.snapshot.context);
  if (broken.length > 0)
    throw new Error(`transaction ${transactionId} would break invariants: ${broken.join('; ')}`);
  return persist(step.snapshot);
}

async function record(
  trx: Transaction<Database>,
  transactionId: string,
  seq: number,
  eventId: string,
  event: { type: string },
  statusBefore: TransactionStatus | null,
  step: Step,
) {
  await appendEvent(trx, {
    transactionId,
    seq,
    eventId,
    eventType: event.type,
    payload: event,
    statusBefore,
    statusAfter: step.status,
    stateAfter: step.snapshot.value,
  });
  await insertEffects(
    trx,
    // Each effect carries the transaction as it was when the effect arose: a callback sent late (after a
    // retry) still reports the status change it is about, and a payout sees the amounts it was asked for.
    step.effects.map((effect, index) => ({
      transactionId,
      seq,
      kind: effect.kind,
      payload: { ...effect, transaction: { status: step.status, context: step.snapshot.context } },
      idempotencyKey: 'idempotencyKey' in effect ? effect.idempotencyKey : `${transactionId}:${seq}:${index}`,
    })),
  );
}

function duplicate(transactionId: string, seen: { seq: number; status_after: string }): ApplyOutcome {
  return {
    outcome: 'duplicate',
    transactionId,
    status: seen.status_after as TransactionStatus,
    version: seen.seq,
  };
}

function translateUniqueViolation(error: unknown): unknown {
  const e = error as { code?: string; constraint?: string };
  if (e?.code === '23505') return new UniquenessError(e.constraint ?? 'unknown', { cause: error });
  return error;
}
