// SEP-12 storage on every test database (PGlite, and PostgreSQL when DATABASE_URL is set): binary fields,
// concurrent registrations of one (account, memo), concurrent updates of one customer.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCustomerFile } from '../../../src/db/customers.repository.ts';
import { findTransaction, listEvents } from '../../../src/db/transactions.repository.ts';
import { accountAssigned, payment, transactionInput } from '../../fixtures/transactions.ts';
import { testDatabases } from '../../helpers/database.ts';
import { buildTestApp, eventually, KEYS, tokenFor, type TestApp } from '../../helpers/app.ts';
import { multipart } from '../../helpers/multipart.ts';

describe.each(testDatabases())('SEP-12 on $name', (database) => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await buildTestApp({ database });
    token = await tokenFor(t.config, KEYS.acme.publicKey());
  });
  afterAll(async () => {
    await t?.close();
  });

  const put = (payload: Record<string, string>) =>
    t.app.inject({
      method: 'PUT',
      url: '/sep12/customer',
      payload,
      headers: { authorization: `Bearer ${token}` },
    });

  it('stores a binary field byte for byte', async () => {
    const photo = randomBytes(70_000);
    const body = multipart([
      { name: 'memo', value: '1' },
      { name: 'first_name', value: 'Ada' },
      { name: 'photo_id_back', filename: 'back.pdf', contentType: 'application/pdf', data: photo },
    ]);
    const response = await t.app.inject({
      method: 'PUT',
      url: '/sep12/customer',
      payload: body.payload,
      headers: { authorization: `Bearer ${token}`, ...body.headers },
    });
    expect(response.statusCode, response.body).toBe(202);
    const { rows } = await sql<{ size: number }>`
      select size from customer_files where customer_id = ${response.json().id}`.execute(t.db);
    expect(rows[0]!.size).toBe(photo.byteLength);
    const stored = await readCustomerFile(t.db, response.json().id, 'photo_id_back');
    expect(Buffer.from(stored!).equals(photo)).toBe(true);
  });

  it('concurrent first PUTs of one (account, memo) create one customer', async () => {
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, i) => put({ memo: '2', first_name: `Ada${'a'.repeat(i)}` })),
    );
    for (const response of responses) expect(response.statusCode, response.body).toBe(202);
    expect(new Set(responses.map((r) => r.json().id)).size).toBe(1);
    const count = await t.db
      .selectFrom('customers')
      .select(t.db.fn.countAll<string>().as('n'))
      .where('memo', '=', '2')
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1);
  });

  it('concurrent updates of one customer all land, each as its own version', async () => {
    const id = (await put({ memo: '3', type: 'sep31-receiver', first_name: 'Ada' })).json().id;
    const updates: Record<string, string>[] = [
      { last_name: 'Lovelace' },
      { bank_account_number: '12345678' },
      { bank_number: '021000021' },
      { email_address: 'ada@example.com' },
    ];
    const responses = await Promise.all(updates.map((fields) => put({ id, ...fields })));
    for (const response of responses) expect(response.statusCode, response.body).toBe(202);
    const row = await t.db.selectFrom('customers').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(Object.keys(row.fields).sort()).toEqual([
      'bank_account_number',
      'bank_number',
      'email_address',
      'first_name',
      'last_name',
    ]);
    expect(row.version).toBe(1 + updates.length);
    expect(row.status).toBe('ACCEPTED');
  });

  it('a fix racing a GET resumes the waiting transaction exactly once', async () => {
    const id = (
      await put({
        memo: '4',
        type: 'sep31-receiver',
        first_name: 'Ada',
        last_name: 'Lovelace',
        bank_account_number: '1',
        bank_number: '2',
      })
    ).json().id;
    const input = transactionInput({ sendingAnchor: KEYS.acme.publicKey(), receiverId: id });
    await t.host.create(input, { eventId: 'create', then: [accountAssigned()] });
    const at = '2026-11-24T10:10:00.000Z';
    await t.host.apply({
      eventId: 'pay',
      transactionId: input.id,
      event: { type: 'PAYMENT_RECEIVED', at, payment: payment() },
    });
    await t.host.apply({
      eventId: 'info',
      transactionId: input.id,
      event: { type: 'CUSTOMER_INFO_NEEDED', at, message: 'wrong account', customerType: 'sep31-receiver' },
    });
    const get = () =>
      t.app.inject({
        method: 'GET',
        url: '/sep12/customer',
        query: { transaction_id: input.id, type: 'sep31-receiver' },
        headers: { authorization: `Bearer ${token}` },
      });
    const fix = { id, first_name: 'Ada', last_name: 'Lovelace', bank_account_number: '3', bank_number: '2' };
    const responses = await Promise.all([get(), put(fix), get(), put(fix), get()]);
    for (const response of responses) expect(response.statusCode, response.body).toBeLessThan(300);
    // The customer tells the transaction after its commit: the transaction moves a moment later.
    await eventually(
      'the transaction back in pending_receiver',
      async () => (await findTransaction(t.db, input.id))?.status === 'pending_receiver',
    );
    const updated = (await listEvents(t.db, input.id)).filter(
      (e) => e.event_type === 'CUSTOMER_INFO_UPDATED',
    );
    expect(updated).toHaveLength(1);
  });
});
