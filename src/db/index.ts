export { openDatabase } from './connect.ts';
export type { DatabaseHandle, OpenDatabaseOptions } from './connect.ts';
export { migrateToLatest } from './migrate.ts';
export { toJson } from './columns.ts';
export type { BigSerial, Decimal, DefaultJson, DefaultTimestamp, Json, Timestamp } from './columns.ts';
export type { Database, Executor } from './database.ts';

export type {
  NewTransactionRow,
  RequiredInfoUpdates,
  StateValue,
  TransactionRow,
  TransactionRowUpdate,
  TransactionsTable,
} from './transactions.table.ts';
export type {
  NewTransactionEventRow,
  TransactionEventRow,
  TransactionEventsTable,
} from './transaction-events.table.ts';
export { OUTBOX_STATES } from './outbox.table.ts';
export type { NewOutboxRow, OutboxRow, OutboxRowUpdate, OutboxState, OutboxTable } from './outbox.table.ts';
export type { CustomerRow, CustomerRowUpdate, CustomersTable, NewCustomerRow } from './customers.table.ts';
export type { HorizonCursorRow, HorizonCursorsTable, NewHorizonCursorRow } from './horizon-cursors.table.ts';
export type { NewRpcCursorRow, RpcCursorRow, RpcCursorsTable } from './rpc-cursors.table.ts';
export type {
  NewUnmatchedPaymentRow,
  UnmatchedPaymentRow,
  UnmatchedPaymentRowUpdate,
  UnmatchedPaymentsTable,
} from './unmatched-payments.table.ts';

export { claimDue, insertEffects, markDone, markFailed } from './outbox.repository.ts';
export type { ClaimOptions, NewOutboxEffect } from './outbox.repository.ts';
export { getCursor, saveCursor } from './horizon-cursors.repository.ts';
export { getRpcCursor, saveRpcCursor } from './rpc-cursors.repository.ts';
export {
  findUnmatchedPayment,
  listUnmatchedPayments,
  markUnmatchedPaymentRefunded,
  recordUnmatchedPayment,
} from './unmatched-payments.repository.ts';
export type { UnmatchedPayment } from './unmatched-payments.repository.ts';
