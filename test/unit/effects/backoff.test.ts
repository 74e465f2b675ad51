import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../src/effects/relay.ts';

describe('backoffDelay', () => {
  it('starts at 5 s, doubles, and is capped at 1 h by default', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n))).toEqual([5_000, 10_000, 20_000, 40_000, 80_000]);
    expect(backoffDelay(11)).toBe(3_600_000);
    expect(backoffDelay(10_000)).toBe(3_600_000);
  });

  it('is configurable', () => {
    const backoff = { initialMs: 100, factor: 3, maxMs: 1_000 };
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, backoff))).toEqual([100, 300, 900, 1_000]);
  });
});
