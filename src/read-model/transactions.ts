/**
 * Queries of the transactions' read model for the HTTP layer. Read only: every change of a transaction is
 * a command to its actor (`src/actors/commands.ts`).
 */
import type { Kysely } from 'kysely';
import type { PersistedTransaction, TransactionStatus } from '../../machines/index.ts';
import type { Database } from '../db/database.ts';
import { findTransaction, lastEventSeq } from '../db/transactions.repository.ts';
import DataLoader from 'dataloader';
import {
  customerStatusFor,
  findCustomerStatusRows,
  type CustomerOwner,
  type CustomerStatusRow,
} from '../db/customers.repository.ts';

/** A transaction as queries see it. */
export interface TransactionView {
  id: string;
  status: TransactionStatus;
  sendingAnchor: string;
  senderId: string | null;
  receiverId: string | null;
  version: number;
  persisted: PersistedTransaction;
  /** The hash of the body of the keyed POST that created it (`Idempotency-Key`), or null. */
  requestHash: string | null;
}

export interface TransactionQueries {
  /** The transaction, if it exists and (with `sendingAnchor`) belongs to that sending anchor. */
  transaction(id: string, sendingAnchor?: string): Promise<TransactionView | undefined>;
  /** The seq of the transaction's latest event of this type, or null. */
  lastEventSeq(id: string, eventType: string): Promise<number | null>;
  /**
   * Customers' SEP-12 status for a type each, as `owner` sees them (null: not the owner's customer), in the
   * order asked. The look-ups of requests that arrive together are one query.
   */
  customerStatuses(
    asked: readonly { id: string; type: string }[],
    owner: CustomerOwner,
  ): Promise<(string | null)[]>;
}

export function transactionQueries(db: Kysely<Database>): TransactionQueries {
  // POSTs read in the same turn of the event loop (its I/O phase) ask together: one query for all of them,
  // sent once that phase is over. Nothing is cached beyond it.
  const customers = new DataLoader<string, CustomerStatusRow | undefined>(
    async (ids) => {
      const rows = new Map((await findCustomerStatusRows(db, ids)).map((row) => [row.id, row]));
      return ids.map((id) => rows.get(id));
    },
    { cache: false, batchScheduleFn: (dispatch) => setImmediate(dispatch) },
  );
  return {
    async transaction(id, sendingAnchor) {
      const row = await findTransaction(db, id, sendingAnchor);
      if (!row) return undefined;
      return {
        id: row.id,
        status: row.status,
        sendingAnchor: row.sending_anchor,
        senderId: row.sender_id,
        receiverId: row.receiver_id,
        version: row.version,
        persisted: row.snapshot as unknown as PersistedTransaction,
        requestHash: row.request_hash,
      };
    },
    lastEventSeq: (id, eventType) => lastEventSeq(db, id, eventType),
    async customerStatuses(asked, owner) {
      const found = await customers.loadMany(asked.map((a) => a.id));
      return asked.map(({ type }, i) => {
        const customer = found[i];
        if (customer instanceof Error) throw customer;
        return customerStatusFor(customer, owner, type);
      });
    },
  };
}
