import { sql, type Kysely } from 'kysely';

// Frozen: a migration describes the schema as it was, so it uses no table types and no live constants.

/**
 * SEP-12: the customer machine per type (`statuses`) and a version on `customers`; uploaded binary fields
 * (`customer_files`); and customers' roles in SEP-31 transactions (`customer_transactions`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('customers')
    .addColumn('statuses', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('customer_files')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id').onDelete('cascade'))
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('filename', 'text')
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('data', 'bytea', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('customer_files_customer_id_field_key', ['customer_id', 'field'])
    .addCheckConstraint('customer_files_size_check', sql`size >= 0 and size = octet_length(data)`)
    .execute();

  await db.schema
    .createTable('customer_transactions')
    .addColumn('transaction_id', 'text', (c) => c.notNull().references('transactions.id'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('customer_id', 'text', (c) => c.references('customers.id').onDelete('set null'))
    .addColumn('requested_fields', 'jsonb')
    .addColumn('requested_message', 'text')
    .addColumn('applied_seq', 'integer')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('customer_transactions_pkey', ['transaction_id', 'type'])
    .execute();
  await db.schema
    .createIndex('customer_transactions_customer_id_idx')
    .on('customer_transactions')
    .column('customer_id')
    .execute();
  // SEP-31 links customers by id too (sender_id / receiver_id): find a customer's transactions fast.
  await db.schema.createIndex('transactions_sender_id_idx').on('transactions').column('sender_id').execute();
  await db.schema
    .createIndex('transactions_receiver_id_idx')
    .on('transactions')
    .column('receiver_id')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('transactions_receiver_id_idx').execute();
  await db.schema.dropIndex('transactions_sender_id_idx').execute();
  await db.schema.dropTable('customer_transactions').execute();
  await db.schema.dropTable('customer_files').execute();
  await db.schema.alterTable('customers').dropColumn('version').dropColumn('statuses').execute();
}
