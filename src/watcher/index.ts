// Public surface of src/watcher/: the Horizon payment watcher service.
export { startPaymentWatcher, LeaseLostError } from './payment-watcher.ts';
export { handlePaymentRecord } from './handle-payment.ts';
export { findPaymentCandidate } from './candidates.ts';

export type { PaymentWatcher, PaymentWatcherOptions, WatcherLog } from './payment-watcher.ts';
export type { HandlePaymentDeps, RecordOutcome, UnmatchedReason } from './handle-payment.ts';
