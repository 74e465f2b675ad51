/**
 * SEP-38 prices, exactly: every amount is bigint stroops (10^-7), rounded once to the asset's significant
 * decimals, always in the anchor's favour where a rounding can move money (the buyer gets no more than the
 * price pays for, the seller pays no less). The SEP's formulas then hold to within one unit of the rounded
 * asset's last decimal:
 *
 * - `sell_amount = total_price × buy_amount` (`total_price` rounded to 7 places)
 * - `sell_amount − fee = price × buy_amount` (the fee is always in the sell asset here)
 */
import { amounts, type FeeDetails } from '../../../machines/index.ts';
import type { PriceTerms } from '../../integrations/rates-integration.ts';
import { exactFee } from '../sep31/fees.ts';

export interface PricedAmounts {
  sellAmount: string;
  buyAmount: string;
  price: string;
  totalPrice: string;
  fee: FeeDetails;
}

/** Why a price cannot be given (the caller answers 400 with it). */
export class PricingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PricingError';
  }
}

const UNIT = amounts.STROOPS_PER_UNIT;
const HUNDRED_PERCENT = 100n * UNIT;

export interface PriceRequest {
  terms: PriceTerms;
  sellAsset: { id: string; decimals: number };
  buyAsset: { id: string; decimals: number };
  /** Exactly one of the two. */
  sellAmount?: string;
  buyAmount?: string;
}

/** The amounts of a sell or buy request at `terms`. Throws {@link PricingError} for amounts it cannot price. */
export function priceAmounts(request: PriceRequest): PricedAmounts {
  const { terms, sellAsset, buyAsset } = request;
  const price = amounts.toStroops(terms.price);
  if (price <= 0n) throw new PricingError('no price for this pair');
  const fixed = amounts.toStroops(amounts.roundAmount(terms.feeFixed, sellAsset.decimals));
  const percent = amounts.toStroops(terms.feePercent);
  if (percent >= HUNDRED_PERCENT) throw new PricingError('no price for this pair');

  let sell: bigint;
  let buy: bigint;
  let fee: bigint;
  if (request.sellAmount !== undefined) {
    sell = amountOf(request.sellAmount, sellAsset.decimals, 'sell_amount');
    fee = amounts.toStroops(
      exactFee(amounts.fromStroops(sell), terms.feeFixed, terms.feePercent, sellAsset.decimals),
    );
    const net = sell - fee;
    // What the net buys at the price, rounded down to the buy asset's decimals.
    buy = roundDown((net * UNIT) / price, buyAsset.decimals);
    if (net <= 0n || buy <= 0n) throw new PricingError('sell_amount is too small to buy anything after fees');
  } else if (request.buyAmount !== undefined) {
    buy = amountOf(request.buyAmount, buyAsset.decimals, 'buy_amount');
    if (buy <= 0n) throw new PricingError('buy_amount must be more than zero');
    // What buying it costs, rounded up; then the gross amount whose fee leaves that net, rounded up.
    const net = roundUp(ceilDiv(buy * price, UNIT), sellAsset.decimals);
    sell = roundUp(ceilDiv((net + fixed) * HUNDRED_PERCENT, HUNDRED_PERCENT - percent), sellAsset.decimals);
    fee = sell - net;
  } else {
    throw new PricingError('either sell_amount or buy_amount is required');
  }

  const details: NonNullable<FeeDetails['details']> = [];
  const fixedPart = fixed < fee ? fixed : fee;
  if (fixedPart > 0n) details.push({ name: 'fixed', amount: amounts.fromStroops(fixedPart) });
  if (fee - fixedPart > 0n) details.push({ name: 'percent', amount: amounts.fromStroops(fee - fixedPart) });
  return {
    sellAmount: amounts.fromStroops(sell),
    buyAmount: amounts.fromStroops(buy),
    price: amounts.normalizeAmount(terms.price),
    totalPrice: amounts.fromStroops((sell * UNIT * 2n + buy) / (buy * 2n)),
    fee: {
      total: amounts.fromStroops(fee),
      asset: sellAsset.id,
      ...(details.length > 0 && { details }),
    },
  };
}

/** A request amount as stroops: a positive decimal with no more places than the asset has. */
function amountOf(text: string, decimals: number, name: string): bigint {
  if (!amounts.isAmount(text)) throw new PricingError(`${name} must be a positive decimal string`);
  const stroops = amounts.toStroops(text);
  if (stroops % step(decimals) !== 0n) {
    throw new PricingError(`${name} must have at most ${decimals} decimal places`);
  }
  if (stroops <= 0n) throw new PricingError(`${name} must be more than zero`);
  return stroops;
}

function step(decimals: number): bigint {
  return 10n ** BigInt(7 - decimals);
}

function roundDown(stroops: bigint, decimals: number): bigint {
  return (stroops / step(decimals)) * step(decimals);
}

function roundUp(stroops: bigint, decimals: number): bigint {
  return ceilDiv(stroops, step(decimals)) * step(decimals);
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}
