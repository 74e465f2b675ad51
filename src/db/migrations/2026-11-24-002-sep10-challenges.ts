import { sql, type Kysely } from 'kysely';

// Frozen: a migration describes the schema as it was, so it uses no table types and no live constants.

/** SEP-10 challenges already exchanged for a token: one token per challenge, across every HTTP instance. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sep10_challenges')
    .addColumn('hash', 'text', (c) => c.primaryKey())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('sep10_challenges_expires_at_idx')
    .on('sep10_challenges')
    .column('expires_at')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sep10_challenges').execute();
}
