// Several writes in one statement: all of them or none, each seeing the database as it was before.
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { insertEffectsQuery } from '../../../src/db/outbox.repository.ts';
import { writeTogether } from '../../../src/db/write-together.ts';
import { testDatabases, type OpenTestDatabase } from '../../helpers/database.ts';
import { transactionRow } from './fixtures.ts';

describe.each(testDatabases())('writeTogether on $name', (database) => {
  let t: OpenTestDatabase;
  beforeEach(async () => {
    t = await database.open();
  });
  afterEach(async () => {
    await t.close();
  });

  const effect = (transactionId: string, key: string) => ({
    transactionId,
    seq: 1,
    kind: 'status_changed',
    payload: { n: key },
    idempotencyKey: key,
  });
  const ids = async (table: 'transactions' | 'outbox') =>
    (
      await t.db
        .selectFrom(table)
        .select(table === 'outbox' ? 'idempotency_key as id' : 'id')
        .execute()
    )
      .map((row) => row.id)
      .sort();

  it('inserts rows and rows that reference them, each part seeing the table as it was', async () => {
    await t.db.insertInto('transactions').values(transactionRow('old')).execute();
    await writeTogether(t.db, [
      t.db.insertInto('transactions').values(transactionRow('new')),
      insertEffectsQuery(t.db, [effect('new', 'new:1'), effect('old', 'old:1')]),
      null,
      // Sees only the rows from before the statement: 'new' is not among them.
      sql`insert into outbox (transaction_id, kind, payload, idempotency_key)
          select id, 'seen', '{}'::jsonb, 'seen:' || id from transactions`,
    ]);
    expect(await ids('transactions')).toEqual(['new', 'old']);
    expect(await ids('outbox')).toEqual(['new:1', 'old:1', 'seen:old']);
  });

  it('writes nothing when one write fails', async () => {
    await expect(
      writeTogether(t.db, [
        t.db.insertInto('transactions').values(transactionRow('kept-out')),
        insertEffectsQuery(t.db, [effect('nobody', 'nobody:1')]),
      ]),
    ).rejects.toThrow(/foreign key/);
    expect(await ids('transactions')).toEqual([]);
    expect(await ids('outbox')).toEqual([]);
  });

  it('runs a single write, and nothing at all', async () => {
    await writeTogether(t.db, [t.db.insertInto('transactions').values(transactionRow('one'))]);
    await writeTogether(t.db, [null, null]);
    expect(await ids('transactions')).toEqual(['one']);
  });
});
