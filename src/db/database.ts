import type { Kysely, Transaction } from 'kysely';
import type { CustomerReviewsDueTable } from './customer-reviews.table.ts';
import type { CustomersTable, CustomerTables } from './customers.table.ts';
import type { HorizonContactsTable } from './horizon-contacts.table.ts';
import type { HorizonCursorsTable } from './horizon-cursors.table.ts';
import type { OutboxTable } from './outbox.table.ts';
import type { PartitionOffsetsTable } from './partition-offsets.table.ts';
import type { QuotesTable } from './quotes.table.ts';
import type { RefundsTable } from './refunds.table.ts';
import type { ReferenceRailsPayoutsTable } from './reference-rails.table.ts';
import type { RpcCursorsTable } from './rpc-cursors.table.ts';
import type { RefusedMessagesTable } from './refused-messages.table.ts';
import type { Sep10ChallengesTable } from './sep10-challenges.table.ts';
import type { TransactionEventsTable } from './transaction-events.table.ts';
import type { TransactionStateCountsTable } from './transaction-state-counts.table.ts';
import type { TransactionsTable } from './transactions.table.ts';
import type { UnmatchedPaymentsTable } from './unmatched-payments.table.ts';
import type { LeasesTable } from './leases.table.ts';
import type { UploadChunksTable, UploadsTable } from './uploads.table.ts';

export interface Database extends CustomerTables {
  transactions: TransactionsTable;
  transaction_events: TransactionEventsTable;
  transaction_state_counts: TransactionStateCountsTable;
  outbox: OutboxTable;
  customers: CustomersTable;
  horizon_cursors: HorizonCursorsTable;
  horizon_contacts: HorizonContactsTable;
  rpc_cursors: RpcCursorsTable;
  unmatched_payments: UnmatchedPaymentsTable;
  sep10_challenges: Sep10ChallengesTable;
  reference_rails_payouts: ReferenceRailsPayoutsTable;
  leases: LeasesTable;
  partition_offsets: PartitionOffsetsTable;
  refused_messages: RefusedMessagesTable;
  uploads: UploadsTable;
  upload_chunks: UploadChunksTable;
  quotes: QuotesTable;
  customer_reviews_due: CustomerReviewsDueTable;
  refunds: RefundsTable;
}

/** What repositories take: the database, or a transaction on it. */
export type Executor = Kysely<Database> | Transaction<Database>;
