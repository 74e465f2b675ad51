import { sql, type Kysely } from 'kysely';

// Frozen: a migration describes the schema as it was, so it uses no table types and no live constants.

/**
 * Actor hosts own bus partitions: the position each partition was applied up to (committed with what it
 * applied), the messages an actor refused, and one lease table for every kind of lease.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('watcher_leases').renameTo('leases').execute();
  await sql`alter index watcher_leases_pkey rename to leases_pkey`.execute(db);

  await db.schema
    .createTable('partition_offsets')
    .addColumn('stream', 'text', (c) => c.notNull())
    .addColumn('partition', 'integer', (c) => c.notNull())
    // The stream's creation: positions from another epoch of the stream mean nothing.
    .addColumn('epoch', 'text', (c) => c.notNull())
    .addColumn('position', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('partition_offsets_pkey', ['stream', 'partition'])
    .execute();

  await db.schema
    .createTable('refused_messages')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // A message is decided once: a redelivery of a refused one is refused again without a second row.
    .addUniqueConstraint('refused_messages_actor_message_id_key', ['actor', 'message_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('refused_messages').execute();
  await db.schema.dropTable('partition_offsets').execute();
  await sql`alter index leases_pkey rename to watcher_leases_pkey`.execute(db);
  await db.schema.alterTable('leases').renameTo('watcher_leases').execute();
}
