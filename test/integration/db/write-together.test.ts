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

  it('inserts a row and rows that reference it, and returns what `returning` returns', async () => {
    await t.db.insertInto('transactions').values(transactionRow('old')).execute();
    const returned = await writeTogether(
      t.db,
      [
        t.db.insertInto('transactions').values(transactionRow('new')),
        insertEffectsQuery(t.db, [effect('new', 'new:1'), effect('old', 'old:1')]),
        null,
      ],
      sql<{
        id: string;
      }>`update transactions set version = version + 1 where id in ('old', 'new') returning id`,
    );
    // The update saw the table as it was before the statement: the new row was not there yet.
    expect(returned).toEqual([{ id: 'old' }]);
    expect(await ids('transactions')).toEqual(['new', 'old']);
    expect(await ids('outbox')).toEqual(['new:1', 'old:1']);
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
    expect(
      await writeTogether(t.db, [t.db.insertInto('transactions').values(transactionRow('one'))]),
    ).toEqual([]);
    expect(await writeTogether(t.db, [null, null])).toEqual([]);
    expect(await ids('transactions')).toEqual(['one']);
  });
});
