import type { Executor } from './database.ts';

/** Where the watcher keeps each account's position: Horizon paging tokens, or Stellar RPC event ids. */
export type CursorTable = 'horizon_cursors' | 'rpc_cursors';

/** The last processed position for `account` in `table`, or null if that source never watched it. */
export async function readCursor(db: Executor, table: CursorTable, account: string): Promise<string | null> {
  const row = await db.selectFrom(table).select('cursor').where('account', '=', account).executeTakeFirst();
  return row?.cursor ?? null;
}

/**
 * Stores the position for `account`. Call it in the database transaction that recorded what the payments
 * up to it did, so a restart resumes exactly after the last recorded one.
 */
export async function writeCursor(
  db: Executor,
  table: CursorTable,
  account: string,
  cursor: string,
  at = new Date(),
): Promise<void> {
  await db
    .insertInto(table)
    .values({ account, cursor, updated_at: at })
    .onConflict((oc) => oc.column('account').doUpdateSet({ cursor, updated_at: at }))
    .execute();
}
