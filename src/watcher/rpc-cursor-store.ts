/**
 * Where the RPC watcher keeps each account's position (`rpc_cursors`). An account Horizon watched before
 * starts where Horizon left off (its paging token turned into the RPC cursor after that operation), so
 * switching `stellar.source` to `rpc` neither skips nor repeats a payment; the first commit stores it.
 */
import { getCursor } from '../db/horizon-cursors.repository.ts';
import { getRpcCursor, saveRpcCursor } from '../db/rpc-cursors.repository.ts';
import { rpcCursorAfterHorizonToken } from '../stellar/rpc-cursor.ts';
import type { CursorStore } from './payment-watcher.ts';

export function rpcCursorStore(): CursorStore {
  return {
    async get(db, account) {
      const stored = await getRpcCursor(db, account);
      if (stored !== null) return stored;
      const horizon = await getCursor(db, account);
      return horizon !== null && /^\d+$/.test(horizon) ? rpcCursorAfterHorizonToken(horizon) : null;
    },
    save: saveRpcCursor,
  };
}
