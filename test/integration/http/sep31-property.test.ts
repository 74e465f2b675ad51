import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { persistCustomer, startCustomer, stepCustomerAll } from '../../../machines/index.ts';
import { toJson } from '../../../src/db/index.ts';
import { buildTestApp, KEYS, tokenFor, type TestApp } from '../../helpers/app.ts';

/**
 * Whatever a client sends to a SEP-31 endpoint, the answer is never a 5xx, and every 4xx is JSON with an
 * `error` string.
 */
describe('SEP-31 under arbitrary input', () => {
  let t: TestApp;
  let token: string;
  let customer: string;
  const ids: string[] = [];

  beforeAll(async () => {
    t = await buildTestApp();
    token = await tokenFor(t.config, KEYS.acme.publicKey());
    customer = randomUUID();
    // Accepted as sender and receiver, as SEP-12's customer machine records it.
    const at = new Date().toISOString();
    const fields = ['first_name'];
    const accepted = (type: string) =>
      persistCustomer(
        stepCustomerAll(startCustomer({ type, required: fields, at }), [
          { type: 'FIELDS_PROVIDED', at, fields },
          { type: 'FIELDS_VERIFIED', at, fields },
        ]),
      );
    await t.db
      .insertInto('customers')
      .values({
        id: customer,
        account: KEYS.acme.publicKey(),
        memo: null,
        type: 'sep31-receiver',
        status: 'ACCEPTED',
        fields: toJson({ first_name: { kind: 'text', value: 'Ada' } }),
        statuses: toJson({
          'sep31-sender': accepted('sep31-sender'),
          'sep31-receiver': accepted('sep31-receiver'),
        }),
      })
      .execute();
    for (let i = 0; i < 2; i++) {
      const created = await t.app.inject({
        method: 'POST',
        url: '/sep31/transactions',
        headers: { authorization: `Bearer ${token}` },
        payload: { asset_code: 'USDC', amount: '100', sender_id: customer, receiver_id: customer },
      });
      ids.push(created.json().id);
    }
    // The second one awaits transaction information, so PATCH gets past the status check.
    const id = ids[1]!;
    await t.host.apply({
      eventId: 'pay',
      transactionId: id,
      event: {
        type: 'PAYMENT_RECEIVED',
        at,
        payment: {
          operationId: '1',
          transactionHash: 'cd'.repeat(32),
          amount: '100',
          assetCode: 'USDC',
          assetIssuer: KEYS.issuer.publicKey(),
          createdAt: at,
        },
      },
    });
    await t.host.apply({
      eventId: 'info',
      transactionId: id,
      event: { type: 'TRANSACTION_INFO_NEEDED', at, message: 'x', fields: { ref: { description: 'ref' } } },
    });
  });
  afterAll(() => t.close());

  const scalar = fc.oneof(
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom('', ' ', '\u0000', 'NaN', '1e400', '-1', '0x10', '١٢', '100.0000000001', '9'.repeat(400)),
  );
  const value = fc.oneof(scalar, fc.jsonValue({ maxDepth: 3 }));
  /** Mostly a plausible value, so requests get deep into validation; sometimes anything. */
  const mostly = <T>(good: fc.Arbitrary<T>) =>
    fc.oneof({ arbitrary: good, weight: 12 }, { arbitrary: value, weight: 1 });
  const rarely = <T>(bad: fc.Arbitrary<T>) =>
    fc.oneof({ arbitrary: fc.constant(undefined), weight: 12 }, { arbitrary: bad, weight: 1 });
  const legacyFields = fc.record({ transaction: fc.dictionary(fc.string(), mostly(fc.string())) });
  const bodies = fc.oneof(
    { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 1 },
    {
      arbitrary: fc.record(
        {
          asset_code: mostly(fc.constant('USDC')),
          asset_issuer: mostly(fc.constant(KEYS.issuer.publicKey())),
          amount: mostly(
            fc.oneof(fc.stringMatching(/^\d{1,6}(\.\d{1,9})?$/), fc.double({ min: 0, max: 1e6 })),
          ),
          funding_method: mostly(fc.constantFrom('SEPA', 'SWIFT')),
          lang: mostly(fc.constantFrom('en', 'pt')),
          sender_id: mostly(fc.constant('customer')),
          receiver_id: mostly(fc.constant('customer')),
          refund_memo: rarely(
            fc.oneof(fc.string({ maxLength: 40 }), fc.bigInt({ min: 0n, max: 2n ** 65n }).map(String)),
          ),
          refund_memo_type: rarely(fc.constantFrom('id', 'text', 'hash')),
          quote_id: rarely(value),
          destination_asset: rarely(value),
          fields: mostly(legacyFields),
          url: mostly(
            fc.constantFrom(
              'http://x',
              'https://127.0.0.1/',
              'ftp://a',
              'https://u:p@a/',
              'https://localhost/',
            ),
          ),
        },
        { requiredKeys: ['asset_code', 'amount', 'sender_id', 'receiver_id'] },
      ),
      weight: 4,
    },
    { arbitrary: fc.record({ fields: legacyFields }), weight: 2 },
  );
  const idArb = fc.oneof(
    { arbitrary: fc.constantFrom(0, 1), weight: 4 },
    {
      arbitrary: fc.oneof(fc.uuid(), fc.string(), fc.constantFrom('%00', '..', 'a/b', "' or 1=1 --")),
      weight: 1,
    },
  );
  const headers = fc.record(
    {
      authorization: fc.oneof(
        { arbitrary: fc.constant('valid'), weight: 8 },
        { arbitrary: fc.stringMatching(/^[\x21-\x7e]{0,60}$/).map((s) => `Bearer ${s}`), weight: 1 },
        { arbitrary: fc.constantFrom('Bearer', 'Basic abc', ''), weight: 1 },
      ),
      'content-type': fc.oneof(
        { arbitrary: fc.constant('application/json'), weight: 8 },
        { arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded'), weight: 1 },
      ),
      'accept-language': fc.stringMatching(/^[a-zA-Z-]{0,10}$/),
    },
    { requiredKeys: ['authorization', 'content-type'] },
  );
  const endpoints = ['info', 'post', 'get', 'query', 'patch', 'callback'] as const;

  it('never answers 5xx, and every 4xx is a JSON error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...endpoints),
        idArb,
        bodies,
        headers,
        fc.boolean(),
        async (endpoint, rawId, rawBody, rawHeaders, raw) => {
          const id = typeof rawId === 'number' ? ids[rawId]! : encodeURIComponent(rawId);
          const payload =
            rawBody !== null &&
            typeof rawBody === 'object' &&
            'sender_id' in rawBody &&
            rawBody.sender_id === 'customer'
              ? { ...rawBody, sender_id: customer, receiver_id: customer }
              : rawBody;
          const { authorization, ...rest } = rawHeaders;
          const requestHeaders: Record<string, string> = { ...rest };
          if (authorization !== undefined) {
            requestHeaders.authorization = authorization === 'valid' ? `Bearer ${token}` : authorization;
          }
          const request: InjectOptions = {
            headers: requestHeaders,
            ...(raw
              ? { payload: JSON.stringify(payload) }
              : { payload: payload as InjectOptions['payload'] }),
          };
          const targets: Record<(typeof endpoints)[number], InjectOptions> = {
            info: { method: 'GET', url: `/sep31/info?lang=${encodeURIComponent(String(rawId))}` },
            post: { method: 'POST', url: '/sep31/transactions' },
            get: { method: 'GET', url: `/sep31/transactions/${id}` },
            query: { method: 'GET', url: `/sep31/transactions?id=${id}` },
            patch: { method: 'PATCH', url: `/sep31/transactions/${id}` },
            callback: { method: 'PUT', url: `/sep31/transactions/${id}/callback` },
          };
          const target = targets[endpoint];
          const withBody = target.method !== 'GET';
          const response = await t.app.inject({
            ...target,
            headers: withBody ? request.headers : { ...requestHeaders, 'content-type': undefined },
            ...(withBody && payload !== undefined && { payload: request.payload }),
          } as InjectOptions);
          expect(response.statusCode, `${endpoint} ${response.body}`).toBeLessThan(500);
          if (response.statusCode >= 400) {
            expect(response.headers['content-type']).toMatch(/^application\/json/);
            expect(typeof response.json().error, response.body).toBe('string');
          } else if (response.statusCode !== 204) {
            expect(response.headers['content-type']).toMatch(/^application\/json/);
            response.json();
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
