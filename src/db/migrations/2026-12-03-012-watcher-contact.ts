import { sql, type Kysely } from 'kysely';

// Frozen: a migration describes the schema as it was, so it uses no table types and no live constants.

/**
 * When the watcher last reached Horizon for each receiving account, so that `/ready` of any process (the
 * watcher may run elsewhere) sees a watcher that can no longer reach Horizon, or has died. And the failed
 * outbox rows by kind, which the metrics count at every scrape: few rows, so a small partial index.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('horizon_contacts')
    .addColumn('account', 'text', (c) => c.primaryKey())
    .addColumn('reached_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('outbox_failed_kind_idx')
    .on('outbox')
    .column('kind')
    .where(sql.raw<boolean>(`state = 'failed'`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('outbox_failed_kind_idx').execute();
  await db.schema.dropTable('horizon_contacts').execute();
}
