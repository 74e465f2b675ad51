import { sql, type Kysely } from 'kysely';

// Frozen: a migration describes the schema as it was, so it uses no table types and no live constants.

/**
 * `Idempotency-Key` on `POST /transactions`: the key a sending anchor gave, and the hash of the request
 * it came with, so a retry finds its transaction and a reused key with another body is told apart.
 * Transactions created without a key have neither (NULLs are distinct: they never collide).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('transactions')
    .addColumn('idempotency_key', 'text')
    .addColumn('request_hash', 'text')
    .execute();
  await db.schema
    .alterTable('transactions')
    .addCheckConstraint(
      'transactions_idempotency_check',
      sql`(idempotency_key is null) = (request_hash is null)`,
    )
    .execute();
  // One transaction per key and sending anchor, whatever derives the id.
  await db.schema
    .alterTable('transactions')
    .addUniqueConstraint('transactions_sending_anchor_idempotency_key_key', [
      'sending_anchor',
      'idempotency_key',
    ])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('transactions')
    .dropConstraint('transactions_sending_anchor_idempotency_key_key')
    .execute();
  await db.schema.alterTable('transactions').dropConstraint('transactions_idempotency_check').execute();
  await db.schema
    .alterTable('transactions')
    .dropColumn('request_hash')
    .dropColumn('idempotency_key')
    .execute();
}
