// Public surface of machines/: other folders import only this file.
export { transactionMachine, initialContext } from './transaction/transaction.machine.ts';
export {
  startTransaction,
  stepTransaction,
  restore,
  persist,
  statusOf,
  acceptedEventTypes,
} from './transaction/step.ts';
export { invariantViolations } from './transaction/invariants.ts';
export {
  TRANSACTION_STATUSES,
  FINAL_STATUSES,
  STATUS_DESCRIPTIONS,
  isTransactionStatus,
} from './transaction/statuses.ts';
export { TRANSACTION_EVENT_TYPES } from './transaction/events.ts';
export * as amounts from './amounts.ts';
export { AmountError } from './amounts.ts';

export type { TransactionStatus } from './transaction/statuses.ts';
export type {
  TransactionEvent,
  TransactionEventType,
  TransactionEventEnvelope,
  StellarPayment,
  RefundPayment,
  MemoType,
} from './transaction/events.ts';
export type { TransactionContext, TransactionInput, FeeDetails, Refunds } from './transaction/context.ts';
export type { TransactionEffect, TransactionEffectKind } from './transaction/effects.ts';
export type { TransactionSnapshot, PersistedTransaction, Step, StepResult } from './transaction/step.ts';
