import { readCursor, writeCursor } from './cursors.repository.ts';
import type { Executor } from './database.ts';

/** The last processed paging token for `account`, or null if it was never watched. */
export const getCursor = (db: Executor, account: string) => readCursor(db, 'horizon_cursors', account);

/** Stores the paging token for `account`, in the transaction that recorded what the payment did. */
export const saveCursor = (db: Executor, account: string, cursor: string, at?: Date) =>
  writeCursor(db, 'horizon_cursors', account, cursor, at);
