import type { Executor } from './database.ts';

/** The last processed paging token for `account`, or null if it was never watched. */
export async function getCursor(db: Executor, account: string): Promise<string | null> {
  const row = await db
    .selectFrom('horizon_cursors')
    .select('cursor')
    .where('account', '=', account)
    .executeTakeFirst();
  return row?.cursor ?? null;
}

/**
 * Stores the cursor for `account`. Call it in the database transaction that recorded what the payment
 * did, so a restart resumes exactly after the last recorded payment.
 */
export async function saveCursor(
  db: Executor,
  account: string,
  cursor: string,
  at = new Date(),
): Promise<void> {
  await db
    .insertInto('horizon_cursors')
    .values({ account, cursor, updated_at: at })
    .onConflict((oc) => oc.column('account').doUpdateSet({ cursor, updated_at: at }))
    .execute();
}
