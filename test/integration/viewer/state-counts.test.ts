/**
 * The per-state counts the machine viewer reads are kept by the commits that move transactions: through
 * creates, sub-states, refusals and lost version races they equal a count of the rows; the migration
 * counts the rows already there; and two commits open at once never wait on each other's counter rows.
 */
import { sql, type Kysely, type KyselyPlugin } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TransactionInput } from '../../../machines/index.ts';
import { EventRejectedError } from '../../../src/actors/errors.ts';
import { createMessageId } from '../../../src/actors/messages.ts';
import { applyTransactionBatch } from '../../../src/actors/transaction-batch.ts';
import { createTransactionHost, type TransactionHost } from '../../../src/actors/transaction-host.ts';
import { toJson } from '../../../src/db/columns.ts';
import type { Database } from '../../../src/db/database.ts';
import * as dueWork from '../../../src/db/migrations/2026-12-03-009-due-work.ts';
import { readStateCounts } from '../../../src/db/transaction-state-counts.repository.ts';
import { readCounts } from '../../../src/viewer/read-model.ts';
import { accountAssigned, payment, transactionInput } from '../../fixtures/transactions.ts';
import { testDatabases, type OpenTestDatabase } from '../../helpers/database.ts';
import { transactionRow } from '../db/fixtures.ts';

const AT = '2026-11-24T10:10:00.000Z';

/** `status state n` per state with transactions: as counted from the rows, and as kept. */
async function counted(db: Kysely<Database>): Promise<string[]> {
  const { rows } = await sql<{ status: string; value: unknown; n: string }>`
    select status, coalesce(state_value, snapshot -> 'value') as value, count(*) as n
    from transactions group by 1, 2`.execute(db);
  return rows.map((row) => `${row.status} ${JSON.stringify(row.value)} ${row.n}`).sort();
}
async function kept(db: Kysely<Database>): Promise<string[]> {
  const rows = await readStateCounts(db);
  return rows.map((row) => `${row.status} ${JSON.stringify(row.stateValue)} ${row.n}`).sort();
}

describe.each(testDatabases())('transaction state counts on $name', (database) => {
  let t: OpenTestDatabase;
  let host: TransactionHost;
  beforeEach(async () => {
    t = await database.open();
    host = createTransactionHost({ db: t.db });
  });
  afterEach(() => t.close());

  const waiting = async () => {
    const input = transactionInput();
    await host.create(input, { eventId: createMessageId(input.id), then: [accountAssigned()] });
    return input.id;
  };
  let events = 0;
  const apply = (transactionId: string, event: Parameters<TransactionHost['apply']>[0]['event']) =>
    host.apply({ eventId: `state-counts-${++events}`, transactionId, event });

  it('move with every commit: creates, sub-states, refusals and a lost race', async () => {
    const [a, b, c, d] = [await waiting(), await waiting(), await waiting(), await waiting()];
    const preparing = transactionInput();
    await host.create(preparing, { eventId: createMessageId(preparing.id) });
    await apply(a, { type: 'PAYMENT_RECEIVED', at: AT, payment: payment() });
    await apply(b, { type: 'PAYMENT_RECEIVED', at: AT, payment: payment() });
    await apply(b, { type: 'PAYOUT_REQUESTED', at: AT });
    await apply(c, { type: 'ERROR', at: AT, message: 'held' });
    await expect(apply(d, { type: 'PAYOUT_REQUESTED', at: AT })).rejects.toBeInstanceOf(EventRejectedError);
    // Two writers race on one transaction: the loser's commit (and its count) is rolled back and retried.
    const other = createTransactionHost({ db: t.db });
    await Promise.all([
      apply(d, { type: 'ERROR', at: AT, message: 'first' }),
      other
        .apply({ eventId: 'state-counts-race', transactionId: d, event: { type: 'RECOVER', at: AT } })
        .catch((error: unknown) => expect(error).toBeInstanceOf(EventRejectedError)),
    ]);

    expect(await kept(t.db)).toEqual(await counted(t.db));
    expect(await kept(t.db)).toContain('pending_receiver {"pending_receiver":"ready"} 1');
  });

  it('the migration counts the rows it finds, by their snapshot where they have no state value', async () => {
    const rows = [
      transactionRow('old-waiting'),
      transactionRow('old-ready', {
        status: 'pending_receiver',
        state_value: null,
        snapshot: toJson({ value: { pending_receiver: 'ready' }, context: { id: 'old-ready' } }),
      }),
      transactionRow('old-done', { status: 'completed', state_value: toJson('completed') }),
    ];
    await t.db.insertInto('transactions').values(rows).execute();
    const schema = t.db as unknown as Kysely<unknown>; // what migrations take
    await dueWork.down(schema);
    await dueWork.up(schema);
    expect(await kept(t.db)).toEqual([
      'completed "completed" 1',
      'pending_receiver {"pending_receiver":"ready"} 1',
      'pending_sender "pending_sender" 1',
    ]);
  });

  it('are read with the newest event id in one statement: one snapshot, never counts older than the id', async () => {
    await waiting();
    // A live stream starts from the id the counts claim to include: read apart, a commit landing between the
    // two reads would leave counts that no later transition corrects.
    let statements = 0;
    // Called once per statement executed (transformQuery would also see the subqueries being built).
    const counting: KyselyPlugin = {
      transformQuery: (args) => args.node,
      transformResult: async (args) => {
        statements += 1;
        return args.result;
      },
    };
    const counts = await readCounts(t.db.withPlugin(counting));
    expect(statements).toBe(1);
    expect(counts.total).toBe(1);
    expect(counts.counts['transaction.pending_sender']).toBe(1);
    const newest = await t.db
      .selectFrom('transaction_events')
      .select(sql<string>`max(id)::text`.as('id'))
      .executeTakeFirstOrThrow();
    expect(counts.latestEventId).toBe(newest.id);
  });
});

const postgres = testDatabases().find((database) => database.name === 'postgres');

describe.skipIf(postgres === undefined)('transaction state counts under concurrent commits', () => {
  let t: OpenTestDatabase;
  beforeEach(async () => {
    t = await postgres!.open();
  });
  afterEach(() => t.close());

  const commit = (trx: Parameters<typeof applyTransactionBatch>[0], input: TransactionInput) =>
    applyTransactionBatch(
      trx,
      [
        {
          messageId: createMessageId(input.id),
          transactionId: input.id,
          body: { type: 'create', input, then: [accountAssigned()], notAfter: null },
          replyTo: null,
        },
      ],
      { payoutCustomerTypes: null, sep12: { types: {} }, clock: () => new Date(AT) },
    );

  it('never wait on one another: each open commit counts in a slot of its own', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered = () => {};
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const first = t.db.transaction().execute(async (trx) => {
      await commit(trx, transactionInput());
      entered();
      await held;
    });
    try {
      await inside;
      // The same state as the open commit's: had they shared a counter row, this would wait for it.
      let timer: NodeJS.Timeout | undefined;
      const second = t.db.transaction().execute((trx) => commit(trx, transactionInput()));
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the second commit waited for the first')), 5_000);
      });
      await Promise.race([second, late]).finally(() => clearTimeout(timer));
    } finally {
      release();
      await first;
    }
    const { rows } = await sql<{ slot: number }>`
      select slot from transaction_state_counts where n <> 0 order by slot`.execute(t.db);
    expect(rows.map((row) => row.slot)).toEqual([0, 1]);
    expect(await kept(t.db)).toEqual(['pending_sender "pending_sender" 2']);
  });
});
