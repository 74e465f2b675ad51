import { sql, type Kysely } from 'kysely';

// Frozen: a migration describes the schema as it was, so it uses no table types and no live constants.

/**
 * Files in rows of bounded size: a staged upload is written chunk by chunk as it arrives (`upload_chunks`)
 * and a customer's file is kept the same way (`customer_file_chunks`), so no statement carries a whole
 * file. An upload row exists from its first byte (its `sha256` is null until the last one arrived) and its
 * chunks go with it. Files stored before keep their bytes, as one chunk each.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('upload_chunks')
    .addColumn('upload_id', 'text', (c) => c.notNull().references('uploads.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('data', 'bytea', (c) => c.notNull())
    .addPrimaryKeyConstraint('upload_chunks_pkey', ['upload_id', 'seq'])
    .execute();
  await db.schema
    .createTable('customer_file_chunks')
    .addColumn('file_id', 'text', (c) => c.notNull().references('customer_files.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('data', 'bytea', (c) => c.notNull())
    .addPrimaryKeyConstraint('customer_file_chunks_pkey', ['file_id', 'seq'])
    .execute();

  await sql`insert into upload_chunks (upload_id, seq, data)
    select id, 0, data from uploads where size > 0`.execute(db);
  await db.schema.alterTable('uploads').dropConstraint('uploads_size_check').execute();
  await db.schema.alterTable('uploads').dropColumn('data').execute();
  await db.schema
    .alterTable('uploads')
    .alterColumn('sha256', (c) => c.dropNotNull())
    .execute();
  await db.schema
    .alterTable('uploads')
    .addCheckConstraint('uploads_size_check', sql`size >= 0`)
    .execute();

  await sql`insert into customer_file_chunks (file_id, seq, data)
    select id, 0, data from customer_files where size > 0`.execute(db);
  await db.schema.alterTable('customer_files').dropConstraint('customer_files_size_check').execute();
  await db.schema.alterTable('customer_files').dropColumn('data').execute();
  await db.schema
    .alterTable('customer_files')
    .addCheckConstraint('customer_files_size_check', sql`size >= 0`)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('customer_files').dropConstraint('customer_files_size_check').execute();
  await db.schema
    .alterTable('customer_files')
    .addColumn('data', 'bytea', (c) => c.notNull().defaultTo(sql`''::bytea`))
    .execute();
  await sql`update customer_files f set data = (
    select coalesce(string_agg(c.data, ''::bytea order by c.seq), ''::bytea)
    from customer_file_chunks c where c.file_id = f.id)`.execute(db);
  await db.schema
    .alterTable('customer_files')
    .alterColumn('data', (c) => c.dropDefault())
    .execute();
  await db.schema
    .alterTable('customer_files')
    .addCheckConstraint('customer_files_size_check', sql`size >= 0 and size = octet_length(data)`)
    .execute();

  // Uploads still arriving cannot be kept without their hash.
  await sql`delete from uploads where sha256 is null`.execute(db);
  await db.schema.alterTable('uploads').dropConstraint('uploads_size_check').execute();
  await db.schema
    .alterTable('uploads')
    .alterColumn('sha256', (c) => c.setNotNull())
    .execute();
  await db.schema
    .alterTable('uploads')
    .addColumn('data', 'bytea', (c) => c.notNull().defaultTo(sql`''::bytea`))
    .execute();
  await sql`update uploads u set data = (
    select coalesce(string_agg(c.data, ''::bytea order by c.seq), ''::bytea)
    from upload_chunks c where c.upload_id = u.id)`.execute(db);
  await db.schema
    .alterTable('uploads')
    .alterColumn('data', (c) => c.dropDefault())
    .execute();
  await db.schema
    .alterTable('uploads')
    .addCheckConstraint('uploads_size_check', sql`size >= 0 and size = octet_length(data)`)
    .execute();

  await db.schema.dropTable('customer_file_chunks').execute();
  await db.schema.dropTable('upload_chunks').execute();
}
