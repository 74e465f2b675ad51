import type { Kysely } from 'kysely';

// Frozen: a migration describes the schema as it was, so it uses no table types and no live constants.

/**
 * Customer reviews still owed: a review the integration could not give (the business server was away) or
 * left undecided (fields PROCESSING). The review worker asks the customer's actor again once `due_at`
 * passes; `attempts` spaces the next ask (backoff). Gone with the customer.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('customer_reviews_due')
    .addColumn('customer_id', 'text', (c) => c.primaryKey().references('customers.id').onDelete('cascade'))
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('memo', 'text')
    .addColumn('due_at', 'timestamptz', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createIndex('customer_reviews_due_at_idx')
    .on('customer_reviews_due')
    .columns(['due_at', 'customer_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('customer_reviews_due').execute();
}
