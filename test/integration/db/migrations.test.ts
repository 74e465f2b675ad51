import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrateToLatest, migrateToNothing } from '../../../src/db/migrate.ts';
import { testDatabases, type OpenTestDatabase } from '../../helpers/database.ts';

const TABLES = [
  'customer_file_chunks',
  'customer_files',
  'customer_reviews_due',
  'customer_transactions',
  'customers',
  'horizon_contacts',
  'horizon_cursors',
  'leases',
  'outbox',
  'partition_offsets',
  'quotes',
  'reference_rails_payouts',
  'refunds',
  'refused_messages',
  'rpc_cursors',
  'sep10_challenges',
  'transaction_events',
  'transaction_state_counts',
  'transactions',
  'unmatched_payments',
  'upload_chunks',
  'uploads',
];

describe.each(testDatabases())('migrations on $name', (database) => {
  let t: OpenTestDatabase;
  beforeEach(async () => {
    t = await database.open();
  });
  afterEach(async () => {
    await t.close();
  });

  async function tableNames(): Promise<string[]> {
    const tables = await t.db.introspection.getTables();
    return tables.map((table) => table.name).sort();
  }

  it('creates every table, and a second run applies nothing', async () => {
    expect(await tableNames()).toEqual(TABLES);
    expect(await migrateToLatest(t.db)).toEqual([]);
    expect(await tableNames()).toEqual(TABLES);
  });

  it('stores every amount as numeric(30, 7) and no column as a float', async () => {
    const { rows } = await sql<{
      table_name: string;
      column_name: string;
      data_type: string;
      p: number;
      s: number;
    }>`
      select table_name, column_name, data_type, numeric_precision as p, numeric_scale as s
      from information_schema.columns
      where table_schema = 'public' and (data_type = 'numeric' or data_type in ('real', 'double precision'))
      order by table_name, column_name`.execute(t.db);
    expect(rows.map((r) => `${r.table_name}.${r.column_name} ${r.data_type}(${r.p}, ${r.s})`)).toEqual([
      'quotes.buy_amount numeric(30, 7)',
      'quotes.price numeric(30, 7)',
      'quotes.sell_amount numeric(30, 7)',
      'quotes.total_price numeric(30, 7)',
      'reference_rails_payouts.amount numeric(30, 7)',
      'refunds.amount numeric(30, 7)',
      'refunds.fee numeric(30, 7)',
      'transactions.amount_fee numeric(30, 7)',
      'transactions.amount_in numeric(30, 7)',
      'transactions.amount_out numeric(30, 7)',
      'unmatched_payments.amount numeric(30, 7)',
    ]);
  });

  it('down removes the schema, newest migration first, and up restores it', async () => {
    await migrateToNothing(t.db);
    expect(await tableNames()).toEqual([]);
    await migrateToLatest(t.db);
    expect(await tableNames()).toEqual(TABLES);
  });
});
