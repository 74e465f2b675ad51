import type { Kysely } from 'kysely';

// Frozen: a migration describes the schema as it was, so it uses no table types and no live constants.

/**
 * The Stellar RPC watcher's position per receiving account (an RPC event id), apart from Horizon's paging
 * tokens: the two sources count differently, and an anchor may switch between them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('rpc_cursors')
    .addColumn('account', 'text', (c) => c.primaryKey())
    .addColumn('cursor', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('rpc_cursors').execute();
}
