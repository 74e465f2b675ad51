import type { Kysely } from 'kysely';

// Frozen: a migration describes the schema as it was, so it uses no table types and no live constants.

/**
 * Firm SEP-38 quotes. `transaction_id` is unique: a quote is used by one transaction at most, and the
 * database enforces it (two transactions racing for a quote: the second write fails).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('quotes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('memo', 'text')
    .addColumn('context', 'text', (c) => c.notNull())
    .addColumn('sell_asset', 'text', (c) => c.notNull())
    .addColumn('sell_amount', 'numeric(30, 7)', (c) => c.notNull())
    .addColumn('sell_delivery_method', 'text')
    .addColumn('buy_asset', 'text', (c) => c.notNull())
    .addColumn('buy_amount', 'numeric(30, 7)', (c) => c.notNull())
    .addColumn('buy_delivery_method', 'text')
    .addColumn('country_code', 'text')
    .addColumn('price', 'numeric(30, 7)', (c) => c.notNull())
    .addColumn('total_price', 'numeric(30, 7)', (c) => c.notNull())
    .addColumn('fee', 'jsonb', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('transaction_id', 'text', (c) => c.unique())
    .execute();
  await db.schema.createIndex('quotes_account_idx').on('quotes').column('account').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('quotes').execute();
}
