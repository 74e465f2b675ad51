import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { amounts } from '../../../machines/index.ts';
import { MooringError } from '../../../src/errors.ts';
import { memoProblem, newHashMemo } from '../../../src/http/sep31/memo.ts';
import { checkAmount } from '../../../src/http/sep31/validate-post.ts';

const asset = (significantDecimals = 7) => ({
  code: 'USDC',
  significantDecimals,
  sep31: {
    enabled: true,
    minAmount: '0.0000001',
    maxAmount: '922337203685.4775807',
    feeFixed: '0',
    feePercent: '0',
    fundingMethods: ['SEPA'],
    quotesSupported: false,
    quotesRequired: false,
  },
});

function refusal(raw: unknown, decimals = 7): string {
  try {
    checkAmount(raw, asset(decimals));
  } catch (error) {
    expect(error).toBeInstanceOf(MooringError);
    expect((error as MooringError).status).toBe(400);
    return (error as MooringError).message;
  }
  throw new Error(`accepted ${String(raw)}`);
}

describe('checkAmount', () => {
  it.each([
    ['100', '100'],
    ['100.50', '100.5'],
    ['0100.5', '100.5'],
    ['1.00000000', '1'], // trailing zeros carry no value
    [100, '100'],
    [0.1, '0.1'],
    [12.3456789, '12.3456789'],
    ['922337203685.4775807', '922337203685.4775807'],
  ])('reads %j as %s', (raw, expected) => {
    expect(checkAmount(raw, asset())).toBe(expected);
  });

  it.each([
    [undefined, 'amount is required'],
    [null, 'amount is required'],
    ['', 'amount is required'],
    [Number.NaN, 'amount must be a finite number'],
    [Number.POSITIVE_INFINITY, 'amount must be a finite number'],
    [{}, 'amount must be a decimal string or a number'],
    [[1], 'amount must be a decimal string or a number'],
    ['NaN', 'positive decimal number'],
    ['1e400', 'positive decimal number'],
    [1e-7, 'positive decimal number'], // String(1e-7) = "1e-7"
    [1e21, 'positive decimal number'], // "1e+21"
    ['-1', 'positive decimal number'],
    [-1, 'positive decimal number'],
    [' 1', 'positive decimal number'],
    ['1 ', 'positive decimal number'],
    ['0x10', 'positive decimal number'],
    ['1,5', 'positive decimal number'],
    ['.5', 'positive decimal number'],
    ['5.', 'positive decimal number'],
    ['١٢', 'positive decimal number'],
    ['0', 'amount must be greater than 0'],
    [0, 'amount must be greater than 0'],
    ['0.00000001', 'at most 7 decimal places'],
    [0.30000000000000004, 'at most 7 decimal places'],
    ['922337203685.4775808', 'amount must be at most 922337203685.4775807 USDC'],
    ['1'.repeat(65), 'positive decimal number'],
  ])('refuses %j: %s', (raw, message) => {
    expect(refusal(raw)).toContain(message);
  });

  it("refuses more decimals than the asset's significant decimals", () => {
    expect(refusal('1.001', 2)).toBe('amount must have at most 2 decimal places for USDC');
    expect(checkAmount('1.010', asset(2))).toBe('1.01');
    expect(refusal('1.5', 0)).toBe('amount must have at most 0 decimal places for USDC');
  });

  it('never reads a decimal string differently from its exact value', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 18n }),
        fc.integer({ min: 0, max: 7 }),
        (stroops, places) => {
          const unit = 10n ** BigInt(7 - places);
          const value = (stroops / unit) * unit || unit;
          const text = `${value / 10_000_000n}.${(value % 10_000_000n).toString().padStart(7, '0')}`;
          const parsed = checkAmount(text, {
            ...asset(),
            sep31: { ...asset().sep31, maxAmount: '1000000000000' },
          });
          expect(amounts.toStroops(parsed)).toBe(value);
        },
      ),
    );
  });
});

describe('memos', () => {
  it('draws 32-byte hash memos in base64, different each time', () => {
    const a = newHashMemo();
    const b = newHashMemo();
    expect(a.type).toBe('hash');
    expect(Buffer.from(a.value, 'base64')).toHaveLength(32);
    expect(memoProblem('hash', a.value)).toBeNull();
    expect(a.value).not.toBe(b.value);
  });

  it.each([
    ['id', '0', true],
    ['id', '18446744073709551615', true],
    ['id', '18446744073709551616', false],
    ['id', '-1', false],
    ['id', '01', false],
    ['id', '1.5', false],
    ['text', 'hello', true],
    ['text', 'x'.repeat(28), true],
    ['text', 'x'.repeat(29), false],
    ['text', 'é'.repeat(14), true], // 28 bytes
    ['text', 'é'.repeat(15), false], // 30 bytes
    ['text', '', false],
    ['hash', 'ab'.repeat(32), true],
    ['hash', 'AB'.repeat(32), true],
    ['hash', 'ab'.repeat(31), false],
    ['hash', Buffer.alloc(32, 7).toString('base64'), true],
    ['hash', Buffer.alloc(31, 7).toString('base64'), false],
    ['hash', Buffer.alloc(33, 7).toString('base64'), false],
    ['hash', 'not a hash', false],
  ] as const)('%s memo %j valid: %s', (type, value, valid) => {
    expect(memoProblem(type, value) === null).toBe(valid);
  });
});
