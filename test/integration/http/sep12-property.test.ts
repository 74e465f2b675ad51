// Whatever a sending anchor sends to SEP-12, the answer is never a 5xx, and every 4xx is a JSON {error}.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, KEYS, tokenFor, type TestApp } from '../../helpers/app.ts';

const KEYS_SENT = [
  'id',
  'account',
  'memo',
  'memo_type',
  'type',
  'transaction_id',
  'lang',
  'url',
  'first_name',
  'last_name',
  'bank_number',
  'bank_account_number',
  'email_address',
  'birth_date',
  'sex',
  'photo_id_front',
  'photo_id_front_file_id',
  'mobile_number_verification',
  'organization.name',
  'card.number',
  'country_code',
  '__proto__',
  'constructor',
  'toString',
  '',
];

describe('SEP-12 under arbitrary input', () => {
  let t: TestApp;
  let token: string;
  let boundToken: string;
  let customerId: string;
  let transactionId: string;

  beforeAll(async () => {
    t = await buildTestApp();
    token = await tokenFor(t.config, KEYS.acme.publicKey());
    boundToken = await tokenFor(t.config, `${KEYS.acme.publicKey()}:42`);
    const created = await t.app.inject({
      method: 'PUT',
      url: '/sep12/customer',
      payload: { memo: '7', first_name: 'Ada' },
      headers: { authorization: `Bearer ${token}` },
    });
    customerId = created.json().id;
    transactionId = randomUUID();
  });
  afterAll(async () => {
    await t.close();
  });

  const text = () =>
    fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.constantFrom(
        '',
        ' ',
        'sep31-sender',
        'sep31-receiver',
        'id',
        'text',
        'hash',
        '42',
        '7',
        '18446744073709551616',
        '\u0000',
        'a\u0000b',
        '\ud800',
        'x\udc00y',
        'Ada',
        '12345678',
        'https://example.com/cb',
        'http://localhost:1/cb',
        'x'.repeat(5000),
      ),
      fc.constant(KEYS.acme.publicKey()),
      fc.constant(KEYS.rival.publicKey()),
      fc.constant(randomUUID()),
      fc.constant('placeholder-customer'),
      fc.constant('placeholder-transaction'),
    );
  const json = () =>
    fc.oneof(
      text(),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string(), { maxLength: 3 }),
      fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
    );
  const params = <T>(value: fc.Arbitrary<T>) =>
    fc.dictionary(fc.oneof(fc.constantFrom(...KEYS_SENT), fc.string({ maxLength: 12 })), value, {
      maxKeys: 8,
    });

  /** The real ids sometimes, so lookups get past "not found". */
  function withIds<T>(values: Record<string, T>): Record<string, T | string> {
    const out: Record<string, T | string> = {};
    for (const [key, value] of Object.entries(values)) {
      out[key] =
        value === 'placeholder-customer'
          ? customerId
          : value === 'placeholder-transaction'
            ? transactionId
            : value;
    }
    return out;
  }

  function percent(value: string): string {
    return [...Buffer.from(value, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  }

  function expectSane(response: { statusCode: number; body: string; headers: Record<string, unknown> }) {
    expect(response.statusCode, response.body).toBeLessThan(500);
    if (response.statusCode >= 400) {
      expect(String(response.headers['content-type'])).toMatch(/application\/json/);
      const body = JSON.parse(response.body);
      expect(typeof body.error).toBe('string');
      expect(body.error.length).toBeGreaterThan(0);
    }
  }

  const bearer = fc.constantFrom('acme', 'bound');
  const headersFor = (who: string) => ({ authorization: `Bearer ${who === 'acme' ? token : boundToken}` });

  it('GET /customer', async () => {
    await fc.assert(
      fc.asyncProperty(params(text()), bearer, async (query, who) => {
        const search = Object.entries(withIds(query))
          .map(([k, v]) => `${percent(k)}=${percent(String(v))}`)
          .join('&');
        expectSane(
          await t.app.inject({ method: 'GET', url: `/sep12/customer?${search}`, headers: headersFor(who) }),
        );
      }),
      { numRuns: 150 },
    );
  });

  it('PUT /customer (JSON)', async () => {
    await fc.assert(
      fc.asyncProperty(params(json()), bearer, async (body, who) => {
        expectSane(
          await t.app.inject({
            method: 'PUT',
            url: '/sep12/customer',
            payload: JSON.stringify(withIds(body)),
            headers: { ...headersFor(who), 'content-type': 'application/json' },
          }),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('PUT /customer (form)', async () => {
    await fc.assert(
      fc.asyncProperty(params(text()), bearer, async (body, who) => {
        const form = Object.entries(withIds(body))
          .map(([k, v]) => `${percent(k)}=${percent(String(v))}`)
          .join('&');
        expectSane(
          await t.app.inject({
            method: 'PUT',
            url: '/sep12/customer',
            payload: form,
            headers: { ...headersFor(who), 'content-type': 'application/x-www-form-urlencoded' },
          }),
        );
      }),
      { numRuns: 150 },
    );
  });

  it('PUT /customer/callback and DELETE /customer/:account', async () => {
    await fc.assert(
      fc.asyncProperty(params(json()), text(), bearer, async (body, account, who) => {
        expectSane(
          await t.app.inject({
            method: 'PUT',
            url: '/sep12/customer/callback',
            payload: JSON.stringify(withIds(body)),
            headers: { ...headersFor(who), 'content-type': 'application/json' },
          }),
        );
        expectSane(
          await t.app.inject({
            method: 'DELETE',
            url: `/sep12/customer/${percent(account) || 'x'}`,
            payload: JSON.stringify(withIds(body)),
            headers: { ...headersFor(who), 'content-type': 'application/json' },
          }),
        );
      }),
      { numRuns: 150 },
    );
  });

  it('odd bodies: not an object, wrong content type, broken multipart', async () => {
    // An empty multipart body is an empty PUT, like `{}`.
    expectSane(
      await t.app.inject({
        method: 'PUT',
        url: '/sep12/customer',
        payload: '',
        headers: { ...headersFor('acme'), 'content-type': 'multipart/form-data; boundary=abc' },
      }),
    );
    const cases: { payload: string; type: string }[] = [
      { payload: 'null', type: 'application/json' },
      { payload: '[1,2]', type: 'application/json' },
      { payload: '"text"', type: 'application/json' },
      { payload: '{"first_name":', type: 'application/json' },
      { payload: '{"__proto__":{"x":1}}', type: 'application/json' },
      { payload: 'first_name=a&first_name=b', type: 'application/x-www-form-urlencoded' },
      { payload: 'hello', type: 'text/plain' },
      {
        payload: '--xyz\r\nContent-Disposition: form-data; name="first_name"\r\n\r\nAda',
        type: 'multipart/form-data; boundary=xyz',
      },
      { payload: 'garbage', type: 'multipart/form-data' },
    ];
    for (const { payload, type } of cases) {
      const response = await t.app.inject({
        method: 'PUT',
        url: '/sep12/customer',
        payload,
        headers: { ...headersFor('acme'), 'content-type': type },
      });
      expectSane(response);
      expect(response.statusCode, `${type} ${payload}`).toBeGreaterThanOrEqual(400);
    }
  });
});
