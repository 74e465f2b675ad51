import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertPrefix,
  assertTopic,
  decodeSubjectToken,
  encodeSubjectToken,
  lastToken,
  messageSubject,
  messagesFilter,
  partitionFilter,
  repliesFilter,
  replySubject,
  signalSubject,
  streamName,
} from '../../../src/bus/subjects.ts';

describe('subject catalog', () => {
  it('puts everything of a deployment under its prefix', () => {
    expect(streamName('mooring')).toBe('mooring_events');
    expect(messageSubject('mooring', 3, 'transaction:0b6c2f54-7a55-4a43-9a43-2f2d8f4f8c11')).toBe(
      'mooring.in.3.transaction:0b6c2f54-7a55-4a43-9a43-2f2d8f4f8c11',
    );
    expect(messagesFilter('mooring')).toBe('mooring.in.>');
    expect(partitionFilter('mooring', 3)).toBe('mooring.in.3.*');
    expect(replySubject('mooring', 'ab12', 7)).toBe('mooring.reply.ab12.7');
    expect(repliesFilter('mooring', 'ab12')).toBe('mooring.reply.ab12.*');
    expect(signalSubject('mooring', 'outbox.execute_payout')).toBe('mooring.signal.outbox.execute_payout');
  });
});

describe('subject tokens', () => {
  it('keeps safe addresses readable', () => {
    for (const address of ['transaction:0b6c2f54-7a55-4a43-9a43-2f2d8f4f8c11', 'customer:GABC:', 'tx_1']) {
      expect(encodeSubjectToken(address)).toBe(address);
    }
  });

  it('encodes any address as one token without . * > or whitespace, reversibly', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, unit: 'grapheme' }), (address) => {
        const token = encodeSubjectToken(address);
        expect(token).toMatch(/^[A-Za-z0-9_:~-]+$/);
        expect(decodeSubjectToken(token)).toBe(address);
        const subject = messageSubject('p', 0, address);
        // One token: the partition's filter (`p.in.0.*`) matches it, and the address comes back.
        expect(subject.split('.')).toHaveLength(4);
        expect(lastToken(subject)).toBe(token);
      }),
    );
  });

  it('encodes unsafe addresses with ~ and base64url', () => {
    expect(encodeSubjectToken('customer:GABC:memo 1')).toBe(
      `~${Buffer.from('customer:GABC:memo 1').toString('base64url')}`,
    );
  });

  it('is one-to-one, also for addresses that look encoded', () => {
    const addresses = ['a.b', '~YS5i', 'YS5i', '~', 'a b', 'a*b', 'a>b'];
    const tokens = addresses.map(encodeSubjectToken);
    expect(new Set(tokens).size).toBe(addresses.length);
    expect(tokens.map(decodeSubjectToken)).toEqual(addresses);
  });
});

describe('prefix and topic rules', () => {
  it('accepts a prefix of 1-32 letters, digits, "_" and "-"', () => {
    for (const prefix of ['mooring', 'a', 'A_b-9', 'x'.repeat(32)]) {
      expect(() => assertPrefix(prefix), prefix).not.toThrow();
    }
  });

  it('rejects any other prefix', () => {
    for (const prefix of ['', 'a.b', 'a b', 'a*', 'a>', 'ü', 'x'.repeat(33)]) {
      expect(() => assertPrefix(prefix), prefix).toThrow(/Invalid NATS prefix/);
    }
  });

  it('accepts dot-separated safe tokens as topics', () => {
    for (const topic of ['outbox', 'outbox.execute_payout', 'a-b.c_d.E9']) {
      expect(() => assertTopic(topic), topic).not.toThrow();
    }
  });

  it('rejects empty tokens, wildcards and whitespace in topics', () => {
    for (const topic of ['', '.a', 'a.', 'a..b', 'a b', '*', '>', 'a.*', 'a.>', 'a:b', 'ü']) {
      expect(() => assertTopic(topic), topic).toThrow(/Invalid signal topic/);
    }
  });
});
