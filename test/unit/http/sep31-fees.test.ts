import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { amounts } from '../../../machines/index.ts';
import { exactFee, priceTransaction } from '../../../src/http/sep31/fees.ts';

const ISSUER = 'GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVN';
const asset = (feeFixed: string, feePercent: string, significantDecimals = 2) => ({
  code: 'USDC',
  issuer: ISSUER,
  significantDecimals,
  sep31: {
    enabled: true,
    minAmount: '0',
    maxAmount: '1000000',
    feeFixed,
    feePercent,
    fundingMethods: ['SEPA'],
    quotesSupported: false,
    quotesRequired: false,
  },
});

describe('priceTransaction', () => {
  it('prices 100 at 0.5 + 1 %: fee 1.5, amount_out 98.5, with both parts', () => {
    expect(priceTransaction(asset('0.5', '1'), '100')).toEqual({
      amountIn: '100',
      amountOut: '98.5',
      fee: {
        total: '1.5',
        asset: `stellar:USDC:${ISSUER}`,
        details: [
          { name: 'fixed', amount: '0.5' },
          { name: 'percent', amount: '1' },
        ],
      },
    });
  });

  it('rounds half up to the significant decimals', () => {
    expect(priceTransaction(asset('0', '1'), '0.5').fee.total).toBe('0.01'); // 0.005
    expect(priceTransaction(asset('0', '1'), '0.49').fee.total).toBe('0'); // 0.0049
    expect(priceTransaction(asset('0.5', '1'), '100.5').fee.total).toBe('1.51'); // 1.505
    expect(priceTransaction(asset('0', '2.5', 0), '3').fee.total).toBe('0'); // 0.075
    expect(priceTransaction(asset('0', '2.5', 7), '3').fee.total).toBe('0.075');
  });

  it('leaves zero parts out, and the details out entirely for a free transfer', () => {
    expect(priceTransaction(asset('0', '1'), '100').fee.details).toEqual([{ name: 'percent', amount: '1' }]);
    expect(priceTransaction(asset('2', '0'), '100').fee.details).toEqual([{ name: 'fixed', amount: '2' }]);
    expect(priceTransaction(asset('0', '0'), '100').fee).toEqual({
      total: '0',
      asset: `stellar:USDC:${ISSUER}`,
    });
  });

  it('says when the fee exceeds the amount, and allows a fee equal to it', () => {
    expect(priceTransaction(asset('2', '0'), '1.99').amountOut).toBeNull();
    expect(priceTransaction(asset('2', '0'), '2').amountOut).toBe('0');
  });

  it('rounds once: no double rounding through 7 decimal places', () => {
    // 1.00 × 0.499996 % = 0.00499996: rounds to 0.00, though rounding to 7 places first would give 0.01.
    expect(exactFee('1', '0', '0.499996', 2)).toBe('0');
    expect(amounts.roundAmount(amounts.percentOf('1', '0.499996', 7), 2)).toBe('0.01');
  });

  it('always adds up: total = fixed + percent, amount_out = amount − total, total = exact rounding', () => {
    const decimal = (max: number, places: number) =>
      fc.bigInt({ min: 0n, max: BigInt(max) * 10n ** BigInt(places) }).map((n) => {
        const s = n.toString().padStart(places + 1, '0');
        return places === 0 ? s : `${s.slice(0, -places)}.${s.slice(-places)}`;
      });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 7 }),
        decimal(100, 7),
        decimal(100, 7),
        fc.integer({ min: 0, max: 7 }).chain((d) => decimal(1_000_000, d)),
        (decimals, fixed, percent, amount) => {
          const priced = priceTransaction(asset(fixed, percent, decimals), amount);
          const parts = (priced.fee.details ?? []).map((d) => d.amount);
          expect(amounts.addAmounts('0', ...parts)).toBe(priced.fee.total);
          // Reference: the exact fee in units of 10^-16 (stroops × stroops / 100 is exactly that), rounded half up.
          const exact =
            amounts.toStroops(fixed) * 10n ** 9n + amounts.toStroops(amount) * amounts.toStroops(percent);
          const unit = 10n ** BigInt(16 - decimals);
          const expected = ((exact + unit / 2n) / unit) * 10n ** BigInt(7 - decimals);
          expect(amounts.toStroops(priced.fee.total)).toBe(expected);
          if (priced.amountOut === null) {
            expect(amounts.compareAmounts(priced.fee.total, amount)).toBe(1);
          } else {
            expect(amounts.addAmounts(priced.amountOut, priced.fee.total)).toBe(
              amounts.normalizeAmount(amount),
            );
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
