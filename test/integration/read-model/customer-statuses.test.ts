// The SEP-31 POST's customer check: each caller sees only its own customers' statuses, and the checks of
// requests that arrive together are one query.
import type { KyselyPlugin, RootOperationNode } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toJson } from '../../../src/db/columns.ts';
import { transactionQueries } from '../../../src/read-model/transactions.ts';
import { testDatabases, type OpenTestDatabase } from '../../helpers/database.ts';

const ANCHOR = 'GANCHOR';
const RIVAL = 'GRIVAL';
const accepted = { 'sep31-sender': { value: 'ACCEPTED', context: {} } };

describe.each(testDatabases())('customer statuses on $name', (database) => {
  let t: OpenTestDatabase;
  let selects: number;
  /** Counts the SELECTs the queries send. */
  const counting: KyselyPlugin = {
    transformQuery: ({ node }) => {
      if ((node as RootOperationNode).kind === 'SelectQueryNode') selects += 1;
      return node;
    },
    transformResult: async ({ result }) => result,
  };
  beforeEach(async () => {
    t = await database.open();
    selects = 0;
    await t.db
      .insertInto('customers')
      .values(
        [
          ['ours-1', ANCHOR, '1'],
          ['ours-2', ANCHOR, '2'],
          ['theirs', RIVAL, null],
        ].map(([id, account, memo]) => ({
          id: id!,
          account: account!,
          memo: memo ?? null,
          type: null,
          status: 'ACCEPTED',
          statuses: toJson(accepted),
        })),
      )
      .execute();
  });
  afterEach(async () => {
    await t.close();
  });

  it('answers each request for its own owner, with one query for the requests of one moment', async () => {
    const queries = transactionQueries(t.db.withPlugin(counting));
    const anchor = { account: ANCHOR, memo: null };
    const answers = await Promise.all([
      queries.customerStatuses(
        [
          { id: 'ours-1', type: 'sep31-sender' },
          { id: 'ours-2', type: 'sep31-receiver' },
        ],
        anchor,
      ),
      queries.customerStatuses([{ id: 'theirs', type: 'sep31-sender' }], anchor),
      queries.customerStatuses([{ id: 'theirs', type: 'sep31-sender' }], { account: RIVAL, memo: null }),
      queries.customerStatuses([{ id: 'nobody', type: 'sep31-sender' }], anchor),
    ]);
    expect(answers).toEqual([['ACCEPTED', 'NEEDS_INFO'], [null], ['ACCEPTED'], [null]]);
    expect(selects).toBe(1);
    // Nothing is remembered: a change is seen by the next request.
    await t.db
      .updateTable('customers')
      .set({ statuses: toJson({}) })
      .where('id', '=', 'ours-1')
      .execute();
    expect(await queries.customerStatuses([{ id: 'ours-1', type: 'sep31-sender' }], anchor)).toEqual([
      'NEEDS_INFO',
    ]);
  });
});
