import { sql, type Kysely } from 'kysely';

// Frozen: a migration describes the schema as it was, so it uses no table types and no live constants.

/**
 * The reference rails' (simulated bank's) payout book. One row per idempotency key: the primary key is
 * what makes a repeated payout request the same payout, also across a restart.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('reference_rails_payouts')
    .addColumn('idempotency_key', 'text', (c) => c.primaryKey())
    .addColumn('transaction_id', 'text', (c) => c.notNull())
    .addColumn('external_transaction_id', 'text', (c) => c.notNull().unique())
    .addColumn('amount', 'numeric(30, 7)', (c) => c.notNull())
    .addColumn('asset', 'text', (c) => c.notNull())
    .addColumn('receiver_id', 'text')
    .addColumn('funding_method', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('message', 'text')
    .addColumn('first_result', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('settles_at', 'timestamptz', (c) => c.notNull())
    .addColumn('settled_at', 'timestamptz')
    .addCheckConstraint(
      'reference_rails_payouts_status_check',
      sql`status in ('pending_external', 'completed', 'failed')`,
    )
    .addCheckConstraint('reference_rails_payouts_outcome_check', sql`outcome in ('completed', 'failed')`)
    .execute();
  await db.schema
    .createIndex('reference_rails_payouts_transaction_id_idx')
    .on('reference_rails_payouts')
    .columns(['transaction_id', 'created_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('reference_rails_payouts').execute();
}
