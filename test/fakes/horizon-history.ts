/**
 * The fake Horizon's history: transactions and payment operations in ledger order, indexed per account the way
 * Horizon's participants tables index them, plus cursor paging over those lists.
 *
 * Everything is append-only and every list is sorted by TOID, so a cursor is a binary search and an open stream
 * can keep a plain array index.
 */
import {
  afterLedger,
  buildTransactionRecords,
  horizonTime,
  operationAccounts,
  transactionAccounts,
  type BuiltTransaction,
  type HorizonOperationRecord,
  type HorizonTransactionRecord,
  type TransactionSpec,
} from './horizon-records.ts';

export interface StoredTransaction {
  pt: bigint;
  record: HorizonTransactionRecord;
  successful: boolean;
}

export interface StoredOperation {
  pt: bigint;
  record: HorizonOperationRecord;
  successful: boolean;
  transaction: StoredTransaction;
}

export type Stored = StoredTransaction | StoredOperation;

export interface PageQuery {
  /** Exclusive bound: asc returns ids above it, desc ids below it. */
  cursor: bigint;
  order: 'asc' | 'desc';
  limit: number;
  includeFailed: boolean;
}

export interface HorizonHistory {
  /** The latest closed ledger (the first ledger when nothing was appended). */
  readonly latestLedger: number;
  closeTime(ledger: number): string;
  /**
   * Builds and appends one transaction. It lands in `ledger` (default: a new ledger after the latest); a ledger
   * before the latest is refused, so ids only grow.
   */
  append(spec: TransactionSpec, options?: { ledger?: number }): BuiltTransaction;
  /** Live, sorted list; `account` undefined = all. The same array keeps growing as records are appended. */
  transactions(account?: string): readonly StoredTransaction[];
  payments(account?: string): readonly StoredOperation[];
  transaction(hash: string): { stored: StoredTransaction; record: HorizonTransactionRecord } | undefined;
  operation(id: string): StoredOperation | undefined;
  /** Called after every append. */
  onAppend(listener: () => void): () => void;
}

export const ALL = '*';
const LEDGER_SECONDS = 5;

export function createHorizonHistory(options: {
  /** Read at each append (the fake learns its port after creating the history). */
  baseUrl: () => string;
  networkPassphrase: string;
  firstLedger: number;
  firstLedgerClosedAt: string;
}): HorizonHistory {
  const firstCloseMs = Date.parse(options.firstLedgerClosedAt);
  const transactionsBy = new Map<string, StoredTransaction[]>([[ALL, []]]);
  const paymentsBy = new Map<string, StoredOperation[]>([[ALL, []]]);
  const byHash = new Map<string, { stored: StoredTransaction; record: HorizonTransactionRecord }>();
  const byId = new Map<string, StoredOperation>();
  const listeners = new Set<() => void>();
  let latestLedger = options.firstLedger;
  let txCountInLatest = 0;

  function listOf<T>(lists: Map<string, T[]>, account: string): T[] {
    let list = lists.get(account);
    if (!list) lists.set(account, (list = []));
    return list;
  }

  function closeTime(ledger: number): string {
    return horizonTime(new Date(firstCloseMs + (ledger - options.firstLedger) * LEDGER_SECONDS * 1000));
  }

  return {
    get latestLedger() {
      return latestLedger;
    },
    closeTime,
    append(spec, appendOptions = {}) {
      const ledger = appendOptions.ledger ?? latestLedger + 1;
      if (!Number.isInteger(ledger) || ledger < latestLedger)
        throw new RangeError(
          `ledger ${ledger} is before the latest ledger ${latestLedger}; history is append-only`,
        );
      const txIndex = ledger === latestLedger ? txCountInLatest + 1 : 1;
      const built = buildTransactionRecords(
        spec,
        { ledger, txIndex, closedAt: closeTime(ledger) },
        { baseUrl: options.baseUrl(), networkPassphrase: options.networkPassphrase },
      );
      latestLedger = ledger;
      txCountInLatest = txIndex;

      const stored: StoredTransaction = {
        pt: BigInt(built.transaction.paging_token),
        record: built.transaction,
        successful: built.transaction.successful,
      };
      for (const account of [ALL, ...transactionAccounts(built)])
        listOf(transactionsBy, account).push(stored);
      byHash.set(built.transaction.hash, { stored, record: built.transaction });
      if (built.innerHash && built.innerView)
        byHash.set(built.innerHash, { stored, record: built.innerView });
      for (const record of built.operations) {
        const op: StoredOperation = {
          pt: BigInt(record.id),
          record,
          successful: stored.successful,
          transaction: stored,
        };
        byId.set(record.id, op);
        for (const account of [ALL, ...operationAccounts(record)]) listOf(paymentsBy, account).push(op);
      }
      for (const listener of listeners) listener();
      return built;
    },
    transactions: (account = ALL) => listOf(transactionsBy, account),
    payments: (account = ALL) => listOf(paymentsBy, account),
    transaction: (hash) => byHash.get(hash),
    operation: (id) => byId.get(id),
    onAppend(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** One page of `list` after (asc) or before (desc) the cursor, skipping failed ones unless asked. */
export function page<T extends Stored>(list: readonly T[], query: PageQuery): T[] {
  const records: T[] = [];
  if (query.order === 'asc') {
    for (let i = firstAfter(list, query.cursor); i < list.length && records.length < query.limit; i++) {
      const item = list[i]!;
      if (item.successful || query.includeFailed) records.push(item);
    }
  } else {
    for (let i = firstAfter(list, query.cursor - 1n) - 1; i >= 0 && records.length < query.limit; i--) {
      const item = list[i]!;
      if (item.successful || query.includeFailed) records.push(item);
    }
  }
  return records;
}

/** Index of the first item whose id is greater than `cursor`. */
export function firstAfter(list: readonly Stored[], cursor: bigint): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.pt <= cursor) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Horizon's `cursor=now` for a history whose latest ledger is `latestLedger`. */
export function nowCursor(latestLedger: number): bigint {
  return afterLedger(latestLedger);
}
