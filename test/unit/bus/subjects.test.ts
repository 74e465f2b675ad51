import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertSubjectPrefix,
  decodeSubjectToken,
  encodeSubjectToken,
  eventSubject,
  lastToken,
} from '../../../src/bus/subjects.ts';

describe('subject tokens', () => {
  it('keeps UUIDs and other safe ids readable', () => {
    expect(encodeSubjectToken('0b6c2f54-7a55-4a43-9a43-2f2d8f4f8c11')).toBe(
      '0b6c2f54-7a55-4a43-9a43-2f2d8f4f8c11',
    );
    expect(eventSubject('mooring.events', 3, 'tx_1')).toBe('mooring.events.3.tx_1');
  });

  it('encodes any id as one token without . * > or whitespace, reversibly', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, unit: 'grapheme' }), (id) => {
        const token = encodeSubjectToken(id);
        expect(token).toMatch(/^[A-Za-z0-9_~-]+$/);
        expect(decodeSubjectToken(token)).toBe(id);
        expect(lastToken(eventSubject('p.q', 0, id))).toBe(token);
      }),
    );
  });

  it('is one-to-one, also for ids that look encoded', () => {
    const ids = ['a.b', '~YS5i', 'YS5i', '~', 'a b', 'a*b', 'a>b'];
    const tokens = ids.map(encodeSubjectToken);
    expect(new Set(tokens).size).toBe(ids.length);
  });

  it('rejects prefixes with wildcards, spaces or empty tokens', () => {
    expect(() => assertSubjectPrefix('mooring.events')).not.toThrow();
    for (const bad of ['', 'a..b', 'a.*', 'a.>', 'a b', '.a', 'a.']) {
      expect(() => assertSubjectPrefix(bad), bad).toThrow(/Invalid subject prefix/);
    }
  });
});
