/**
 * What the operator API reads: transactions of every sending anchor (one, or a page filtered by status),
 * and the payments that could not be credited. Read only: the operator's actions are commands to actors.
 */
import type { Kysely } from 'kysely';
import type { PersistedTransaction, TransactionStatus } from '../../machines/index.ts';
import type { Database } from '../db/database.ts';
import type { UnmatchedPaymentRow } from '../db/unmatched-payments.table.ts';

/** A transaction as the operator sees it: any sending anchor's. */
export interface OperatorTransactionRow {
  id: string;
  status: TransactionStatus;
  sendingAnchor: string;
  version: number;
  persisted: PersistedTransaction;
}

export interface TransactionPage {
  statuses?: readonly TransactionStatus[];
  /** `created_at` is SEP-31's `started_at`. */
  orderBy: 'created_at' | 'updated_at';
  order: 'asc' | 'desc';
  /** From 0. */
  pageNumber: number;
  pageSize: number;
}

export interface UnmatchedPage {
  /** Only those not refunded yet. */
  unrefundedOnly: boolean;
  pageNumber: number;
  pageSize: number;
}

export interface OperatorQueries {
  transaction(id: string): Promise<OperatorTransactionRow | undefined>;
  transactions(page: TransactionPage): Promise<OperatorTransactionRow[]>;
  /** Oldest first. */
  unmatchedPayments(page: UnmatchedPage): Promise<UnmatchedPaymentRow[]>;
}

const COLUMNS = ['id', 'status', 'sending_anchor', 'version', 'snapshot'] as const;
const ORDER_COLUMNS = { created_at: 'started_at', updated_at: 'updated_at' } as const;

function toRow(row: {
  id: string;
  status: TransactionStatus;
  sending_anchor: string;
  version: number;
  snapshot: unknown;
}): OperatorTransactionRow {
  return {
    id: row.id,
    status: row.status,
    sendingAnchor: row.sending_anchor,
    version: row.version,
    persisted: row.snapshot as PersistedTransaction,
  };
}

export function operatorQueries(db: Kysely<Database>): OperatorQueries {
  return {
    async transaction(id) {
      const row = await db.selectFrom('transactions').select(COLUMNS).where('id', '=', id).executeTakeFirst();
      return row && toRow(row);
    },
    async transactions(page) {
      let query = db
        .selectFrom('transactions')
        .select(COLUMNS)
        .orderBy(ORDER_COLUMNS[page.orderBy], page.order)
        // Ties (a burst in one millisecond) keep one order across pages.
        .orderBy('id', page.order)
        .limit(page.pageSize)
        .offset(page.pageNumber * page.pageSize);
      if (page.statuses && page.statuses.length > 0) query = query.where('status', 'in', [...page.statuses]);
      return (await query.execute()).map(toRow);
    },
    async unmatchedPayments(page) {
      let query = db
        .selectFrom('unmatched_payments')
        .selectAll()
        .orderBy('id')
        .limit(page.pageSize)
        .offset(page.pageNumber * page.pageSize);
      if (page.unrefundedOnly) query = query.where('refunded_at', 'is', null);
      return query.execute();
    },
  };
}
