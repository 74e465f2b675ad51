/**
 * Pricing a SEP-38 request, shared by `GET /price`, `POST /quote` and SEP-31's `destination_asset`: the
 * assets quotes may name, the SEP's checks on a pair (context, sell xor buy amount, delivery methods,
 * country), the rates integration's terms, and the exact amounts (`pricing.ts`). Problems are 400s.
 */
import { amounts } from '../../../machines/index.ts';
import type { AssetConfig, Config } from '../../config/index.ts';
import { MooringError } from '../../errors.ts';
import type { RateRequest, RatesAsset, RatesIntegration } from '../../integrations/rates-integration.ts';
import { stellarAssetId } from '../sep31/fees.ts';
import { priceAmounts, PricingError, type PricedAmounts } from './pricing.ts';

const bad = (message: string) => new MooringError('bad_request', message);
const CONTEXTS = new Set(['sep31']);

/** An asset as SEP-38 prices it: its id, its significant decimals, and the Stellar asset behind it if any. */
export interface KnownAsset {
  id: string;
  decimals: number;
  stellar: AssetConfig | null;
  offChain: RatesAsset | null;
}

/** What a `GET /price` or `POST /quote` asks for, before it is priced. */
export interface PriceAsk {
  sell_asset: string;
  buy_asset: string;
  sell_amount?: string | undefined;
  buy_amount?: string | undefined;
  sell_delivery_method?: string | undefined;
  buy_delivery_method?: string | undefined;
  country_code?: string | undefined;
  context: string;
}

export interface Priced {
  priced: PricedAmounts;
  sell: KnownAsset;
  buy: KnownAsset;
  /** The rate's own expiry, if it gave one (it shortens a firm quote's life). */
  expiresAt: Date | undefined;
}

export interface Quoting {
  /** Every asset quotes may name: the enabled Stellar assets and the integration's off-chain assets. */
  knownAssets(): Promise<Map<string, KnownAsset>>;
  /** Checks an ask against the SEP and prices it. */
  price(ask: PriceAsk, type: RateRequest['type'], account: string | undefined): Promise<Priced>;
  /**
   * Whether the rates sell this Stellar asset for some off-chain asset (SEP-31 `quotes_supported`: what
   * `GET /prices?sell_asset=` would list).
   */
  quotes(asset: AssetConfig): Promise<boolean>;
}

export function createQuoting(config: Pick<Config, 'assets'>, rates: RatesIntegration): Quoting {
  async function knownAssets(): Promise<Map<string, KnownAsset>> {
    const known = new Map<string, KnownAsset>();
    for (const asset of config.assets) {
      if (!asset.sep31.enabled) continue;
      const id = stellarAssetId(asset);
      known.set(id, { id, decimals: asset.significantDecimals, stellar: asset, offChain: null });
    }
    for (const asset of await rates.offChainAssets()) {
      known.set(asset.asset, {
        id: asset.asset,
        decimals: asset.significantDecimals,
        stellar: null,
        offChain: asset,
      });
    }
    return known;
  }

  async function price(ask: PriceAsk, type: RateRequest['type'], account: string | undefined) {
    if (!CONTEXTS.has(ask.context)) throw bad(`unsupported context: ${ask.context}; only sep31 is offered`);
    if ((ask.sell_amount === undefined) === (ask.buy_amount === undefined)) {
      throw bad('exactly one of sell_amount and buy_amount is required');
    }
    const known = await knownAssets();
    const sell = assetNamed(known, ask.sell_asset, 'sell_asset');
    const buy = assetNamed(known, ask.buy_asset, 'buy_asset');
    // SEP-31: the sending anchor pays in a Stellar asset and the receiver gets the off-chain one.
    if (sell.stellar === null) throw bad('sell_asset must be a Stellar asset in the sep31 context');
    if (buy.offChain === null) throw bad('buy_asset must be an off-chain asset in the sep31 context');
    checkMethod(ask.sell_delivery_method, sell.offChain?.sellDeliveryMethods, 'sell_delivery_method');
    checkMethod(ask.buy_delivery_method, buy.offChain.buyDeliveryMethods, 'buy_delivery_method');
    if (ask.country_code !== undefined && !buy.offChain.countryCodes.includes(ask.country_code)) {
      throw bad(`country_code is not one this anchor serves: ${ask.country_code}`);
    }
    const terms = await rates.rate({
      type,
      context: 'sep31',
      sellAsset: sell.id,
      buyAsset: buy.id,
      ...(ask.sell_amount !== undefined && { sellAmount: ask.sell_amount }),
      ...(ask.buy_amount !== undefined && { buyAmount: ask.buy_amount }),
      ...(ask.sell_delivery_method !== undefined && { sellDeliveryMethod: ask.sell_delivery_method }),
      ...(ask.buy_delivery_method !== undefined && { buyDeliveryMethod: ask.buy_delivery_method }),
      ...(ask.country_code !== undefined && { countryCode: ask.country_code }),
      ...(account !== undefined && { account }),
    });
    if (terms === null) throw bad(`no price for ${sell.id} to ${buy.id}`);
    let priced: PricedAmounts;
    try {
      priced = priceAmounts({
        terms,
        sellAsset: { id: sell.id, decimals: sell.decimals },
        buyAsset: { id: buy.id, decimals: buy.decimals },
        ...(ask.sell_amount !== undefined && { sellAmount: ask.sell_amount }),
        ...(ask.buy_amount !== undefined && { buyAmount: ask.buy_amount }),
      });
    } catch (error) {
      if (error instanceof PricingError) throw bad(error.message);
      throw error;
    }
    const { minAmount, maxAmount } = sell.stellar.sep31;
    if (
      amounts.compareAmounts(priced.sellAmount, minAmount) < 0 ||
      amounts.compareAmounts(priced.sellAmount, maxAmount) > 0
    ) {
      throw bad(`sell_amount must be between ${minAmount} and ${maxAmount} (got ${priced.sellAmount})`);
    }
    return { priced, sell, buy, expiresAt: terms.expiresAt };
  }

  async function quotes(asset: AssetConfig): Promise<boolean> {
    if (!asset.sep31.enabled) return false;
    const id = stellarAssetId(asset);
    const offChain = new Set((await rates.offChainAssets()).map((entry) => entry.asset));
    return (await rates.pairs()).some((pair) => pair.sellAsset === id && offChain.has(pair.buyAsset));
  }

  return { knownAssets, price, quotes };
}

export function assetNamed(known: Map<string, KnownAsset>, id: string, name: string): KnownAsset {
  const asset = known.get(id);
  if (asset === undefined) throw bad(`${name} is not an asset this anchor quotes: ${id}`);
  return asset;
}

function checkMethod(
  method: string | undefined,
  offered: readonly { name: string }[] | undefined,
  name: string,
): void {
  if (method === undefined) return;
  if (!(offered ?? []).some((entry) => entry.name === method)) {
    throw bad(`${name} is not offered for this asset: ${method}`);
  }
}
