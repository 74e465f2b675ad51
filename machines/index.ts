// Public surface of machines/: other folders import only this file.
export {
  transactionMachine,
  initialContext,
  paidAfterQuoteExpired,
  creditedAmount,
  refundableAmount,
} from './transaction/transaction.machine.ts';
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
  RefundSender,
  MemoType,
} from './transaction/events.ts';
export type {
  TransactionContext,
  TransactionInput,
  FeeDetails,
  Refunds,
  PendingRefund,
  PayoutReconciliation,
} from './transaction/context.ts';
export type { TransactionEffect, TransactionEffectKind } from './transaction/effects.ts';
export type { TransactionSnapshot, PersistedTransaction, Step, StepResult } from './transaction/step.ts';

// SEP-12 customer status (per customer type) and the SEP-9 field vocabulary.
export { customerMachine, missingFields } from './customer/customer.machine.ts';
export {
  startCustomer,
  stepCustomer,
  stepCustomerAll,
  persistCustomer,
  restoreCustomer,
  customerStatusOf,
  acceptedCustomerEvents,
  fieldStatusOf,
  fieldsToSend,
} from './customer/step.ts';
export {
  CUSTOMER_STATUSES,
  CUSTOMER_STATUS_DESCRIPTIONS,
  FIELD_STATUSES,
  isCustomerStatus,
  worstStatus,
} from './customer/statuses.ts';
export { CUSTOMER_EVENT_TYPES } from './customer/events.ts';
export { SEP9_FIELDS, isSep9Field, describeSep9Field } from './customer/sep9-fields.ts';
export type { CustomerStatus, FieldStatus } from './customer/statuses.ts';
export type { CustomerEvent, CustomerEventType } from './customer/events.ts';
export type { CustomerContext, CustomerInput } from './customer/customer.machine.ts';
export type { CustomerSnapshot, PersistedCustomer, CustomerStepResult } from './customer/step.ts';
export type { Sep9Field, Sep9FieldType } from './customer/sep9-fields.ts';
export { transitionKey } from './pure-transition.ts';
