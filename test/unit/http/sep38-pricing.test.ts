import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { amounts } from '../../../machines/index.ts';
import { priceAmounts, PricingError, type PriceRequest } from '../../../src/http/sep38/pricing.ts';

const UNIT = amounts.STROOPS_PER_UNIT;
const s = amounts.toStroops;
const step = (decimals: number) => 10n ** BigInt(7 - decimals);

/** A decimal string with at most `decimals` places, from stroops in [min, max]. */
const decimal = (min: bigint, max: bigint, decimals = 7) =>
  fc.bigInt({ min, max }).map((stroops) => amounts.fromStroops((stroops / step(decimals)) * step(decimals)));

const terms = fc.record({
  price: decimal(1n, 1_000_000n * UNIT),
  feeFixed: decimal(0n, 100n * UNIT),
  feePercent: decimal(0n, 99n * UNIT),
});
const decimals = fc.integer({ min: 0, max: 7 });

/** Prices `request`, or null when it cannot be priced (too small after fees): such cases are skipped. */
function tryPrice(request: PriceRequest) {
  try {
    return priceAmounts(request);
  } catch (error) {
    if (error instanceof PricingError) return null;
    throw error;
  }
}

function checkCommon(
  priced: NonNullable<ReturnType<typeof tryPrice>>,
  sellDecimals: number,
  buyDecimals: number,
) {
  const [sell, buy, fee] = [s(priced.sellAmount), s(priced.buyAmount), s(priced.fee.total)];
  // Every amount carries no more places than its asset has.
  expect(sell % step(sellDecimals)).toBe(0n);
  expect(buy % step(buyDecimals)).toBe(0n);
  expect(fee % step(sellDecimals)).toBe(0n);
  expect(buy > 0n && fee >= 0n && fee < sell).toBe(true);
  // The details add up to the total.
  const details = (priced.fee.details ?? []).reduce((sum, detail) => sum + s(detail.amount), 0n);
  expect(details).toBe(fee);
  // sell_amount = total_price × buy_amount, to the half unit of total_price's 7th place.
  const error = s(priced.totalPrice) * buy - sell * UNIT;
  expect(2n * (error < 0n ? -error : error) <= buy).toBe(true);
  return { sell, buy, fee };
}

describe('SEP-38 pricing (property)', () => {
  it('selling: sell_amount − fee = price × buy_amount, the buy amount rounded down by less than one unit', () => {
    fc.assert(
      fc.property(terms, decimals, decimals, fc.bigInt({ min: 1n, max: 10n ** 18n }), (t, sd, bd, raw) => {
        const sellAmount = amounts.fromStroops((raw / step(sd) || 1n) * step(sd));
        const priced = tryPrice({
          terms: t,
          sellAsset: { id: 'stellar:A:G', decimals: sd },
          buyAsset: { id: 'iso4217:BBB', decimals: bd },
          sellAmount,
        });
        fc.pre(priced !== null);
        const { sell, buy, fee } = checkCommon(priced!, sd, bd);
        expect(priced!.sellAmount).toBe(sellAmount);
        // The fee is the SEP-31 formula, rounded once: round_half_up(fixed + sell × percent / 100).
        const exact = s(t.feeFixed) * 100n * UNIT + sell * s(t.feePercent);
        const unitOfFee = 100n * UNIT;
        expect((fee * unitOfFee - exact) * 2n <= step(sd) * unitOfFee).toBe(true);
        expect((exact - fee * unitOfFee) * 2n <= step(sd) * unitOfFee).toBe(true);
        // (sell − fee) − price × buy is in [0, price × one buy unit): the buyer never gets more than paid for.
        const left = (sell - fee) * UNIT - s(t.price) * buy;
        expect(left >= 0n && left < s(t.price) * step(bd)).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });

  it('buying: sell_amount − fee covers price × buy_amount by less than one sell unit, and the fee its formula', () => {
    fc.assert(
      fc.property(terms, decimals, decimals, fc.bigInt({ min: 1n, max: 10n ** 15n }), (t, sd, bd, raw) => {
        const buyAmount = amounts.fromStroops((raw / step(bd) || 1n) * step(bd));
        const priced = tryPrice({
          terms: t,
          sellAsset: { id: 'stellar:A:G', decimals: sd },
          buyAsset: { id: 'iso4217:BBB', decimals: bd },
          buyAmount,
        });
        fc.pre(priced !== null);
        const { sell, buy, fee } = checkCommon(priced!, sd, bd);
        expect(priced!.buyAmount).toBe(buyAmount);
        const over = (sell - fee) * UNIT - s(t.price) * buy;
        expect(over >= 0n && over < step(sd) * UNIT).toBe(true);
        // fee ≥ fixed + percent of the sell amount (fixed rounded up to the sell decimals), by less than a unit.
        const fixed = s(amounts.roundAmount(t.feeFixed, sd));
        const slack = (fee - fixed) * 100n * UNIT - sell * s(t.feePercent);
        expect(slack >= 0n && slack < step(sd) * 100n * UNIT).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });

  it('refuses amounts with more places than the asset has, zero, and a price it cannot pay out', () => {
    const base = {
      terms: { price: '2', feeFixed: '1', feePercent: '0' },
      sellAsset: { id: 'stellar:A:G', decimals: 2 },
      buyAsset: { id: 'iso4217:BBB', decimals: 2 },
    };
    expect(() => priceAmounts({ ...base, sellAmount: '10.001' })).toThrow(/at most 2 decimal places/);
    expect(() => priceAmounts({ ...base, buyAmount: '0' })).toThrow(PricingError);
    expect(() => priceAmounts({ ...base, sellAmount: '1' })).toThrow(/too small/);
    expect(() => priceAmounts({ ...base, sellAmount: '-5' })).toThrow(PricingError);
    expect(() => priceAmounts(base)).toThrow(/either sell_amount or buy_amount/);
  });
});
