import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  IDEMPOTENCY_KEY_PATTERN,
  idempotentTransactionId,
  requestHash,
} from '../../../src/http/sep31/idempotency.ts';

const ACME = 'GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVN';
const RIVAL = 'GBRPYHIL2CI3FNQ4BXLFMNDLFJUNPU2HY3ZMFSHONUCEOASW7QC7OX2H';

describe('idempotentTransactionId', () => {
  it('is a UUIDv5 that never changes for a sending anchor and key', () => {
    // Pinned (cross-checked with Python's uuid.uuid5): a change would orphan every stored key.
    expect(idempotentTransactionId(ACME, 'order-42')).toBe('99f08831-d184-5834-9880-d225276305d2');
    expect(idempotentTransactionId(ACME, 'order-42')).toBe(idempotentTransactionId(ACME, 'order-42'));
    expect(idempotentTransactionId(ACME, 'order-42')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('is scoped to the sending anchor (and its memo) and differs for every key', () => {
    const ids = new Set([
      idempotentTransactionId(ACME, 'order-42'),
      idempotentTransactionId(RIVAL, 'order-42'),
      idempotentTransactionId(`${ACME}:7`, 'order-42'),
      idempotentTransactionId(ACME, 'order-43'),
      idempotentTransactionId(ACME, 'Order-42'),
    ]);
    expect(ids.size).toBe(5);
  });

  it('cannot be confused by a separator inside the account or key', () => {
    expect(idempotentTransactionId(`${ACME}:1`, 'x')).not.toBe(idempotentTransactionId(ACME, '1:x'));
    expect(idempotentTransactionId(`${ACME}","`, 'x')).not.toBe(idempotentTransactionId(ACME, '","x'));
  });
});

describe('requestHash', () => {
  const body = { asset_code: 'USDC', amount: '100', fields: { transaction: { a: '1', b: '2' } } };

  it('is the SHA-256 of the RFC 8785 canonical JSON', () => {
    const canonical = '{"amount":"100","asset_code":"USDC","fields":{"transaction":{"a":"1","b":"2"}}}';
    expect(requestHash(body)).toBe(createHash('sha256').update(canonical).digest('hex'));
  });

  it('ignores key order at every depth', () => {
    const reordered = JSON.parse(
      '{"fields":{"transaction":{"b":"2","a":"1"}},"amount":"100","asset_code":"USDC"}',
    );
    expect(requestHash(reordered)).toBe(requestHash(body));
  });

  it('tells apart any other difference: a value, its JSON type, a field more or less', () => {
    const variants = [
      body,
      { ...body, amount: '100.0' },
      { ...body, amount: 100 },
      { ...body, lang: 'en' },
      { asset_code: 'USDC', amount: '100' },
      { ...body, fields: { transaction: { a: '1', b: '3' } } },
      { ...body, fields: { transaction: { a: '1', b: '2', c: null } } },
    ];
    expect(new Set(variants.map(requestHash)).size).toBe(variants.length);
  });

  it('refuses with a 400 what JSON can carry but canonical JSON cannot', () => {
    for (const body of [{ note: '\ud800' }, { amount: JSON.parse('1e400') as number }]) {
      expect(() => requestHash(body)).toThrow(
        expect.objectContaining({ status: 400, message: expect.stringMatching(/I-JSON/) }),
      );
    }
  });
});

describe('IDEMPOTENCY_KEY_PATTERN', () => {
  const valid = new RegExp(IDEMPOTENCY_KEY_PATTERN);

  it('takes 1 to 255 printable ASCII characters', () => {
    for (const key of ['a', 'order 42', '"8e03978e-40d5-43e8-bc93-6894a57f9324"', '~'.repeat(255)]) {
      expect(valid.test(key), key).toBe(true);
    }
  });

  it('refuses an empty key, a longer one, control characters and non-ASCII', () => {
    for (const key of ['', 'x'.repeat(256), 'a\tb', 'a\nb', 'clé', 'a\u007fb']) {
      expect(valid.test(key), JSON.stringify(key)).toBe(false);
    }
  });
});
