/**
 * Queries of the transactions' read model for the HTTP layer. Read only: every change of a transaction is
 * a command to its actor (`src/actors/commands.ts`).
 */
import type { Kysely } from 'kysely';
import type { PersistedTransaction, TransactionStatus } from '../../machines/index.ts';
import type { Database } from '../db/database.ts';
import { findTransaction, lastEventSeq } from '../db/transactions.repository.ts';
import { customerStatusesForTypes, type CustomerOwner } from '../db/customers.repository.ts';

/** A transaction as queries see it. */
export interface TransactionView {
  id: string;
  status: TransactionStatus;
  sendingAnchor: string;
  senderId: string | null;
  receiverId: string | null;
  version: number;
  persisted: PersistedTransaction;
}

export interface TransactionQueries {
  /** The transaction, if it exists and (with `sendingAnchor`) belongs to that sending anchor. */
  transaction(id: string, sendingAnchor?: string): Promise<TransactionView | undefined>;
  /** The seq of the transaction's latest event of this type, or null. */
  lastEventSeq(id: string, eventType: string): Promise<number | null>;
  /**
   * Customers' SEP-12 status for a type each, as `owner` sees them (null: not the owner's customer), in the
   * order asked; one query for all.
   */
  customerStatuses(
    asked: readonly { id: string; type: string }[],
    owner: CustomerOwner,
  ): Promise<(string | null)[]>;
}

export function transactionQueries(db: Kysely<Database>): TransactionQueries {
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
      };
    },
    lastEventSeq: (id, eventType) => lastEventSeq(db, id, eventType),
    customerStatuses: (asked, owner) => customerStatusesForTypes(db, asked, owner),
  };
}
