import { describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope, MalformedEnvelopeError } from '../../../src/bus/codec.ts';

const utf8 = (text: string) => new TextEncoder().encode(text);

describe('envelope codec', () => {
  it('round-trips an envelope', () => {
    const envelope = {
      eventId: 'e',
      transactionId: 't',
      event: { type: 'EXPIRE' as const, at: '2026-01-01T00:00:00Z' },
    };
    expect(decodeEnvelope(encodeEnvelope(envelope))).toEqual(envelope);
  });

  it.each([
    ['not JSON', 'nope'],
    ['not UTF-8', new Uint8Array([0xff, 0xfe])],
    ['not an object', '42'],
    ['no eventId', '{"transactionId":"t","event":{"type":"EXPIRE"}}'],
    ['an eventId with a line break', '{"eventId":"a\\nb","transactionId":"t","event":{"type":"EXPIRE"}}'],
    ['no transactionId', '{"eventId":"e","event":{"type":"EXPIRE"}}'],
    ['no event type', '{"eventId":"e","transactionId":"t","event":{}}'],
  ])('rejects %s', (_what, data) => {
    expect(() => decodeEnvelope(typeof data === 'string' ? utf8(data) : data)).toThrow(
      MalformedEnvelopeError,
    );
  });
});
