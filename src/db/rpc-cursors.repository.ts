import { readCursor, writeCursor } from './cursors.repository.ts';
import type { Executor } from './database.ts';

/** The last processed RPC position for `account`, or null if RPC never watched it. */
export const getRpcCursor = (db: Executor, account: string) => readCursor(db, 'rpc_cursors', account);

/** Stores the RPC position for `account`, in the database transaction that recorded what it covered. */
export const saveRpcCursor = (db: Executor, account: string, cursor: string, at?: Date) =>
  writeCursor(db, 'rpc_cursors', account, cursor, at);
