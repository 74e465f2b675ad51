// Public surface of streams/: other folders import only this file.
export {
  HEARTBEAT,
  SilenceError,
  StreamEndedError,
  backoffDelay,
  isAfter,
  isHeartbeat,
  watchPayments,
} from './horizon-payments.ts';
export { inBatches } from './batches.ts';
export { PAYMENT_TYPES, canonicalMemo, incomingPayment, matchPayment, paymentLookupKey } from './match.ts';

export type {
  Backoff,
  Heartbeat,
  Paged,
  PaymentPage,
  PaymentSource,
  ReconnectInfo,
  WatchPaymentsOptions,
} from './horizon-payments.ts';
export type {
  HorizonPaymentRecord,
  HorizonTransactionAttr,
  IgnoreReason,
  IncomingPayment,
  MatchContext,
  MatchResult,
  MatchUnmatchedReason,
  PaymentCandidate,
  PaymentLookupKey,
  PaymentReceived,
} from './match.ts';
