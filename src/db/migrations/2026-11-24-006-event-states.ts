import type { Kysely } from 'kysely';

// Frozen: a migration describes the schema as it was, so it uses no table types and no live constants.

/**
 * The machine's full state value after each event (sub-states included, e.g. `{"pending_receiver":"ready"}`),
 * so the machine viewer can draw a transaction's exact path. Null on events written before this column.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('transaction_events').addColumn('state_after', 'jsonb').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('transaction_events').dropColumn('state_after').execute();
}
