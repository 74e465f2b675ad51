import { sql, type Kysely } from 'kysely';

// Frozen: a migration describes the schema as it was, so it uses no table types and no live constants.

/**
 * Periodic work reads only what is due, however large the tables grow: partial indexes that hold just the
 * rows a worker or relay looks for, in the order it pages through them, and per-state counts of
 * transactions moved by each commit, so the viewer never counts the rows. Small indexes: built in place.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // execute-outgoing: funded transactions waiting for their payout, by id (its keyset).
  await db.schema
    .createIndex('transactions_payout_ready_idx')
    .on('transactions')
    .column('id')
    .where(
      sql.raw<boolean>(`status = 'pending_receiver' and state_value = '{"pending_receiver":"ready"}'::jsonb`),
    )
    .execute();
  // poll-outgoing: payouts the rails have not settled yet, by id.
  await db.schema
    .createIndex('transactions_pending_external_idx')
    .on('transactions')
    .column('id')
    .where(sql.raw<boolean>(`status = 'pending_external'`))
    .execute();
  // expire: the unfunded transactions that can expire, by deadline, so a pass reads only those past it.
  await db.schema
    .createIndex('transactions_expirable_idx')
    .on('transactions')
    .columns(['expires_at', 'id'])
    .where(
      sql.raw<boolean>(
        `status = 'pending_sender' ` +
          `or (status = 'pending_receiver' and state_value = '{"pending_receiver":"preparing"}'::jsonb) ` +
          `or (status = 'error' and stellar_operation_id is null)`,
      ),
    )
    .execute();
  // Superseded by the index above, which the planner would otherwise still pick for a keyset page, reading
  // every due row after the page's start.
  await db.schema.dropIndex('transactions_status_expires_at_idx').execute();

  // The relays' claim reads live rows only (done and failed ones are left out): the due ones in order, and
  // for each its transaction's earlier live row of its kind, which it waits for. No index leads with the
  // kind: the planner would scan all of a kind's live rows for each candidate instead of probing.
  for (const [name, columns] of [
    ['outbox_live_next_attempt_at_idx', ['next_attempt_at', 'id']],
    ['outbox_live_transaction_kind_idx', ['transaction_id', 'kind', 'id']],
  ] as const) {
    await db.schema
      .createIndex(name)
      .on('outbox')
      .columns([...columns])
      .where(sql.raw<boolean>(`state in ('pending', 'in_flight')`))
      .execute();
  }
  // Superseded: it also holds every finished row, and only the claim read it.
  await db.schema.dropIndex('outbox_state_next_attempt_at_idx').execute();

  // Transactions per (status, state value): the sum over slots. A commit adds its deltas to a slot no
  // concurrent commit holds, so commits never wait on each other's counter rows.
  await db.schema
    .createTable('transaction_state_counts')
    .addColumn('slot', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('state_value', 'jsonb', (c) => c.notNull())
    .addColumn('n', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('transaction_state_counts_pkey', ['slot', 'status', 'state_value'])
    .execute();
  // Rows written before state_value was filled have their state in the snapshot.
  await sql`
    insert into transaction_state_counts (slot, status, state_value, n)
    select 0, status, coalesce(state_value, snapshot -> 'value', to_jsonb(status)), count(*)
    from transactions
    group by 2, 3`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('transaction_state_counts').execute();
  await db.schema
    .createIndex('outbox_state_next_attempt_at_idx')
    .on('outbox')
    .columns(['state', 'next_attempt_at'])
    .execute();
  await db.schema
    .createIndex('transactions_status_expires_at_idx')
    .on('transactions')
    .columns(['status', 'expires_at'])
    .execute();
  for (const index of [
    'outbox_live_transaction_kind_idx',
    'outbox_live_next_attempt_at_idx',
    'transactions_expirable_idx',
    'transactions_pending_external_idx',
    'transactions_payout_ready_idx',
  ]) {
    await db.schema.dropIndex(index).execute();
  }
}
