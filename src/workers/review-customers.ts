/**
 * The review worker: customer reviews still owed (the business server was away, or left fields PROCESSING)
 * are asked again once due, by a `review` message to the customer's actor, which calls the integration
 * (`recheck`) and reschedules with backoff or clears. One message id per attempt, so a pass that finds the
 * same row again before the actor took it publishes a duplicate.
 */
import { customerReviewMessage } from '../actors/messages.ts';
import { dueReviews } from '../db/customer-reviews.repository.ts';
import { DEFAULT_BATCH_SIZE, type PassDeps } from './worker-deps.ts';

export type ReviewCustomersDeps = PassDeps;

export interface ReviewCustomersCounts {
  /** Customers whose review was asked for again. */
  due: number;
}

export async function runReviewCustomersPass(deps: ReviewCustomersDeps): Promise<ReviewCustomersCounts> {
  const now = (deps.clock ?? (() => new Date()))();
  // One page per pass: what is not taken now is still due at the next.
  const rows = await dueReviews(deps.db, now, deps.batchSize ?? DEFAULT_BATCH_SIZE);
  await deps.bus.publishMany(
    rows.map((row) =>
      customerReviewMessage({ id: row.customer_id, account: row.account, memo: row.memo }, row.attempts),
    ),
  );
  return { due: rows.length };
}
