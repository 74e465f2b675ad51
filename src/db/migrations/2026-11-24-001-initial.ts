import { sql, type Kysely } from 'kysely';

// Frozen: a migration describes the schema as it was, so it uses no table types and no live constants.
const AMOUNT = 'numeric(30, 7)'; // kysely's type parser needs the space
const STATUSES = sql.raw(
  `'pending_receiver', 'pending_sender', 'pending_stellar', 'pending_customer_info_update', ` +
    `'pending_transaction_info_update', 'pending_external', 'completed', 'refunded', 'expired', 'error'`,
);
const MEMO_TYPES = sql.raw(`'text', 'hash', 'id'`);

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('transactions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('sending_anchor', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('state_value', 'jsonb')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('snapshot', 'jsonb', (c) => c.notNull())
    .addColumn('asset_code', 'text', (c) => c.notNull())
    .addColumn('asset_issuer', 'text')
    .addColumn('amount_in', AMOUNT, (c) => c.notNull())
    .addColumn('amount_in_asset', 'text', (c) => c.notNull())
    .addColumn('amount_out', AMOUNT, (c) => c.notNull())
    .addColumn('amount_out_asset', 'text', (c) => c.notNull())
    .addColumn('amount_fee', AMOUNT, (c) => c.notNull())
    .addColumn('amount_fee_asset', 'text', (c) => c.notNull())
    .addColumn('fee_details', 'jsonb', (c) => c.notNull())
    .addColumn('quote_id', 'text')
    .addColumn('funding_method', 'text')
    .addColumn('sender_id', 'text')
    .addColumn('receiver_id', 'text')
    .addColumn('refund_memo', 'text')
    .addColumn('refund_memo_type', 'text')
    .addColumn('stellar_account_id', 'text')
    .addColumn('stellar_memo_type', 'text')
    .addColumn('stellar_memo', 'text')
    .addColumn('stellar_transaction_id', 'text')
    .addColumn('stellar_operation_id', 'text')
    .addColumn('external_transaction_id', 'text')
    .addColumn('status_message', 'text')
    .addColumn('required_info_message', 'text')
    .addColumn('required_info_updates', 'jsonb')
    .addColumn('refunds', 'jsonb')
    .addColumn('callback_url', 'text')
    .addColumn('lang', 'text')
    .addColumn('expires_at', 'timestamptz')
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('completed_at', 'timestamptz')
    .addCheckConstraint('transactions_status_check', sql`status in (${STATUSES})`)
    .addCheckConstraint('transactions_version_check', sql`version >= 0`)
    .addCheckConstraint(
      'transactions_amounts_check',
      sql`amount_in >= 0 and amount_out >= 0 and amount_fee >= 0`,
    )
    .addCheckConstraint(
      'transactions_memo_types_check',
      sql`stellar_memo_type in (${MEMO_TYPES}) and refund_memo_type in (${MEMO_TYPES})`,
    )
    // Memo collisions are impossible: two transactions can never expect the same payment.
    .addUniqueConstraint('transactions_stellar_memo_key', [
      'stellar_account_id',
      'stellar_memo_type',
      'stellar_memo',
    ])
    // A payment is credited at most once (NULLs are distinct, so uncredited rows do not collide).
    .addUniqueConstraint('transactions_stellar_operation_id_key', ['stellar_operation_id'])
    .execute();
  await db.schema.createIndex('transactions_status_idx').on('transactions').column('status').execute();
  await db.schema
    .createIndex('transactions_sending_anchor_id_idx')
    .on('transactions')
    .columns(['sending_anchor', 'id'])
    .execute();
  await db.schema
    .createIndex('transactions_status_expires_at_idx')
    .on('transactions')
    .columns(['status', 'expires_at'])
    .execute();

  await db.schema
    .createTable('transaction_events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('transaction_id', 'text', (c) => c.notNull().references('transactions.id'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('status_before', 'text')
    .addColumn('status_after', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('transaction_events_seq_key', ['transaction_id', 'seq'])
    .addUniqueConstraint('transaction_events_event_id_key', ['transaction_id', 'event_id'])
    .execute();

  await db.schema
    .createTable('outbox')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('transaction_id', 'text', (c) => c.references('transactions.id'))
    .addColumn('seq', 'integer')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
    .addColumn('state', 'text', (c) => c.notNull().defaultTo('pending'))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('claimed_by', 'text')
    .addColumn('claim_expires_at', 'timestamptz')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('completed_at', 'timestamptz')
    .addCheckConstraint('outbox_state_check', sql`state in ('pending', 'in_flight', 'done', 'failed')`)
    .execute();
  await db.schema
    .createIndex('outbox_state_next_attempt_at_idx')
    .on('outbox')
    .columns(['state', 'next_attempt_at'])
    .execute();

  await db.schema
    .createTable('customers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('memo', 'text')
    .addColumn('type', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('fields', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('callback_url', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // One customer per (account, memo); a missing memo counts as one value, not as distinct NULLs.
  await db.schema
    .createIndex('customers_account_memo_key')
    .on('customers')
    .unique()
    .expression(sql`account, coalesce(memo, '')`)
    .execute();

  await db.schema
    .createTable('horizon_cursors')
    .addColumn('account', 'text', (c) => c.primaryKey())
    .addColumn('cursor', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('unmatched_payments')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('operation_id', 'text', (c) => c.notNull().unique())
    .addColumn('transaction_hash', 'text', (c) => c.notNull())
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('from_account', 'text')
    .addColumn('amount', AMOUNT, (c) => c.notNull())
    .addColumn('asset_code', 'text', (c) => c.notNull())
    .addColumn('asset_issuer', 'text')
    .addColumn('memo_type', 'text')
    .addColumn('memo', 'text')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('transaction_id', 'text')
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('refunded_at', 'timestamptz')
    .addColumn('refund_transaction_hash', 'text')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'unmatched_payments',
    'horizon_cursors',
    'customers',
    'outbox',
    'transaction_events',
    'transactions',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
