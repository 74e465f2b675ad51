import type { Kysely } from 'kysely';

// Frozen: a migration describes the schema as it was, so it uses no table types and no live constants.

/**
 * Refunds sent on Stellar, one row per refund (`refund_key`: a transaction's refund id, or
 * `unmatched:<operation id>`). The signed envelope and its hash are stored before it is submitted, so a
 * retry after a crash resubmits the same envelope (one sequence number: it can apply once) instead of
 * building a second payment. `unmatched_operation_id` is unique: an unmatched payment is refunded once.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('refunds')
    .addColumn('refund_key', 'text', (c) => c.primaryKey())
    .addColumn('transaction_id', 'text')
    .addColumn('unmatched_operation_id', 'text', (c) => c.unique())
    .addColumn('source_account', 'text', (c) => c.notNull())
    .addColumn('destination', 'text', (c) => c.notNull())
    .addColumn('asset_code', 'text', (c) => c.notNull())
    .addColumn('asset_issuer', 'text')
    .addColumn('amount', 'numeric(30, 7)', (c) => c.notNull())
    .addColumn('fee', 'numeric(30, 7)', (c) => c.notNull())
    .addColumn('memo_type', 'text')
    .addColumn('memo', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('sequence', 'text')
    .addColumn('envelope_xdr', 'text')
    .addColumn('transaction_hash', 'text')
    .addColumn('ledger', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('requested_by', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('refunds_transaction_idx').on('refunds').column('transaction_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('refunds').execute();
}
