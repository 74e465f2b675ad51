/**
 * What a `POST /transactions` pays out, by SEP-31's three ways of converting the asset:
 *
 * - neither `quote_id` nor `destination_asset`: 1:1 minus the asset's SEP-31 fee (`fees.ts`);
 * - `quote_id`: the firm SEP-38 quote, checked against the request (owner, context, not expired, not used,
 *   `sell_asset` = the Stellar asset, `buy_asset` = `destination_asset`, `sell_amount` = `amount`,
 *   `funding_method` = `buy_delivery_method`); the transaction carries the quote's amounts and fee;
 * - `destination_asset` alone: an indicative price, computed as `GET /sep38/price` does.
 *
 * The actor re-checks that the quote is unused and unexpired when it creates the transaction and takes the
 * quote in the same database transaction: the checks here give clear answers, the actor gives the guarantee.
 * @see https://github.com/stellar/stellar-protocol/blob/master/ecosystem/sep-0031.md#post-transactions
 */
import { amounts, type FeeDetails } from '../../../machines/index.ts';
import type { AssetConfig } from '../../config/index.ts';
import { MooringError } from '../../errors.ts';
import type { Quote } from '../../read-model/quotes.ts';
import type { Sep10Identity } from '../auth.ts';
import type { Quoting } from '../sep38/quoting.ts';
import { priceTransaction, stellarAssetId } from './fees.ts';
import type { ValidatedPost } from './validate-post.ts';

export interface TransactionPricing {
  amountIn: string;
  amountInAsset: string;
  amountOut: string;
  amountOutAsset: string;
  /** Significant decimals of `amountOutAsset`. */
  amountOutDecimals: number;
  fee: FeeDetails;
  fundingMethod: string | null;
  quoteId: string | null;
  /** The firm quote's expiry: the payment deadline is no later than this. */
  quoteExpiresAt: Date | null;
}

export interface PricingDeps {
  quoting: Quoting;
  /** A firm quote of `account` (another account's is null, as for `GET /sep38/quote/:id`). */
  findQuote(id: string, account: string): Promise<Quote | null>;
}

const bad = (message: string) => new MooringError('bad_request', message);

/** Prices a validated POST for transaction `transactionId`; a request the quote rules refuse is a 400. */
export async function priceSep31Post(
  post: ValidatedPost,
  caller: Sep10Identity,
  transactionId: string,
  now: Date,
  deps: PricingDeps,
): Promise<TransactionPricing> {
  const { asset, request } = post;
  if (request.quoteId === null && request.destinationAsset === null) return oneToOne(asset, request);
  // Configured for quotes, and the rates quote this asset (what GET /info's quotes_supported says).
  if (!asset.sep31.quotesSupported || !(await deps.quoting.quotes(asset))) {
    throw bad(`quotes are not supported for ${asset.code}: send neither quote_id nor destination_asset`);
  }
  return request.quoteId === null
    ? indicative(post, caller, request.destinationAsset!, deps.quoting)
    : firm(post, caller, request.quoteId, transactionId, now, deps);
}

function oneToOne(asset: AssetConfig, request: ValidatedPost['request']): TransactionPricing {
  const pricing = priceTransaction(asset, request.amount);
  if (pricing.amountOut === null) {
    throw bad(`amount ${request.amount} does not cover the fee of ${pricing.fee.total} ${asset.code}`);
  }
  const assetId = stellarAssetId(asset);
  return {
    amountIn: pricing.amountIn,
    amountInAsset: assetId,
    amountOut: pricing.amountOut,
    amountOutAsset: assetId,
    amountOutDecimals: asset.significantDecimals,
    fee: pricing.fee,
    fundingMethod: request.fundingMethod,
    quoteId: null,
    quoteExpiresAt: null,
  };
}

async function firm(
  post: ValidatedPost,
  caller: Sep10Identity,
  quoteId: string,
  transactionId: string,
  now: Date,
  deps: PricingDeps,
): Promise<TransactionPricing> {
  const { asset, request } = post;
  const quote = await deps.findQuote(quoteId, caller.account);
  if (quote === null) throw bad(`quote ${quoteId} not found`);
  if (quote.context !== 'sep31') throw bad(`quote ${quoteId} was not given for sep31 (${quote.context})`);
  if (quote.expiresAt.getTime() <= now.getTime()) {
    throw bad(`quote ${quoteId} expired at ${quote.expiresAt.toISOString()}`);
  }
  // Taken by this very transaction: a keyed twin committed it; the create is answered as a replay.
  if (quote.transactionId !== null && quote.transactionId !== transactionId) {
    throw bad(`quote ${quoteId} has already been used`);
  }
  const assetId = stellarAssetId(asset);
  if (quote.sellAsset !== assetId) {
    throw bad(`the quote's sell_asset ${quote.sellAsset} is not the asset of this request (${assetId})`);
  }
  if (request.destinationAsset !== null && request.destinationAsset !== quote.buyAsset) {
    throw bad(
      `destination_asset ${request.destinationAsset} does not match the quote's buy_asset ${quote.buyAsset}`,
    );
  }
  if (amounts.compareAmounts(request.amount, quote.sellAmount) !== 0) {
    throw bad(`amount ${request.amount} does not match the quote's sell_amount ${quote.sellAmount}`);
  }
  return {
    amountIn: quote.sellAmount,
    amountInAsset: assetId,
    amountOut: quote.buyAmount,
    amountOutAsset: quote.buyAsset,
    amountOutDecimals: (await deps.quoting.knownAssets()).get(quote.buyAsset)?.decimals ?? 7,
    fee: quote.fee,
    fundingMethod: quoteFundingMethod(post, quote.buyDeliveryMethod),
    quoteId: quote.id,
    quoteExpiresAt: quote.expiresAt,
  };
}

/** SEP-31's `funding_method` is how the receiver is paid: the quote's `buy_delivery_method` when it names one. */
function quoteFundingMethod(post: ValidatedPost, method: string | null): string | null {
  const { asset, request } = post;
  if (method === null) return request.fundingMethod;
  if (post.fundingMethodGiven && request.fundingMethod !== method) {
    throw bad(
      `funding_method ${request.fundingMethod} does not match the quote's buy_delivery_method ${method}`,
    );
  }
  if (!asset.sep31.fundingMethods.includes(method)) {
    throw bad(`the quote's buy_delivery_method ${method} is not a funding method of ${asset.code}`);
  }
  return method;
}

async function indicative(
  post: ValidatedPost,
  caller: Sep10Identity,
  destination: string,
  quoting: Quoting,
): Promise<TransactionPricing> {
  const { asset, request } = post;
  const assetId = stellarAssetId(asset);
  const known = (await quoting.knownAssets()).get(destination);
  const offChain = known?.offChain;
  if (known === undefined || offChain === undefined || offChain === null) {
    throw bad(`destination_asset ${destination} is not an off-chain asset this anchor delivers`);
  }
  // The receiver is paid by the funding method: it is the buy delivery method when the asset lists them.
  const offers = (name: string | null) => offChain.buyDeliveryMethods.some((m) => m.name === name);
  let method: string | undefined;
  if (offChain.buyDeliveryMethods.length > 0) {
    method = post.fundingMethodGiven
      ? (request.fundingMethod ?? undefined)
      : (asset.sep31.fundingMethods.find(offers) ?? request.fundingMethod ?? undefined);
    if (method === undefined || !offers(method)) {
      throw bad(`funding_method ${method ?? '(none)'} is not a delivery method of ${destination}`);
    }
  }
  const { priced } = await quoting.price(
    {
      sell_asset: assetId,
      buy_asset: destination,
      sell_amount: request.amount,
      buy_delivery_method: method,
      context: 'sep31',
    },
    'indicative',
    caller.account,
  );
  return {
    amountIn: priced.sellAmount,
    amountInAsset: assetId,
    amountOut: priced.buyAmount,
    amountOutAsset: destination,
    amountOutDecimals: known.decimals,
    fee: priced.fee,
    fundingMethod: method ?? request.fundingMethod,
    quoteId: null,
    quoteExpiresAt: null,
  };
}
