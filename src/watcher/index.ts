// Public surface of src/watcher/: the Horizon payment watcher service.
export { startPaymentWatcher, LeaseLostError } from './payment-watcher.ts';
export { handlePaymentRecords } from './handle-payment.ts';
export { findPaymentCandidates } from './candidates.ts';
export { watcherReadiness } from './readiness.ts';

export type { CursorStore, PaymentWatcher, PaymentWatcherOptions, WatcherLog } from './payment-watcher.ts';
export { rpcCursorStore } from './rpc-cursor-store.ts';
export { configuredPaymentSource } from './payment-source.ts';
export type { ConfiguredPaymentSource } from './payment-source.ts';
export type { HandlePaymentsDeps, RecordOutcome, UnmatchedReason } from './handle-payment.ts';
