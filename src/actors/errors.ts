import type { TransactionEventType, TransactionStatus } from '../../machines/index.ts';

export class TransactionNotFoundError extends Error {
  readonly transactionId: string;
  constructor(transactionId: string) {
    super(`transaction not found: ${transactionId}`);
    this.name = 'TransactionNotFoundError';
    this.transactionId = transactionId;
  }
}

/** The current state does not take this event. Nothing was written. */
export class EventRejectedError extends Error {
  readonly transactionId: string;
  readonly status: TransactionStatus;
  readonly eventType: TransactionEventType;
  readonly accepts: TransactionEventType[];
  constructor(
    transactionId: string,
    status: TransactionStatus,
    eventType: TransactionEventType,
    accepts: TransactionEventType[],
    reason: string,
  ) {
    super(`${reason}; accepts: ${accepts.length > 0 ? accepts.join(', ') : 'nothing (final status)'}`);
    this.name = 'EventRejectedError';
    this.transactionId = transactionId;
    this.status = status;
    this.eventType = eventType;
    this.accepts = accepts;
  }
}

/** Someone else wrote the transaction between our read and our write; safe to retry. */
export class VersionConflictError extends Error {
  readonly transactionId: string;
  constructor(transactionId: string, expectedVersion: number) {
    super(`transaction ${transactionId} changed since version ${expectedVersion}`);
    this.name = 'VersionConflictError';
    this.transactionId = transactionId;
  }
}

/**
 * A quote a create of this batch was to take was taken by another database transaction that committed
 * first (another host or commit lane). Safe to retry: the retry reads the quote taken and refuses the create.
 */
export class QuoteClaimLostError extends Error {
  readonly quoteIds: readonly string[];
  constructor(quoteIds: readonly string[]) {
    super(`quotes ${quoteIds.join(', ')} were taken by a concurrent transaction`);
    this.name = 'QuoteClaimLostError';
    this.quoteIds = quoteIds;
  }
}

/** A lost race a batch retries from its reads: a transaction's version, or a quote's claim. */
export function isRetryableConflict(error: unknown): error is VersionConflictError | QuoteClaimLostError {
  return error instanceof VersionConflictError || error instanceof QuoteClaimLostError;
}

/** A unique constraint carrying a money guarantee refused the write (memo taken, payment already credited). */
export class UniquenessError extends Error {
  readonly constraint: string;
  constructor(constraint: string, options?: ErrorOptions) {
    super(`unique constraint refused the write: ${constraint}`, options);
    this.name = 'UniquenessError';
    this.constraint = constraint;
  }
}

/** Another host committed these partitions since this one read them: it is not their owner any more. */
export class OwnershipLostError extends Error {
  readonly partitions: ReadonlySet<number>;
  constructor(partitions: ReadonlySet<number>) {
    super(`partitions ${[...partitions].join(', ')} moved on under this host`);
    this.name = 'OwnershipLostError';
    this.partitions = partitions;
  }
}
