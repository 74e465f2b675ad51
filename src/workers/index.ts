// Public surface of src/workers: the interval workers and the payout effect.
export {
  PAYOUT_CUSTOMER_TYPES,
  payoutCustomerTypes,
  payoutRequestEventId,
  runExecuteOutgoingPass,
} from './execute-outgoing.ts';
export type { ExecuteOutgoingCounts, ExecuteOutgoingDeps } from './execute-outgoing.ts';
export { pollEventId, pollResultEvent, runPollOutgoingPass } from './poll-outgoing.ts';
export type { PollOutgoingCounts, PollOutgoingDeps } from './poll-outgoing.ts';
export { expireEventId, runExpirePass } from './expire.ts';
export { runReviewCustomersPass } from './review-customers.ts';
export type { ReviewCustomersCounts, ReviewCustomersDeps } from './review-customers.ts';
export type { ExpireCounts, ExpireDeps } from './expire.ts';
export {
  DEFAULT_PAYOUT_CUSTOMER_TYPE,
  DEFAULT_PAYOUT_RELAY_SETTINGS,
  executePayoutHandler,
  payoutResultEvent,
  payoutResultEventId,
  startPayoutRelay,
} from './execute-payout-effect.ts';
export type {
  ExecutePayoutOptions,
  ExecutePayoutPayload,
  PayoutRelayOptions,
} from './execute-payout-effect.ts';
export { startWorker } from './start-worker.ts';
export type { RunningWorker, WorkerDepsByKind, WorkerKind, WorkerLoopSettings } from './start-worker.ts';
export { toRailsTransaction } from './rails-transaction.ts';
export { DEFAULT_BATCH_SIZE } from './worker-deps.ts';
export type { PassDeps, WorkerLog } from './worker-deps.ts';
