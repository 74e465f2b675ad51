import { randomBytes, randomUUID } from 'node:crypto';
import { Keypair, MuxedAccount, Account } from '@stellar/stellar-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../../../src/db/index.ts';
import { readCustomerFile } from '../../../src/db/customers.repository.ts';
import { buildTestApp, KEYS, tokenFor, type TestApp } from '../../helpers/app.ts';
import { multipart, type Part } from '../../helpers/multipart.ts';

const acme = () => KEYS.acme.publicKey();
const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const memo = () => String(Math.floor(Math.random() * 1e12));

const NAMES = { first_name: 'Ada', last_name: 'Lovelace' };
const BANK = { bank_account_number: '12345678', bank_number: '021000021' };

async function customerRow(db: Kysely<Database>, id: string) {
  return db.selectFrom('customers').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

describe('SEP-12', () => {
  let t: TestApp;
  let token: string;
  let rivalToken: string;

  beforeAll(async () => {
    t = await buildTestApp();
    token = await tokenFor(t.config, acme());
    rivalToken = await tokenFor(t.config, KEYS.rival.publicKey());
  });
  afterAll(async () => {
    await t.close();
  });

  const get = (query: Record<string, string>, bearer = token) =>
    t.app.inject({ method: 'GET', url: '/sep12/customer', query, headers: auth(bearer) });
  const put = (payload: Record<string, unknown>, bearer = token) =>
    t.app.inject({ method: 'PUT', url: '/sep12/customer', payload, headers: auth(bearer) });

  async function register(fields: Record<string, string>, extra: Record<string, string> = {}) {
    const response = await put({ memo: memo(), ...extra, ...fields });
    expect(response.statusCode, response.body).toBe(202);
    return response.json().id as string;
  }

  describe('authentication', () => {
    it('answers 403 JSON without a token, with a bad token, and for an account that is not a sending anchor', async () => {
      const stranger = await tokenFor(t.config, KEYS.stranger.publicKey());
      const requests = [
        t.app.inject({ method: 'GET', url: '/sep12/customer' }),
        t.app.inject({ method: 'GET', url: '/sep12/customer', headers: auth('not-a-jwt') }),
        get({}, stranger),
        put({ first_name: 'Ada' }, stranger),
        t.app.inject({ method: 'DELETE', url: `/sep12/customer/${acme()}` }),
        t.app.inject({
          method: 'PUT',
          url: '/sep12/customer/callback',
          payload: { url: 'https://x.example' },
        }),
      ];
      for (const response of await Promise.all(requests)) {
        expect(response.statusCode).toBe(403);
        expect(response.json()).toEqual({ error: expect.any(String) });
      }
    });
  });

  describe('GET /customer for a customer not registered yet', () => {
    it('asks for the fields of the type, described with SEP-9', async () => {
      const response = await get({ type: 'sep31-receiver', memo: memo() });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({
        status: 'NEEDS_INFO',
        fields: {
          first_name: { type: 'string', description: 'Given or first name' },
          last_name: { type: 'string', description: 'Family or last name' },
          bank_account_number: { type: 'string', description: 'Number identifying bank account' },
          bank_number: {
            type: 'string',
            description: 'Number identifying bank in national banking system (routing number in US)',
          },
        },
      });
      const sender = await get({ type: 'sep31-sender', memo: memo() });
      expect(Object.keys(sender.json().fields)).toEqual(['first_name', 'last_name']);
    });

    it("without any parameter lists every type's fields, the ones not all types need as optional", async () => {
      const response = await get({});
      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(body.status).toBe('NEEDS_INFO');
      expect(body.fields.first_name.optional).toBeUndefined();
      expect(body.fields.bank_number.optional).toBe(true);
    });

    it('refuses an unknown type and transaction_id without type', async () => {
      const unknown = await get({ type: 'sep6-deposit' });
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json().error).toMatch(
        /unknown customer type: sep6-deposit; expected one of sep31-sender/,
      );
      const noType = await get({ transaction_id: randomUUID() });
      expect(noType.statusCode).toBe(400);
      expect(noType.json()).toEqual({ error: 'transaction_id requires type' });
    });

    it('answers 404 for an unknown id', async () => {
      const id = randomUUID();
      const response = await get({ id });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({ error: `customer not found for id: ${id}` });
    });
  });

  describe('PUT /customer', () => {
    it('JSON: registers a sender, ACCEPTED once the names are there; the receiver type still needs bank details', async () => {
      const id = await register(NAMES, { type: 'sep31-sender' });
      const sender = (await get({ id, type: 'sep31-sender' })).json();
      expect(sender).toEqual({
        id,
        status: 'ACCEPTED',
        provided_fields: {
          first_name: { type: 'string', description: 'Given or first name', status: 'ACCEPTED' },
          last_name: { type: 'string', description: 'Family or last name', status: 'ACCEPTED' },
        },
      });
      const receiver = (await get({ id, type: 'sep31-receiver' })).json();
      expect(receiver.status).toBe('NEEDS_INFO');
      expect(Object.keys(receiver.fields)).toEqual(['bank_account_number', 'bank_number']);
      // Without a type: the type it registered as.
      expect((await get({ id })).json().status).toBe('ACCEPTED');
      const row = await customerRow(t.db, id);
      expect(row).toMatchObject({ account: acme(), type: 'sep31-sender', status: 'ACCEPTED', version: 1 });
      expect(row.fields).toEqual({
        first_name: { kind: 'text', value: 'Ada' },
        last_name: { kind: 'text', value: 'Lovelace' },
      });
    });

    it('application/x-www-form-urlencoded: completes a receiver', async () => {
      const m = memo();
      const id = await register(NAMES, { memo: m, type: 'sep31-receiver' });
      expect((await get({ id, type: 'sep31-receiver' })).json().status).toBe('NEEDS_INFO');
      const response = await t.app.inject({
        method: 'PUT',
        url: '/sep12/customer',
        payload: new URLSearchParams({ memo: m, type: 'sep31-receiver', ...BANK }).toString(),
        headers: { ...auth(token), 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(response.statusCode, response.body).toBe(202);
      expect(response.json()).toEqual({ id });
      expect((await get({ id, type: 'sep31-receiver' })).json().status).toBe('ACCEPTED');
    });

    it('multipart/form-data: text fields and a binary photo, stored as bytes', async () => {
      const photo = randomBytes(2048);
      const m = memo();
      const body = multipart([
        { name: 'memo', value: m },
        { name: 'type', value: 'sep31-sender' },
        { name: 'first_name', value: 'Grace' },
        { name: 'last_name', value: 'Hopper' },
        { name: 'photo_id_front', filename: 'front.png', contentType: 'image/png', data: photo },
      ]);
      const response = await t.app.inject({
        method: 'PUT',
        url: '/sep12/customer',
        payload: body.payload,
        headers: { ...auth(token), ...body.headers },
      });
      expect(response.statusCode, response.body).toBe(202);
      const id = response.json().id;
      const view = (await get({ id, type: 'sep31-sender' })).json();
      expect(view.status).toBe('ACCEPTED');
      expect(view.provided_fields.photo_id_front).toEqual({
        type: 'binary',
        description: "Image of front of user's photo ID or passport",
        status: 'ACCEPTED',
      });
      const file = await sql<{ content_type: string; filename: string; size: number }>`
        select content_type, filename, size from customer_files where customer_id = ${id}`.execute(t.db);
      expect(file.rows).toHaveLength(1);
      expect(Buffer.from((await readCustomerFile(t.db, id, 'photo_id_front'))!).equals(photo)).toBe(true);
      expect(file.rows[0]).toMatchObject({ content_type: 'image/png', filename: 'front.png', size: 2048 });

      // The same upload again changes nothing; a different one replaces it.
      const again = await t.app.inject({
        method: 'PUT',
        url: '/sep12/customer',
        payload: body.payload,
        headers: { ...auth(token), ...body.headers },
      });
      expect(again.json()).toEqual({ id });
      expect((await customerRow(t.db, id)).version).toBe(1);
      const other = multipart([
        { name: 'id', value: id },
        { name: 'photo_id_front', filename: 'f.jpg', contentType: 'image/jpeg', data: randomBytes(10) },
      ]);
      await t.app.inject({
        method: 'PUT',
        url: '/sep12/customer',
        payload: other.payload,
        headers: { ...auth(token), ...other.headers },
      });
      const replaced = await sql<{
        size: number;
      }>`select size from customer_files where customer_id = ${id}`.execute(t.db);
      expect(replaced.rows).toEqual([{ size: 10 }]);
    });

    it('multipart: refuses a file for a text field, a text value for a binary field, and a field sent twice', async () => {
      const cases: [Part[], RegExp][] = [
        [
          [{ name: 'first_name', filename: 'a.txt', contentType: 'text/plain', data: Buffer.from('Ada') }],
          /not a binary field/,
        ],
        [[{ name: 'photo_id_front', value: 'aGVsbG8=' }], /binary field/],
        [
          [
            { name: 'first_name', value: 'Ada' },
            { name: 'first_name', value: 'Bob' },
          ],
          /more than once/,
        ],
      ];
      for (const [parts, error] of cases) {
        const body = multipart(parts);
        const response = await t.app.inject({
          method: 'PUT',
          url: '/sep12/customer',
          payload: body.payload,
          headers: { ...auth(token), ...body.headers },
        });
        expect(response.statusCode).toBe(400);
        expect(response.json().error).toMatch(error);
      }
    });

    it('multipart: a file over 5 MiB is 413 JSON', async () => {
      const body = multipart([
        { name: 'memo', value: memo() },
        {
          name: 'photo_id_front',
          filename: 'huge.png',
          contentType: 'image/png',
          data: Buffer.alloc(5 * 1024 * 1024 + 1),
        },
      ]);
      const response = await t.app.inject({
        method: 'PUT',
        url: '/sep12/customer',
        payload: body.payload,
        headers: { ...auth(token), ...body.headers },
      });
      expect(response.statusCode).toBe(413);
      expect(response.json()).toEqual({
        error: 'photo_id_front is larger than 5242880 bytes, the cap per file',
      });
    });

    it('is idempotent: the same PUT gives the same id and writes nothing', async () => {
      const m = memo();
      const first = await put({ memo: m, type: 'sep31-receiver', ...NAMES, ...BANK });
      const second = await put({ memo: m, type: 'sep31-receiver', ...NAMES, ...BANK });
      expect(second.json()).toEqual(first.json());
      const row = await customerRow(t.db, first.json().id);
      expect(row.version).toBe(1);
      expect(row.status).toBe('ACCEPTED');
    });

    it('rejects a malformed field: NEEDS_INFO, the field REJECTED with an error and asked for again', async () => {
      const id = await register(
        { ...NAMES, bank_account_number: '1234', bank_number: 'ABC-123' },
        { type: 'sep31-receiver' },
      );
      const view = (await get({ id, type: 'sep31-receiver' })).json();
      expect(view.status).toBe('NEEDS_INFO');
      expect(view.fields).toEqual({
        bank_number: {
          type: 'string',
          description: 'Number identifying bank in national banking system (routing number in US)',
        },
      });
      expect(view.provided_fields.bank_number).toMatchObject({
        status: 'REJECTED',
        error: 'bank_number must contain digits only',
      });
      expect(view.provided_fields.bank_account_number.status).toBe('ACCEPTED');

      // Sending it again with a good value fixes it; the same bad value stays rejected.
      await put({ id, bank_number: 'ABC-123' });
      expect((await get({ id, type: 'sep31-receiver' })).json().status).toBe('NEEDS_INFO');
      await put({ id, bank_number: '021000021' });
      const fixed = (await get({ id, type: 'sep31-receiver' })).json();
      expect(fixed.status).toBe('ACCEPTED');
      expect(fixed.fields).toBeUndefined();
    });

    it('checks formats: names, email, phone', async () => {
      const id = await register({
        first_name: 'R2D2',
        last_name: 'Lovelace',
        email_address: 'not-an-email',
        mobile_number: '+14155550100',
      });
      const view = (await get({ id, type: 'sep31-sender' })).json();
      expect(view.status).toBe('NEEDS_INFO');
      expect(view.provided_fields.first_name).toMatchObject({ status: 'REJECTED' });
      expect(view.provided_fields.email_address).toMatchObject({ status: 'REJECTED' });
      expect(view.provided_fields.mobile_number).toMatchObject({ status: 'ACCEPTED' });
    });

    it('refuses fields that are not SEP-9, binary fields in JSON, pre-uploaded file ids and empty values', async () => {
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ favourite_colour: 'blue' }, /favourite_colour is not a SEP-9 field/],
        [{ country_code: 'USA' }, /country_code is not a SEP-9 field/],
        [{ photo_id_front: 'aGVsbG8=' }, /binary field/],
        [{ photo_id_front_file_id: 'file-1' }, /pre-uploaded files are not supported/],
        [{ first_name: '   ' }, /first_name must not be empty/],
        [{ first_name: { nested: true } }, /first_name/],
        [{ first_name: 'Ada\u0000' }, /NUL/],
        [{ type: 'sep31-sender', transaction_id: 'x', memo: 'a', memo_type: 'ID' }, /memo_type|transaction/],
      ];
      for (const [payload, error] of cases) {
        const response = await put({ memo: memo(), ...payload });
        expect(response.statusCode, JSON.stringify(payload)).toBe(400);
        expect(response.json().error).toMatch(error);
      }
    });

    it('accepts verification codes for SEP-9 fields', async () => {
      const response = await put({
        memo: memo(),
        mobile_number: '+14155550100',
        mobile_number_verification: '123456',
      });
      expect(response.statusCode).toBe(202);
    });
  });

  describe('memo scoping', () => {
    it('a token without memo registers many customers, one per memo', async () => {
      const [a, b] = [memo(), memo()];
      const first = await register({ first_name: 'Ada' }, { memo: a });
      const second = await register({ first_name: 'Bob' }, { memo: b });
      expect(first).not.toBe(second);
      expect((await get({ memo: a })).json().id).toBe(first);
      expect((await get({ memo: b })).json().id).toBe(second);
      expect((await get({ memo: memo() })).json().id).toBeUndefined();
    });

    it('a token with a memo is bound to it: another memo is 403, none means its own', async () => {
      const m = memo();
      const bound = await tokenFor(t.config, `${acme()}:${m}`);
      const other = await put({ memo: memo(), first_name: 'Eve' }, bound);
      expect(other.statusCode).toBe(403);
      expect(other.json()).toEqual({ error: 'memo does not match the memo of the authenticated account' });
      expect((await get({ memo: memo() }, bound)).statusCode).toBe(403);

      const own = await put({ first_name: 'Ada' }, bound);
      expect(own.statusCode).toBe(202);
      const id = own.json().id;
      expect((await customerRow(t.db, id)).memo).toBe(m);
      // The account-wide token sees it under that memo; another memo's token does not see it by id.
      expect((await get({ memo: m })).json().id).toBe(id);
      const otherBound = await tokenFor(t.config, `${acme()}:${memo()}`);
      expect((await get({ id }, otherBound)).statusCode).toBe(404);
    });

    it('a muxed (M...) token is its account plus the mux id', async () => {
      const id = memo();
      const muxed = new MuxedAccount(new Account(acme(), '0'), id).accountId();
      const muxedToken = await tokenFor(t.config, muxed);
      const response = await put({ account: muxed, first_name: 'Ada' }, muxedToken);
      expect(response.statusCode, response.body).toBe(202);
      expect(await customerRow(t.db, response.json().id)).toMatchObject({ account: acme(), memo: id });
      expect((await get({ memo: id })).json().id).toBe(response.json().id);
    });

    it('the deprecated account parameter must be the authenticated account', async () => {
      const response = await get({ account: KEYS.rival.publicKey() });
      expect(response.statusCode).toBe(403);
      expect(response.json()).toEqual({ error: 'account does not match the authenticated account' });
      expect((await get({ account: acme(), memo: memo() })).statusCode).toBe(200);
    });

    it('memo_type id needs a uint64 memo', async () => {
      expect((await get({ memo: 'abc', memo_type: 'id' })).statusCode).toBe(400);
      expect((await get({ memo: '18446744073709551616', memo_type: 'id' })).statusCode).toBe(400);
      expect((await get({ memo: '42', memo_type: 'id' })).statusCode).toBe(200);
    });
  });

  describe('another sending anchor', () => {
    it("cannot see, change, delete or call back acme's customer", async () => {
      const m = memo();
      const id = await register(NAMES, { memo: m, type: 'sep31-sender' });
      const notFound = { error: `customer not found for id: ${id}` };

      const seen = await get({ id }, rivalToken);
      expect(seen.statusCode).toBe(404);
      expect(seen.json()).toEqual(notFound);
      const changed = await put({ id, first_name: 'Mallory' }, rivalToken);
      expect(changed.statusCode).toBe(404);
      expect(changed.json()).toEqual(notFound);
      const callback = await t.app.inject({
        method: 'PUT',
        url: '/sep12/customer/callback',
        payload: { id, url: 'https://rival.example/cb' },
        headers: auth(rivalToken),
      });
      expect(callback.statusCode).toBe(404);
      const deleted = await t.app.inject({
        method: 'DELETE',
        url: `/sep12/customer/${acme()}`,
        payload: { memo: m },
        headers: auth(rivalToken),
      });
      expect(deleted.statusCode).toBe(403);
      // The rival's own (account, memo) is a different customer.
      expect((await get({ memo: m }, rivalToken)).json().id).toBeUndefined();

      const row = await customerRow(t.db, id);
      expect(row.fields).toMatchObject({ first_name: { kind: 'text', value: 'Ada' } });
      expect(row.callback_url).toBeNull();
    });
  });

  describe('DELETE /customer/:account', () => {
    it("deletes the owner's customer under the memo; 404 when there is none", async () => {
      const m = memo();
      const id = await register(NAMES, { memo: m });
      const del = (payload?: Record<string, string>) =>
        t.app.inject({
          method: 'DELETE',
          url: `/sep12/customer/${acme()}`,
          ...(payload && { payload }),
          headers: auth(token),
        });
      const response = await del({ memo: m });
      expect(response.statusCode).toBe(200);
      expect((await get({ id })).statusCode).toBe(404);
      expect((await t.db.selectFrom('customers').select('id').where('id', '=', id).execute()).length).toBe(0);
      const again = await del({ memo: m });
      expect(again.statusCode).toBe(404);
      expect(again.json()).toEqual({ error: 'customer not found' });
      // No body: the customer without memo.
      expect((await del()).statusCode).toBe(404);
    });

    it('a memo-bound token deletes only under its memo', async () => {
      const m = memo();
      const bound = await tokenFor(t.config, `${acme()}:${m}`);
      await put({ first_name: 'Ada' }, bound);
      const other = await t.app.inject({
        method: 'DELETE',
        url: `/sep12/customer/${acme()}`,
        payload: { memo: memo() },
        headers: auth(bound),
      });
      expect(other.statusCode).toBe(403);
      const own = await t.app.inject({
        method: 'DELETE',
        url: `/sep12/customer/${acme()}`,
        headers: auth(bound),
      });
      expect(own.statusCode).toBe(200);
    });

    it('refuses another account in the path', async () => {
      const response = await t.app.inject({
        method: 'DELETE',
        url: `/sep12/customer/${Keypair.random().publicKey()}`,
        headers: auth(token),
      });
      expect(response.statusCode).toBe(403);
    });
  });
});
