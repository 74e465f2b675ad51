import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { saveCursor } from '../../../src/db/horizon-cursors.repository.ts';
import { getRpcCursor, saveRpcCursor } from '../../../src/db/rpc-cursors.repository.ts';
import { formatRpcCursor } from '../../../src/stellar/rpc-cursor.ts';
import { rpcCursorStore } from '../../../src/watcher/rpc-cursor-store.ts';
import { testDatabases, type OpenTestDatabase } from '../../helpers/database.ts';

describe.each(testDatabases())('Stellar RPC cursors on $name', (database) => {
  let t: OpenTestDatabase;
  beforeEach(async () => {
    t = await database.open();
  });
  afterEach(async () => {
    await t.close();
  });

  it('keeps the latest RPC position per account, apart from Horizon’s', async () => {
    expect(await getRpcCursor(t.db, 'GA')).toBeNull();
    await saveRpcCursor(t.db, 'GA', formatRpcCursor({ ledger: 10, tx: 1, op: 0, event: 0 }));
    await saveCursor(t.db, 'GA', '999');
    await saveRpcCursor(t.db, 'GA', formatRpcCursor({ ledger: 11, tx: 1, op: 0, event: 0 }));
    expect(await getRpcCursor(t.db, 'GA')).toBe(formatRpcCursor({ ledger: 11, tx: 1, op: 0, event: 0 }));
    expect(await rpcCursorStore().get(t.db, 'GA')).toBe(
      formatRpcCursor({ ledger: 11, tx: 1, op: 0, event: 0 }),
    );
  });

  it('an account Horizon watched starts after Horizon’s cursor; the first commit makes it RPC’s own', async () => {
    const store = rpcCursorStore();
    expect(await store.get(t.db, 'GB')).toBeNull();
    // Horizon's paging token of operation 2 of transaction 3 in ledger 1000.
    const horizonToken = ((1000n << 32n) | (3n << 12n) | 2n).toString();
    await saveCursor(t.db, 'GB', horizonToken);
    expect(await store.get(t.db, 'GB')).toBe(
      formatRpcCursor({ ledger: 1000, tx: 3, op: 1, event: 4_294_967_295 }),
    );
    const next = formatRpcCursor({ ledger: 1001, tx: 1, op: 0, event: 0 });
    await store.save(t.db, 'GB', next, new Date());
    expect(await store.get(t.db, 'GB')).toBe(next);
  });
});
