// What the configuration tells the console about a transaction: the sending anchor's name beside its key, and
// the significant decimals of the assets it names. The read model knows neither (it stores keys and amounts).
import type { Config } from '../config/index.ts';
import type { ViewerTransaction } from './api.ts';

export interface ViewerDirectory {
  /** The transaction with `sendingAnchorName` and `decimals` filled in. */
  describe(transaction: ViewerTransaction): ViewerTransaction;
}

export function viewerDirectory(
  config: Pick<Config, 'sendingAnchors' | 'assets' | 'sep38'>,
): ViewerDirectory {
  const names = new Map<string, string>();
  for (const anchor of config.sendingAnchors)
    for (const key of anchor.signingKeys) names.set(key, anchor.name);
  const decimals = new Map<string, number>();
  for (const asset of config.assets) {
    decimals.set(`stellar:${asset.code}:${asset.issuer}`, asset.significantDecimals);
  }
  for (const asset of config.sep38.offChainAssets) decimals.set(asset.asset, asset.significantDecimals);
  return {
    describe(transaction) {
      const named = [transaction.amountInAsset, transaction.amountOutAsset, transaction.amountReceivedAsset];
      return {
        ...transaction,
        sendingAnchorName: names.get(transaction.sendingAnchor) ?? null,
        decimals: Object.fromEntries(
          named.flatMap((asset) => {
            const n = asset === null ? undefined : decimals.get(asset);
            return n === undefined ? [] : [[asset!, n]];
          }),
        ),
      };
    },
  };
}
