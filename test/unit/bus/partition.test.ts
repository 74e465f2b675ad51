import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fnv1a32, partitionOf } from '../../../src/bus/partition.ts';

describe('partitionOf', () => {
  it('is 32-bit FNV-1a (published test vectors)', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('hashes UTF-8 bytes, not UTF-16 code units', () => {
    const reference = (bytes: number[]): number => {
      let hash = 0x811c9dc5;
      for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
      return hash;
    };
    expect(fnv1a32('é')).toBe(reference([0xc3, 0xa9]));
    expect(fnv1a32('日')).toBe(reference([0xe6, 0x97, 0xa5]));
  });

  it('is stable: pinned values a release must not change (they are part of the wire format)', () => {
    expect(fnv1a32('0b6c2f54-7a55-4a43-9a43-2f2d8f4f8c11')).toBe(2414538745);
    expect(
      ['0b6c2f54-7a55-4a43-9a43-2f2d8f4f8c11', 'tx-1', 'tx-2', 'tx-3'].map((id) => partitionOf(id, 16)),
    ).toEqual([9, 15, 2, 5]);
  });

  it('is stable for actor addresses, which are what the bus partitions by', () => {
    const addresses = [
      'transaction:0b6c2f54-7a55-4a43-9a43-2f2d8f4f8c11',
      'customer:GABC:',
      'customer:GABC:42',
    ];
    expect(addresses.map(fnv1a32)).toEqual([1927772127, 3459617532, 58499166]);
    expect(addresses.map((address) => partitionOf(address, 16))).toEqual([15, 12, 14]);
  });

  it('spreads UUIDs evenly over the partitions', () => {
    const partitions = 16;
    const counts = new Array<number>(partitions).fill(0);
    const n = 16_000;
    for (let i = 0; i < n; i++) counts[partitionOf(randomUUID(), partitions)]! += 1;
    for (const count of counts) {
      expect(count).toBeGreaterThan((n / partitions) * 0.8);
      expect(count).toBeLessThan((n / partitions) * 1.2);
    }
  });

  it('rejects a partition count that is not a positive integer', () => {
    expect(() => partitionOf('t', 0)).toThrow(RangeError);
    expect(() => partitionOf('t', 1.5)).toThrow(RangeError);
  });
});
