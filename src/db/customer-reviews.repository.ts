import type { CustomerReviewDueRow } from './customer-reviews.table.ts';
import type { Executor } from './database.ts';

/** First retry of an owed review after this; doubled per attempt up to the cap. */
export const REVIEW_RETRY_INITIAL_MS = 5_000;
export const REVIEW_RETRY_MAX_MS = 15 * 60_000;

/** When the next review is due after `attempts` reviews that did not decide. */
export function nextReviewAt(now: Date, attempts: number): Date {
  const delay = Math.min(REVIEW_RETRY_MAX_MS, REVIEW_RETRY_INITIAL_MS * 2 ** Math.max(0, attempts - 1));
  return new Date(now.getTime() + delay);
}

/** Records (or pushes back) an owed review: one row per customer. */
export async function scheduleReview(
  db: Executor,
  customer: { id: string; account: string; memo: string | null },
  now: Date,
): Promise<void> {
  const current = await db
    .selectFrom('customer_reviews_due')
    .select('attempts')
    .where('customer_id', '=', customer.id)
    .executeTakeFirst();
  const attempts = (current?.attempts ?? 0) + 1;
  await db
    .insertInto('customer_reviews_due')
    .values({
      customer_id: customer.id,
      account: customer.account,
      memo: customer.memo,
      due_at: nextReviewAt(now, attempts),
      attempts,
    })
    .onConflict((oc) =>
      oc.column('customer_id').doUpdateSet({ due_at: nextReviewAt(now, attempts), attempts }),
    )
    .execute();
}

/** Nothing is owed any more for this customer. */
export async function clearReview(db: Executor, customerId: string): Promise<void> {
  await db.deleteFrom('customer_reviews_due').where('customer_id', '=', customerId).execute();
}

/** Owed reviews whose time has come, oldest first. */
export async function dueReviews(db: Executor, now: Date, limit: number): Promise<CustomerReviewDueRow[]> {
  return db
    .selectFrom('customer_reviews_due')
    .selectAll()
    .where('due_at', '<=', now)
    .orderBy('due_at')
    .orderBy('customer_id')
    .limit(limit)
    .execute();
}
