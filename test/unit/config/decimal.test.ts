import { describe, expect, it } from 'vitest';
import { canonicalDecimal, toStroops } from '../../../src/config/index.ts';

describe('canonicalDecimal', () => {
  it.each<[unknown, string | null]>([
    ['1', '1'],
    ['1.50', '1.5'],
    ['007.0', '7'],
    ['0.0000001', '0.0000001'],
    [' 2 ', '2'],
    [1, '1'],
    [0.5, '0.5'],
    [1e-7, '0.0000001'],
    [1.5e-7, null],
    [1e21, '1000000000000000000000'],
    ['0.12345678', null],
    ['-1', null],
    [-1, null],
    ['1e3', null],
    ['.5', null],
    ['5.', null],
    ['abc', null],
    [Number.NaN, null],
    [true, null],
  ])('%o → %o', (input, expected) => {
    expect(canonicalDecimal(input)).toBe(expected);
  });

  it('converts to exact stroops', () => {
    expect(toStroops('1')).toBe(10_000_000n);
    expect(toStroops('0.0000001')).toBe(1n);
    expect(toStroops('922337203685.4775807')).toBe(2n ** 63n - 1n);
  });
});
