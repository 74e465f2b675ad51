import type { Insertable, Selectable } from 'kysely';
import type { Timestamp } from './columns.ts';

/** Last processed Stellar RPC event id (or scan position) per watched account. */
export interface RpcCursorsTable {
  account: string;
  cursor: string;
  updated_at: Timestamp;
}

export type RpcCursorRow = Selectable<RpcCursorsTable>;
export type NewRpcCursorRow = Insertable<RpcCursorsTable>;
