// Migration 2026-12-03-011 moves the bytes of files stored whole into chunk rows, and back on the way down.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readCustomerFile } from '../../../src/db/customers.repository.ts';
import { migrateTo, migrateToLatest } from '../../../src/db/migrate.ts';
import { readStagedUpload } from '../../../src/storage/uploads.ts';
import { testDatabases, type OpenTestDatabase } from '../../helpers/database.ts';

const BEFORE = '2026-12-03-010-idempotency-keys';

describe.each(testDatabases())('upload chunks migration on $name', (database) => {
  let t: OpenTestDatabase;
  beforeEach(async () => {
    t = await database.open();
  });
  afterEach(async () => {
    await t.close();
  });

  it('keeps the bytes of customer files and staged uploads stored before it, up and down', async () => {
    await migrateTo(t.db, BEFORE);
    const photo = randomBytes(300_000);
    await sql`insert into customers (id, account, memo, status) values ('c1', 'G', null, 'NEEDS_INFO')`.execute(
      t.db,
    );
    await sql`insert into customer_files (id, customer_id, field, content_type, size, sha256, data)
      values ('f1', 'c1', 'photo_id_front', 'image/png', ${photo.byteLength}, 'h', ${photo})`.execute(t.db);
    await sql`insert into uploads (id, account, content_type, size, sha256, data)
      values ('u1', 'G', 'image/png', ${photo.byteLength}, 'h', ${photo}),
             ('u0', 'G', 'image/png', 0, 'h', ''::bytea)`.execute(t.db);

    await migrateToLatest(t.db);
    expect(Buffer.from((await readCustomerFile(t.db, 'c1', 'photo_id_front'))!).equals(photo)).toBe(true);
    expect(Buffer.from((await readStagedUpload(t.db, 'u1'))!).equals(photo)).toBe(true);
    expect((await readStagedUpload(t.db, 'u0'))!.byteLength).toBe(0);

    await migrateTo(t.db, BEFORE);
    const file = await sql<{ data: Uint8Array }>`select data from customer_files where id = 'f1'`.execute(
      t.db,
    );
    const upload = await sql<{ data: Uint8Array }>`select data from uploads where id = 'u1'`.execute(t.db);
    expect(Buffer.from(file.rows[0]!.data).equals(photo)).toBe(true);
    expect(Buffer.from(upload.rows[0]!.data).equals(photo)).toBe(true);
  });
});
