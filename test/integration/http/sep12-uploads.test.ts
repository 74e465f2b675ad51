// SEP-12 uploads on every test database: files stream into storage in bounded chunks, round-trip byte for
// byte, and the caps of `sep12.uploads` (per file, per request, per customer) and the multipart limits each
// give a 413 that names them, keeping nothing of the refused request.
import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEP9_FIELDS } from '../../../machines/index.ts';
import type { ConfigFile } from '../../../src/config/index.ts';
import { readCustomerFile } from '../../../src/db/customers.repository.ts';
import type { CustomerIntegration } from '../../../src/integrations/customer-integration.ts';
import { createUploadStore, UPLOAD_CHUNK_BYTES } from '../../../src/storage/uploads.ts';
import { buildTestApp, KEYS, testConfigFile, tokenFor, type TestApp } from '../../helpers/app.ts';
import { testDatabases } from '../../helpers/database.ts';
import { multipart, type Part } from '../../helpers/multipart.ts';

const CAPS = { maxFileBytes: 300_000, maxRequestBytes: 500_000, maxCustomerBytes: 800_000 };
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const file = (name: string, data: Buffer): Part => ({
  name,
  filename: `${name}.jpg`,
  contentType: 'image/jpeg',
  data,
});

describe.each(testDatabases())('SEP-12 uploads on $name', (database) => {
  let t: TestApp;
  let token: string;
  /** What the integration read of each field while reviewing (the staged file, before it is taken). */
  const reviewed = new Map<string, Uint8Array | null>();
  let memo = 0;

  beforeAll(async () => {
    const integration: CustomerIntegration = {
      async review(request) {
        for (const name of request.pending) {
          if (request.fields[name]?.kind === 'file') reviewed.set(name, await request.readFile(name));
        }
        return {};
      },
    };
    const base = testConfigFile();
    t = await buildTestApp({
      database,
      file: { ...base, sep12: { ...base.sep12, uploads: CAPS } } as ConfigFile,
      customerIntegration: integration,
    });
    token = await tokenFor(t.config, KEYS.acme.publicKey());
  });
  afterAll(async () => {
    await t?.close();
  });

  const put = (parts: Part[]) => {
    const body = multipart(parts);
    return t.app.inject({
      method: 'PUT',
      url: '/sep12/customer',
      payload: body.payload,
      headers: { authorization: `Bearer ${token}`, ...body.headers },
    });
  };
  const count = async (table: 'uploads' | 'upload_chunks' | 'customer_files' | 'customer_file_chunks') =>
    Number(
      (await sql<{ n: string }>`select count(*) as n from ${sql.table(table)}`.execute(t.db)).rows[0]!.n,
    );
  const customersWithMemo = async (m: string) =>
    (await t.db.selectFrom('customers').select('id').where('memo', '=', m).execute()).length;

  it('files larger than a chunk round-trip byte for byte, stored in chunks no larger than the chunk size', async () => {
    const m = String(++memo);
    // One file over a chunk (and at the per-file cap), one under.
    const sent = { photo_id_front: randomBytes(CAPS.maxFileBytes), photo_id_back: randomBytes(200_000) };
    expect(CAPS.maxFileBytes).toBeGreaterThan(UPLOAD_CHUNK_BYTES);
    const response = await put([
      { name: 'memo', value: m },
      { name: 'first_name', value: 'Ada' },
      ...Object.entries(sent).map(([name, data]) => file(name, data)),
    ]);
    expect(response.statusCode, response.body).toBe(202);
    const id = response.json().id as string;
    for (const [field, data] of Object.entries(sent)) {
      const stored = await readCustomerFile(t.db, id, field);
      expect(sha256(stored!)).toBe(sha256(data));
      // The integration read the same bytes from the staged upload before the actor took it.
      expect(sha256(reviewed.get(field)!)).toBe(sha256(data));
      const row = await t.db
        .selectFrom('customer_files')
        .select(['id', 'size', 'sha256'])
        .where('customer_id', '=', id)
        .where('field', '=', field)
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({ size: data.byteLength, sha256: sha256(data) });
      const chunks = await sql<{ seq: number; bytes: number }>`
        select seq, octet_length(data) as bytes from customer_file_chunks where file_id = ${row.id} order by seq`.execute(
        t.db,
      );
      expect(chunks.rows.map((c) => Number(c.bytes))).toEqual(
        data.byteLength > UPLOAD_CHUNK_BYTES
          ? [UPLOAD_CHUNK_BYTES, data.byteLength - UPLOAD_CHUNK_BYTES]
          : [data.byteLength],
      );
    }
    // Taken: nothing staged is left.
    expect(await count('uploads')).toBe(0);
    expect(await count('upload_chunks')).toBe(0);
  });

  it('a file is stored chunk by chunk while it is still arriving', async () => {
    const store = createUploadStore(t.db, { chunkBytes: 1000 });
    const storedWhileArriving: number[] = [];
    async function* arriving() {
      for (let i = 0; i < 5; i++) {
        // Odd-sized pieces: the store regroups them into rows of exactly chunkBytes.
        yield randomBytes(777);
        storedWhileArriving.push(await count('upload_chunks'));
      }
    }
    const staged = await store.stage({
      account: KEYS.acme.publicKey(),
      contentType: 'image/png',
      filename: null,
      data: arriving(),
    });
    // After 777, 1554, 2331, 3108, 3885 bytes had arrived, 0, 1, 2, 3, 3 rows of 1000 bytes were stored.
    expect(storedWhileArriving).toEqual([0, 1, 2, 3, 3]);
    const rows = await sql<{ bytes: number }>`
      select octet_length(data) as bytes from upload_chunks where upload_id = ${staged.id} order by seq`.execute(
      t.db,
    );
    expect(rows.rows.map((r) => Number(r.bytes))).toEqual([1000, 1000, 1000, 885]);
    expect(staged.size).toBe(3885);
    await store.drop([staged.id]);
    expect(await count('upload_chunks')).toBe(0);
  });

  it('a file over the per-file cap is 413 naming it; nothing of the request is kept', async () => {
    const m = String(++memo);
    const response = await put([
      { name: 'memo', value: m },
      { name: 'first_name', value: 'Ada' },
      file('photo_id_back', randomBytes(1000)),
      file('photo_id_front', randomBytes(CAPS.maxFileBytes + 1)),
    ]);
    expect(response.statusCode).toBe(413);
    expect(response.json()).toEqual({
      error: `photo_id_front is larger than ${CAPS.maxFileBytes} bytes, the cap per file`,
    });
    expect(await count('uploads')).toBe(0);
    expect(await count('upload_chunks')).toBe(0);
    expect(await customersWithMemo(m)).toBe(0);
  });

  it('files over the per-request cap are 413 naming it; nothing of the request is kept', async () => {
    const m = String(++memo);
    const response = await put([
      { name: 'memo', value: m },
      { name: 'first_name', value: 'Ada' },
      file('photo_id_front', randomBytes(250_000)),
      file('photo_id_back', randomBytes(250_001)),
    ]);
    expect(response.statusCode).toBe(413);
    expect(response.json()).toEqual({
      error: `the files of this request total more than ${CAPS.maxRequestBytes} bytes, the cap per request`,
    });
    expect(await count('uploads')).toBe(0);
    expect(await count('upload_chunks')).toBe(0);
    expect(await customersWithMemo(m)).toBe(0);
  });

  it('files over the per-customer cap are 413 naming it; a new file of a field replaces the old one in the count', async () => {
    const m = String(++memo);
    const first = await put([
      { name: 'memo', value: m },
      file('photo_id_front', randomBytes(300_000)),
      file('photo_id_back', randomBytes(200_000)),
    ]);
    expect(first.statusCode, first.body).toBe(202);
    const id = first.json().id as string;
    expect(
      (await put([{ name: 'id', value: id }, file('proof_of_income', randomBytes(250_000))])).statusCode,
    ).toBe(202);
    const filesBefore = await count('customer_files');
    const chunksBefore = await count('customer_file_chunks');

    // 750 000 stored; 100 000 more would be 850 000.
    const over = await put([{ name: 'id', value: id }, file('photo_proof_residence', randomBytes(100_000))]);
    expect(over.statusCode).toBe(413);
    expect(over.json()).toEqual({
      error: `the customer's files would total more than ${CAPS.maxCustomerBytes} bytes, the cap per customer`,
    });
    expect(await count('uploads')).toBe(0);
    expect(await count('upload_chunks')).toBe(0);
    expect(await count('customer_files')).toBe(filesBefore);
    expect(await count('customer_file_chunks')).toBe(chunksBefore);

    // The same 100 000 bytes replacing the 200 000 of photo_id_back: 650 000, within the cap.
    const replacement = randomBytes(100_000);
    const replaced = await put([{ name: 'id', value: id }, file('photo_id_back', replacement)]);
    expect(replaced.statusCode, replaced.body).toBe(202);
    expect(sha256((await readCustomerFile(t.db, id, 'photo_id_back'))!)).toBe(sha256(replacement));
    // The old file's chunks went with it.
    const { rows } = await sql<{ n: string }>`
      select count(*) as n from customer_file_chunks c join customer_files f on f.id = c.file_id
      where f.customer_id = ${id} and f.field = 'photo_id_back'`.execute(t.db);
    expect(Number(rows[0]!.n)).toBe(1);
    expect(await count('customer_file_chunks')).toBe(chunksBefore);
  });

  it('too many fields or files, or a text field too long, each say which limit it was', async () => {
    const m = String(++memo);
    // 260 parts: once 413 "a file is larger than ...".
    const fields = Array.from({ length: 259 }, (_, i) => ({ name: `f${i}`, value: 'x' }));
    const tooManyFields = await put([{ name: 'memo', value: m }, ...fields]);
    expect(tooManyFields.statusCode).toBe(413);
    expect(tooManyFields.json()).toEqual({
      error: 'too many fields: at most 200 text fields in one request',
    });

    // One file per SEP-9 binary field is the most a request can have.
    const binary = Object.entries(SEP9_FIELDS).filter(([, field]) => field.type === 'binary');
    expect(binary).toHaveLength(8);
    const tooManyFiles = await put([
      { name: 'memo', value: m },
      ...binary.map(([name]) => file(name, randomBytes(10))),
      file('photo_id_front_again', randomBytes(10)),
    ]);
    expect(tooManyFiles.statusCode).toBe(413);
    expect(tooManyFiles.json()).toEqual({ error: 'too many files: at most 8 files in one request' });
    expect(await count('uploads')).toBe(0);
    expect(await count('upload_chunks')).toBe(0);

    const long = await put([
      { name: 'memo', value: m },
      { name: 'first_name', value: 'a'.repeat(4001) },
    ]);
    expect(long.statusCode).toBe(400);
    expect(long.json()).toEqual({ error: 'first_name is longer than 4000 bytes' });
    expect(await customersWithMemo(m)).toBe(0);
  });

  it('a file part for a field that is not binary is refused before it is stored', async () => {
    const m = String(++memo);
    const response = await put([
      { name: 'memo', value: m },
      file('photo_id_front', randomBytes(1000)),
      file('first_name', randomBytes(1000)),
    ]);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'first_name is not a binary field: send it as text' });
    expect(await count('uploads')).toBe(0);
    expect(await count('upload_chunks')).toBe(0);
  });
});
