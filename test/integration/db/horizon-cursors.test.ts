import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getCursor, saveCursor } from '../../../src/db/horizon-cursors.repository.ts';
import { testDatabases, type OpenTestDatabase } from '../../helpers/database.ts';

describe.each(testDatabases())('horizon cursors on $name', (database) => {
  let t: OpenTestDatabase;
  beforeEach(async () => {
    t = await database.open();
  });
  afterEach(async () => {
    await t.close();
  });

  it('has no cursor for a new account, then keeps the latest one per account', async () => {
    expect(await getCursor(t.db, 'GA')).toBeNull();
    await saveCursor(t.db, 'GA', '100-1', new Date('2026-11-24T12:00:00Z'));
    await saveCursor(t.db, 'GB', '200-1');
    await saveCursor(t.db, 'GA', '105-3', new Date('2026-11-24T12:01:00Z'));
    expect(await getCursor(t.db, 'GA')).toBe('105-3');
    expect(await getCursor(t.db, 'GB')).toBe('200-1');
    const row = await t.db
      .selectFrom('horizon_cursors')
      .selectAll()
      .where('account', '=', 'GA')
      .executeTakeFirst();
    expect(row?.updated_at).toEqual(new Date('2026-11-24T12:01:00Z'));
  });

  it('rolls back with the transaction that would have saved it', async () => {
    await saveCursor(t.db, 'GA', '100-1');
    await expect(
      t.db.transaction().execute(async (trx) => {
        await saveCursor(trx, 'GA', '105-3');
        throw new Error('recording the payment failed');
      }),
    ).rejects.toThrow('recording the payment failed');
    expect(await getCursor(t.db, 'GA')).toBe('100-1');
  });
});
