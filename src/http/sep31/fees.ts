import { amounts, type FeeDetails } from '../../../machines/index.ts';
import type { AssetConfig } from '../../config/index.ts';

/** SEP-38 form of a Stellar asset, e.g. `stellar:USDC:G...`. */
export function stellarAssetId(asset: Pick<AssetConfig, 'code' | 'issuer'>): string {
  return `stellar:${asset.code}:${asset.issuer}`;
}

export interface Pricing {
  amountIn: string;
  /** null when the fee exceeds the amount. */
  amountOut: string | null;
  fee: FeeDetails;
}

/**
 * The fee and payout of a 1:1 (no quote) SEP-31 payment, exactly:
 * `fee = round_half_up(fee_fixed + amount × fee_percent / 100, significantDecimals)`, `amount_out = amount − fee`.
 * The details are the fixed part (rounded the same way) and the percent part (the rest), so they always add
 * up to the total; zero parts are left out. `amountOut` is null when the fee exceeds the amount.
 */
export function priceTransaction(
  asset: Pick<AssetConfig, 'code' | 'issuer' | 'significantDecimals' | 'sep31'>,
  amount: string,
): Pricing {
  const decimals = asset.significantDecimals;
  const { feeFixed, feePercent } = asset.sep31;
  const total = exactFee(amount, feeFixed, feePercent, decimals);
  const fixed = amounts.roundAmount(feeFixed, decimals);
  // Rounding is monotonic, so round(fixed + percent) >= round(fixed): the percent part is never negative.
  const percent = amounts.subtractAmounts(total, fixed);
  const details: NonNullable<FeeDetails['details']> = [];
  if (amounts.compareAmounts(fixed, '0') > 0) details.push({ name: 'fixed', amount: fixed });
  if (amounts.compareAmounts(percent, '0') > 0) details.push({ name: 'percent', amount: percent });
  const assetId = stellarAssetId(asset);
  return {
    amountIn: amounts.normalizeAmount(amount),
    amountOut: amounts.compareAmounts(total, amount) > 0 ? null : amounts.subtractAmounts(amount, total),
    fee: { total, asset: assetId, ...(details.length > 0 && { details }) },
  };
}

/**
 * round_half_up(fixed + amount × percent / 100, decimals), computed once on exact integers. Rounding the
 * percent part to 7 places first (as `amounts.percentOf` does) and then to `decimals` would round twice:
 * 1.00 × 0.499996 % = 0.00499996 would become 0.0050000 and then 0.01 instead of 0.00.
 */
export function exactFee(amount: string, fixed: string, percent: string, decimals: number): string {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 7)
    throw new RangeError('decimals must be 0..7');
  const units = amounts.STROOPS_PER_UNIT;
  // In units of 10^-14 / 100: stroops × stroops of percent, and the fixed part scaled the same way.
  const scaled =
    amounts.toStroops(amount) * amounts.toStroops(percent) + amounts.toStroops(fixed) * units * 100n;
  const step = 10n ** BigInt(7 - decimals);
  const divisor = units * 100n * step;
  return amounts.fromStroops(((scaled + divisor / 2n) / divisor) * step);
}
