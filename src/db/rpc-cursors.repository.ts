import type { Executor } from './database.ts';

/** The last processed RPC position for `account`, or null if RPC never watched it. */
export async function getRpcCursor(db: Executor, account: string): Promise<string | null> {
  const row = await db
    .selectFrom('rpc_cursors')
    .select('cursor')
    .where('account', '=', account)
    .executeTakeFirst();
  return row?.cursor ?? null;
}

/** Stores the RPC position for `account`, in the database transaction that recorded what it covered. */
export async function saveRpcCursor(
  db: Executor,
  account: string,
  cursor: string,
  at = new Date(),
): Promise<void> {
  await db
    .insertInto('rpc_cursors')
    .values({ account, cursor, updated_at: at })
    .onConflict((oc) => oc.column('account').doUpdateSet({ cursor, updated_at: at }))
    .execute();
}
