import type { Config } from '../../config/index.ts';
import type { RatesIntegration } from '../rates-integration.ts';

/**
 * The reference rates: fixed prices and fees per pair from `sep38.rates`, off-chain assets from
 * `sep38.offChainAssets`. A delivery method or country the off-chain asset does not list gets no rate.
 */
export function createReferenceRates(sep38: Config['sep38']): RatesIntegration {
  const offChain = new Map(sep38.offChainAssets.map((asset) => [asset.asset, asset]));
  return {
    offChainAssets: async () => sep38.offChainAssets,
    pairs: async () => sep38.rates.map(({ sellAsset, buyAsset }) => ({ sellAsset, buyAsset })),
    async rate(request) {
      const rate = sep38.rates.find(
        (entry) => entry.sellAsset === request.sellAsset && entry.buyAsset === request.buyAsset,
      );
      if (rate === undefined) return null;
      const sell = offChain.get(request.sellAsset);
      const buy = offChain.get(request.buyAsset);
      const offers = (methods: readonly { name: string }[] | undefined, name: string | undefined) =>
        name === undefined || (methods ?? []).some((method) => method.name === name);
      if (!offers(sell?.sellDeliveryMethods, request.sellDeliveryMethod)) return null;
      if (!offers(buy?.buyDeliveryMethods, request.buyDeliveryMethod)) return null;
      const countries = [...(sell?.countryCodes ?? []), ...(buy?.countryCodes ?? [])];
      if (request.countryCode !== undefined && !countries.includes(request.countryCode)) return null;
      return { price: rate.price, feeFixed: rate.feeFixed, feePercent: rate.feePercent };
    },
  };
}
