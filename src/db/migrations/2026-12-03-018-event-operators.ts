import type { Kysely } from 'kysely';

// Frozen: a migration describes the schema as it was, so it uses no table types and no live constants.

/**
 * Who did it: the operator (or business server) whose JSON-RPC call sent the event; null for events from
 * Mooring itself (payments seen on Stellar, workers, sending anchors' requests).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('transaction_events').addColumn('operator', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('transaction_events').dropColumn('operator').execute();
}
