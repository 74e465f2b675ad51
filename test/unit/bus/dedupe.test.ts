import { describe, expect, it } from 'vitest';
import { RecentIds } from '../../../src/bus/dedupe.ts';

describe('RecentIds', () => {
  it('reports duplicates', () => {
    const ids = new RecentIds(10);
    expect(ids.add('a')).toBe(true);
    expect(ids.add('a')).toBe(false);
    expect(ids.has('a')).toBe(true);
    expect(ids.has('b')).toBe(false);
    expect(ids.size).toBe(1);
  });

  it('never holds more than its capacity, forgetting the least recently seen id', () => {
    const ids = new RecentIds(3);
    for (const id of ['a', 'b', 'c']) ids.add(id);
    expect(ids.add('a')).toBe(false); // seen again: now the most recent
    ids.add('d'); // evicts b, the least recently seen
    expect(ids.size).toBe(3);
    expect(['a', 'b', 'c', 'd'].map((id) => ids.has(id))).toEqual([true, false, true, true]);
    expect(ids.add('b')).toBe(true); // forgotten, so new again
    for (let i = 0; i < 1000; i++) ids.add(`x${i}`);
    expect(ids.size).toBe(3);
    expect(['x997', 'x998', 'x999'].every((id) => ids.has(id))).toBe(true);
  });

  it('works with a capacity of one', () => {
    const ids = new RecentIds(1);
    expect(ids.add('a')).toBe(true);
    expect(ids.add('b')).toBe(true);
    expect(ids.add('a')).toBe(true);
    expect(ids.add('a')).toBe(false);
  });

  it('rejects a capacity that is not a positive integer', () => {
    for (const capacity of [0, -1, 1.5, Number.NaN])
      expect(() => new RecentIds(capacity)).toThrow(RangeError);
  });
});
