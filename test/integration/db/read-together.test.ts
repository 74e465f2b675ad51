// Several SELECTs in one statement: each query's rows as its own execution gives them (JSON-safe columns).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readTogether } from '../../../src/db/read-together.ts';
import { toJson } from '../../../src/db/columns.ts';
import { testDatabases, type OpenTestDatabase } from '../../helpers/database.ts';
import { transactionRow } from './fixtures.ts';

describe.each(testDatabases())('readTogether on $name', (database) => {
  let t: OpenTestDatabase;
  beforeEach(async () => {
    t = await database.open();
    await t.db
      .insertInto('transactions')
      .values([
        transactionRow('a', { version: 3, snapshot: toJson({ value: 'pending_sender', context: { n: 1 } }) }),
        transactionRow('b', { version: 7, callback_url: 'https://sender.example/cb' }),
      ])
      .execute();
  });
  afterEach(async () => {
    await t.close();
  });

  const versions = () => t.db.selectFrom('transactions').select(['id', 'version']).orderBy('id');
  const rows = () =>
    t.db.selectFrom('transactions').select(['id', 'status', 'snapshot', 'callback_url']).orderBy('id');

  it('gives each query the rows it gives alone, in order, and none for a null query', async () => {
    const [first, skipped, second, empty] = await readTogether(t.db, [
      versions(),
      null,
      rows(),
      versions().where('id', '=', 'nobody'),
    ]);
    expect(first).toEqual(await versions().execute());
    expect(second).toEqual(await rows().execute());
    expect(second[0]!.snapshot).toEqual({ value: 'pending_sender', context: { n: 1 } });
    expect(skipped).toEqual([]);
    expect(empty).toEqual([]);
  });

  it('runs a single query as it is, and nothing at all', async () => {
    const [only] = await readTogether(t.db, [versions()]);
    expect(only).toEqual([
      { id: 'a', version: 3 },
      { id: 'b', version: 7 },
    ]);
    expect(await readTogether(t.db, [null, null])).toEqual([[], []]);
  });
});
