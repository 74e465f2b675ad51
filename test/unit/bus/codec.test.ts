import { describe, expect, it } from 'vitest';
import {
  MalformedMessageError,
  assertMessage,
  decodeJson,
  decodeMessage,
  encodeJson,
  encodeMessage,
  rawText,
} from '../../../src/bus/codec.ts';

const utf8 = (text: string) => new TextEncoder().encode(text);

describe('message codec', () => {
  it('round-trips a message, unicode and nested JSON included', () => {
    const message = {
      id: 'op-1234567890',
      to: 'customer:GABC:mémo ✓',
      body: {
        type: 'event',
        event: { at: '2026-01-01T00:00:00Z', note: '日本 🚀', list: [1, null, { a: [] }] },
      },
    };
    expect(decodeMessage(encodeMessage(message))).toEqual(message);
  });

  it('encodes the frame only: extra fields do not travel', () => {
    const message = { id: 'e', to: 't', body: null, extra: 'dropped' };
    expect(decodeMessage(encodeMessage(message))).toEqual({ id: 'e', to: 't', body: null });
  });

  it('accepts an id of 512 characters and any JSON body, null included', () => {
    expect(() => assertMessage({ id: 'x'.repeat(512), to: 't', body: null })).not.toThrow();
    for (const body of [0, '', false, [], {}])
      expect(() => assertMessage({ id: 'e', to: 't', body })).not.toThrow();
  });

  it.each([
    ['not JSON', 'nope', /not UTF-8 JSON/],
    ['not UTF-8', new Uint8Array([0x22, 0xff, 0xfe, 0x22]), /not UTF-8 JSON/],
    ['not an object', '42', /not an object/],
    ['null', 'null', /not an object/],
    ['an empty id', '{"id":"","to":"t","body":{}}', /no id/],
    ['an id with a line feed', '{"id":"a\\nb","to":"t","body":{}}', /no id/],
    ['an id with a carriage return', '{"id":"a\\rb","to":"t","body":{}}', /no id/],
    ['an id of 513 characters', `{"id":"${'x'.repeat(513)}","to":"t","body":{}}`, /no id/],
    ['a numeric id', '{"id":42,"to":"t","body":{}}', /no id/],
    ['no id', '{"to":"t","body":{}}', /no id/],
    ['an empty address', '{"id":"e","to":"","body":{}}', /no address/],
    ['no address', '{"id":"e","body":{}}', /no address/],
    ['a numeric address', '{"id":"e","to":7,"body":{}}', /no address/],
    ['no body', '{"id":"e","to":"t"}', /no body/],
  ])('rejects %s', (_what, data, message) => {
    const bytes = typeof data === 'string' ? utf8(data) : data;
    expect(() => decodeMessage(bytes)).toThrow(MalformedMessageError);
    expect(() => decodeMessage(bytes)).toThrow(message);
  });

  it('keeps the parse error as the cause', () => {
    try {
      decodeJson(utf8('{'));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(MalformedMessageError);
      expect((error as Error).cause).toBeInstanceOf(SyntaxError);
    }
  });

  it('encodes JSON as UTF-8 and decodes it back', () => {
    expect(encodeJson({ a: 'é' })).toEqual(utf8('{"a":"é"}'));
    expect(decodeJson(encodeJson({ a: ['é', 1] }))).toEqual({ a: ['é', 1] });
  });

  it('shows any bytes as text, invalid UTF-8 as replacement characters', () => {
    expect(rawText(utf8('plain ✓'))).toBe('plain ✓');
    expect(rawText(new Uint8Array([0x61, 0xff, 0x62]))).toBe('a\uFFFDb');
  });
});
