import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AmountError, amounts } from '../../../machines/index.ts';

const { toStroops, fromStroops, normalizeAmount, addAmounts, subtractAmounts, compareAmounts } = amounts;
const { percentOf, roundAmount, isAmount } = amounts;

/** A large amount: 18 whole digits, 7 decimals (more than any Stellar balance). */
const MAX = '999999999999999999.9999999';
const MAX_STROOPS = 10n ** 25n - 1n;
const CANONICAL = /^(0|[1-9]\d*)(\.\d{0,6}[1-9])?$/;

describe('toStroops / fromStroops', () => {
  it.each([
    ['0', 0n],
    ['1', 10_000_000n],
    ['0.0000001', 1n],
    ['12.5', 125_000_000n],
    ['12.5000000', 125_000_000n],
    ['922337203685.4775807', 9_223_372_036_854_775_807n],
  ])('%s is %d stroops', (amount, stroops) => {
    expect(toStroops(amount)).toBe(stroops);
  });

  it.each([
    [0n, '0'],
    [1n, '0.0000001'],
    [10n, '0.000001'],
    [125_000_000n, '12.5'],
    [10_000_000n, '1'],
    [10_000_001n, '1.0000001'],
  ])('%d stroops is "%s" (canonical: no trailing zeros)', (stroops, amount) => {
    expect(fromStroops(stroops)).toBe(amount);
  });

  it.each([
    'NaN',
    '1e5',
    '-1',
    '',
    '1.12345678',
    ' 1',
    '1 ',
    '01',
    '1.',
    '.5',
    '+1',
    '1,5',
    '0x10',
    'Infinity',
  ])('rejects %j', (bad) => {
    expect(isAmount(bad)).toBe(false);
    expect(() => toStroops(bad)).toThrow(AmountError);
  });

  it('reads and writes huge amounts exactly, with any number of whole digits', () => {
    const huge = '123456789012345678901234567890.1234567';
    expect(toStroops(huge)).toBe(1234567890123456789012345678901234567n);
    expect(fromStroops(toStroops(huge))).toBe(huge);
    expect(toStroops(MAX)).toBe(MAX_STROOPS);
    expect(fromStroops(MAX_STROOPS)).toBe(MAX);
    // A sum past 18 digits stays an amount the module reads back.
    expect(toStroops(addAmounts(MAX, MAX))).toBe(2n * MAX_STROOPS);
  });

  it('refuses negative stroops', () => {
    expect(() => fromStroops(-1n)).toThrow(AmountError);
  });

  it('normalizes without changing the value', () => {
    expect(normalizeAmount('10')).toBe('10');
    expect(normalizeAmount('10.1000000')).toBe('10.1');
    expect(normalizeAmount('0.0000000')).toBe('0');
  });
});

describe('arithmetic', () => {
  it('adds and subtracts exactly where floats would not', () => {
    expect(addAmounts('0.1', '0.2')).toBe('0.3');
    expect(addAmounts()).toBe('0');
    expect(addAmounts('0.0000001', '0.0000002', '0.0000007')).toBe('0.000001');
    expect(subtractAmounts('0.3', '0.1')).toBe('0.2');
    expect(subtractAmounts('1', '1')).toBe('0');
    expect(() => subtractAmounts('1', '1.0000001')).toThrow(AmountError);
  });

  it('compares by value, not by text', () => {
    expect(compareAmounts('10', '10.0000000')).toBe(0);
    expect(compareAmounts('9.9999999', '10')).toBe(-1);
    expect(compareAmounts('10.0000001', '10')).toBe(1);
    expect(compareAmounts('2', '10')).toBe(-1);
  });

  it('keeps huge values exact', () => {
    expect(addAmounts(MAX, '0')).toBe(MAX);
    expect(subtractAmounts(MAX, '0.0000001')).toBe('999999999999999999.9999998');
    expect(addAmounts('500000000000000000', '499999999999999999.9999999')).toBe(MAX);
    expect(percentOf(MAX, '100')).toBe(MAX);
    expect(percentOf(MAX, '50')).toBe('500000000000000000');
  });
});

describe('percentOf (half up)', () => {
  it.each([
    ['100', '1.5', 7, '1.5'],
    ['100', '0', 7, '0'],
    ['0.0000001', '50', 7, '0.0000001'], // 0.00000005 rounds up
    ['0.0000001', '49.9999999', 7, '0'],
    ['10.05', '10', 2, '1.01'], // 1.005: a float gives 1.00
    ['10.04', '10', 2, '1'], // 1.004
    ['1234.5678', '12.5', 0, '154'], // 154.320975
    ['1', '150', 3, '1.5'],
    ['33.3333333', '3', 7, '1'], // 0.999999999 rounds up to 1
  ])('%s times %s percent, to %d decimals, is %s', (amount, percent, decimals, expected) => {
    expect(percentOf(amount, percent, decimals)).toBe(expected);
  });

  it('defaults to 7 decimals', () => {
    expect(percentOf('1', '33.3333333')).toBe('0.3333333');
    expect(percentOf('2', '33.3333333')).toBe('0.6666667');
  });
});

describe('roundAmount (half up)', () => {
  const table: [string, number, string][] = [
    ['2.5', 0, '3'],
    ['2.4999999', 0, '2'],
    ['0.5', 0, '1'],
    ['0.4999999', 0, '0'],
    ['1.05', 1, '1.1'],
    ['1.0499999', 1, '1'],
    ['1.005', 2, '1.01'],
    ['1.0049999', 2, '1'],
    ['1.2345', 3, '1.235'],
    ['1.2344999', 3, '1.234'],
    ['1.23445', 4, '1.2345'],
    ['1.2344499', 4, '1.2344'],
    ['1.234565', 5, '1.23457'],
    ['1.2345649', 5, '1.23456'],
    ['1.2345675', 6, '1.234568'],
    ['1.2345674', 6, '1.234567'],
    ['1.2345675', 7, '1.2345675'],
    ['9.9999995', 6, '10'],
    ['999999999999999999.4', 0, '999999999999999999'],
  ];
  it.each(table)('%s to %d decimals is %s', (amount, decimals, expected) => {
    expect(roundAmount(amount, decimals)).toBe(expected);
  });

  it.each([-1, 8, 1.5, Number.NaN])('refuses %d decimals', (decimals) => {
    expect(() => roundAmount('1', decimals)).toThrow(AmountError);
    expect(() => percentOf('1', '1', decimals)).toThrow(AmountError);
  });
});

describe('properties', () => {
  const stroops = fc.bigInt({ min: 0n, max: MAX_STROOPS });
  /** Any valid amount text, including non-canonical ones with trailing zeros. */
  const amountText = fc
    .tuple(
      fc.oneof(fc.constant('0'), fc.bigInt({ min: 1n, max: 10n ** 18n - 1n }).map(String)),
      fc.option(fc.stringMatching(/^\d{1,7}$/), { nil: undefined }),
    )
    .map(([whole, fraction]) => (fraction === undefined ? whole : `${whole}.${fraction}`));

  it('fromStroops gives the canonical text, and toStroops reads it back', () => {
    fc.assert(
      fc.property(stroops, (n) => {
        const text = fromStroops(n);
        expect(text).toMatch(CANONICAL);
        expect(isAmount(text)).toBe(true);
        expect(toStroops(text)).toBe(n);
      }),
    );
  });

  it('fromStroops(toStroops(x)) is canonical, idempotent and equal in value', () => {
    fc.assert(
      fc.property(amountText, (text) => {
        const canonical = fromStroops(toStroops(text));
        expect(canonical).toMatch(CANONICAL);
        expect(normalizeAmount(canonical)).toBe(canonical);
        expect(compareAmounts(canonical, text)).toBe(0);
      }),
    );
  });

  it('add, subtract and compare agree with bigint arithmetic', () => {
    const half = fc.bigInt({ min: 0n, max: MAX_STROOPS / 2n });
    fc.assert(
      fc.property(half, half, (a, b) => {
        const [x, y] = [fromStroops(a), fromStroops(b)];
        expect(addAmounts(x, y)).toBe(fromStroops(a + b));
        expect(compareAmounts(x, y)).toBe(a < b ? -1 : a > b ? 1 : 0);
        if (a >= b) expect(subtractAmounts(x, y)).toBe(fromStroops(a - b));
        else expect(() => subtractAmounts(x, y)).toThrow(AmountError);
      }),
    );
  });

  it('roundAmount lands on the nearest multiple, ties up', () => {
    fc.assert(
      fc.property(stroops, fc.integer({ min: 0, max: 7 }), (n, decimals) => {
        const step = 10n ** BigInt(7 - decimals);
        const rounded = toStroops(roundAmount(fromStroops(n), decimals));
        expect(rounded % step).toBe(0n);
        const distance = rounded - n;
        expect(distance * 2n).toBeLessThanOrEqual(step);
        expect(distance * 2n).toBeGreaterThan(-step);
      }),
    );
  });
});
