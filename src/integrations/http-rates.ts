import { amounts } from '../../machines/index.ts';
import type { Sep38OffChainAsset } from '../config/index.ts';
import { BusinessServerUnavailableError, objectBody, type BusinessClient } from './business-client.ts';
import type { RatesIntegration, RateTerms } from './rates-integration.ts';

export interface HttpRatesOptions {
  client: BusinessClient;
  /** The off-chain assets quoted (`sep38.offChainAssets`): the business server prices, config describes. */
  offChainAssets: readonly Sep38OffChainAsset[];
  /** The Stellar assets sold (`stellar:CODE:ISSUER`): every one is offered against every off-chain asset. */
  stellarAssets: readonly string[];
}

/**
 * SEP-38 prices from the business server's `GET /rate`, with the Anchor Platform's query parameters and its
 * `{"rate": {...}}` answer (docs/business-http.md). Mooring computes the quote's amounts itself from the
 * rate's `price` and `fee`, exactly (bigint), so they are mapped onto {@link RateTerms}: the fee total as a
 * fixed fee in the sell asset (a fee in the buy asset is converted at the price, rounded up to the stroop).
 * A 400 or 422 means "no rate" for this request; anything unreadable throws
 * {@link BusinessServerUnavailableError} (the SEP-38 request is answered 503).
 */
export function createHttpRates(options: HttpRatesOptions): RatesIntegration {
  const { client } = options;
  return {
    offChainAssets: async () => options.offChainAssets,
    // The business server decides which pairs it prices; one without a rate is simply left out.
    pairs: async () =>
      options.stellarAssets.flatMap((sellAsset) =>
        options.offChainAssets.map(({ asset: buyAsset }) => ({ sellAsset, buyAsset })),
      ),
    async rate(request) {
      const answer = await client.call({
        method: 'GET',
        path: 'rate',
        query: {
          type: request.type,
          context: request.context,
          client_id: request.account,
          sell_asset: request.sellAsset,
          buy_asset: request.buyAsset,
          sell_amount: request.sellAmount,
          buy_amount: request.buyAmount,
          sell_delivery_method: request.sellDeliveryMethod,
          buy_delivery_method: request.buyDeliveryMethod,
          country_code: request.countryCode,
        },
        accept: [400, 422],
      });
      if (answer.status === 400 || answer.status === 422) return null;
      return rateTerms(objectBody(answer, 'GET /rate').rate, request.sellAsset, request.buyAsset);
    },
  };
}

/** AP's `rate` object → the terms Mooring prices with; a malformed one is the server's fault (503). */
export function rateTerms(rate: unknown, sellAsset: string, buyAsset: string): RateTerms {
  const bad = (why: string) => new BusinessServerUnavailableError(`GET /rate: ${why}`, 200);
  if (typeof rate !== 'object' || rate === null) throw bad('the body must be {"rate": {...}}');
  const { price, fee, expires_at: expiresAt } = rate as Record<string, unknown>;
  const decimal = (value: unknown, name: string) => {
    if (typeof value !== 'string' || !amounts.isAmount(value)) {
      throw bad(`${name} must be a decimal string with at most 7 decimal places`);
    }
    return value;
  };
  const priceText = decimal(price, 'rate.price');
  if (amounts.toStroops(priceText) <= 0n) throw bad('rate.price must be more than zero');
  let feeFixed = '0';
  if (fee !== undefined && fee !== null) {
    const { total, asset } = fee as Record<string, unknown>;
    const feeTotal = decimal(total, 'rate.fee.total');
    if (asset === sellAsset) feeFixed = feeTotal;
    else if (asset === buyAsset) {
      // SEP-38: sell = price × (buy + fee) when the fee is in the buy asset; in the sell asset it is fee × price.
      const stroops = amounts.toStroops(feeTotal) * amounts.toStroops(priceText);
      feeFixed = amounts.fromStroops(ceilDiv(stroops, amounts.STROOPS_PER_UNIT));
    } else throw bad(`rate.fee.asset must be ${sellAsset} or ${buyAsset}`);
  }
  let expires: Date | undefined;
  if (expiresAt !== undefined && expiresAt !== null) {
    expires = typeof expiresAt === 'string' ? new Date(expiresAt) : new Date(Number.NaN);
    if (Number.isNaN(expires.getTime())) throw bad('rate.expires_at must be an ISO 8601 date-time');
  }
  return {
    price: amounts.normalizeAmount(priceText),
    feeFixed,
    feePercent: '0',
    ...(expires !== undefined && { expiresAt: expires }),
  };
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}
