import type { Kysely } from 'kysely';

// Frozen: a migration describes the schema as it was, so it uses no table types and no live constants.

/**
 * The operator console:
 * - which transition each event took (`<source state id>:<event>:<index>`), so the machine viewer lights the one
 *   arrow taken where guarded twins share their ends; null for the creation and on events written before it;
 * - a state's transactions listed newest first, and searches by memo or Stellar transaction hash, by index
 *   (the id is the primary key already).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('transaction_events').addColumn('transition', 'text').execute();
  await db.schema
    .createIndex('transactions_status_started_at_idx')
    .on('transactions')
    .columns(['status', 'started_at', 'id'])
    .execute();
  await db.schema
    .createIndex('transactions_stellar_memo_idx')
    .on('transactions')
    .column('stellar_memo')
    .execute();
  await db.schema
    .createIndex('transactions_stellar_transaction_id_idx')
    .on('transactions')
    .column('stellar_transaction_id')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('transactions_stellar_transaction_id_idx').execute();
  await db.schema.dropIndex('transactions_stellar_memo_idx').execute();
  await db.schema.dropIndex('transactions_status_started_at_idx').execute();
  await db.schema.alterTable('transaction_events').dropColumn('transition').execute();
}
