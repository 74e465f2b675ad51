/**
 * SEP-38 (v2.5.0, Anchor RFQ API) for the `sep31` context: `GET /info`, `GET /prices`, `GET /price`
 * (indicative, never stored), `POST /quote` (firm: priced here, stored by its quote actor over the bus) and
 * `GET /quote/:id` (the caller's own quotes only; another account's is a 404, like an unknown one). Prices
 * come from the rates integration; amounts are computed exactly in `sep38/pricing.ts`.
 * @see https://github.com/stellar/stellar-protocol/blob/master/ecosystem/sep-0038.md
 */
import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { amounts } from '../../machines/index.ts';
import type { AssetConfig } from '../config/index.ts';
import { MooringError } from '../errors.ts';
import type { RateRequest, RatesAsset, RatesIntegration } from '../integrations/rates-integration.ts';
import { createReferenceRates } from '../integrations/reference/rates.ts';
import type { Quote } from '../read-model/quotes.ts';
import { createReferenceSep31Integration } from '../integrations/reference/sep31.ts';
import type { RouteDeps } from './app.ts';
import { requireSep10, type Sep10Identity } from './auth.ts';
import { commanded } from './commands.ts';
import { isSendingAnchor } from './sep31.routes.ts';
import { stellarAssetId } from './sep31/fees.ts';
import {
  ErrorResponse,
  InfoResponse,
  PriceQuery,
  PriceResponse,
  PricesQuery,
  PricesResponse,
  QuoteBody,
  QuoteParams,
  QuoteResponse,
} from './sep38.schemas.ts';
import { priceAmounts, PricingError, type PricedAmounts } from './sep38/pricing.ts';

const bad = (message: string) => new MooringError('bad_request', message);
const notFound = () => new MooringError('not_found', 'quote not found');
const errors = { 400: ErrorResponse, 403: ErrorResponse };
const CONTEXTS = new Set(['sep31']);

/** An asset as SEP-38 prices it: its id, its significant decimals, and the Stellar asset behind it if any. */
interface KnownAsset {
  id: string;
  decimals: number;
  stellar: AssetConfig | null;
  offChain: RatesAsset | null;
}

/** What a `GET /price` or `POST /quote` asks for, before it is priced. */
interface PriceAsk {
  sell_asset: string;
  buy_asset: string;
  sell_amount?: string | undefined;
  buy_amount?: string | undefined;
  sell_delivery_method?: string | undefined;
  buy_delivery_method?: string | undefined;
  country_code?: string | undefined;
  context: string;
}

export async function sep38Routes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { config, quoteQueries, quoteCommands } = deps;
  const rates: RatesIntegration = deps.rates ?? createReferenceRates(config.sep38);
  const sep31 = deps.integration ?? createReferenceSep31Integration(config);
  const now = () => deps.clock?.() ?? new Date();
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  const authenticated = [
    requireSep10(config, { status: 403, ...(deps.clock && { clock: deps.clock }) }),
    async (request: FastifyRequest) => {
      if (!(await isSendingAnchor(config, sep31, identity(request)))) {
        throw new MooringError('forbidden', 'this account is not a registered sending anchor');
      }
    },
  ];

  /** Every asset quotes may name: the enabled Stellar assets and the integration's off-chain assets. */
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

  function assetNamed(known: Map<string, KnownAsset>, id: string, name: string): KnownAsset {
    const asset = known.get(id);
    if (asset === undefined) throw bad(`${name} is not an asset this anchor quotes: ${id}`);
    return asset;
  }

  /** Checks a `GET /price` or `POST /quote` against the SEP and prices it. */
  async function price(
    ask: PriceAsk,
    type: RateRequest['type'],
    account: string | undefined,
  ): Promise<{ priced: PricedAmounts; sell: KnownAsset; buy: KnownAsset; expiresAt: Date | undefined }> {
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

  r.get('/info', { schema: { response: { 200: InfoResponse } } }, async () => {
    const pairs = await rates.pairs();
    const traded = new Set(pairs.flatMap((pair) => [pair.sellAsset, pair.buyAsset]));
    const assets: InfoResponse['assets'] = [];
    for (const asset of (await knownAssets()).values()) {
      if (!traded.has(asset.id)) continue;
      const off = asset.offChain;
      assets.push({
        asset: asset.id,
        ...(off !== null &&
          off.sellDeliveryMethods.length > 0 && {
            sell_delivery_methods: [...off.sellDeliveryMethods],
          }),
        ...(off !== null &&
          off.buyDeliveryMethods.length > 0 && {
            buy_delivery_methods: [...off.buyDeliveryMethods],
          }),
        ...(off !== null && off.countryCodes.length > 0 && { country_codes: [...off.countryCodes] }),
      });
    }
    return { assets };
  });

  r.get(
    '/prices',
    { schema: { querystring: PricesQuery, response: { 200: PricesResponse, ...errors } } },
    async (request) => {
      const query = request.query;
      const selling = query.sell_asset !== undefined;
      if (selling === (query.buy_asset !== undefined))
        throw bad('exactly one of sell_asset and buy_asset is required');
      if (selling ? query.sell_amount === undefined : query.buy_amount === undefined) {
        throw bad(
          selling ? 'sell_amount is required with sell_asset' : 'buy_amount is required with buy_asset',
        );
      }
      if (selling ? query.buy_amount !== undefined : query.sell_amount !== undefined) {
        throw bad(selling ? 'buy_amount goes with buy_asset' : 'sell_amount goes with sell_asset');
      }
      const known = await knownAssets();
      const given = assetNamed(
        known,
        (selling ? query.sell_asset : query.buy_asset)!,
        selling ? 'sell_asset' : 'buy_asset',
      );
      const entries: { asset: string; price: string; decimals: number }[] = [];
      for (const pair of await rates.pairs()) {
        const other = known.get(selling ? pair.buyAsset : pair.sellAsset);
        if ((selling ? pair.sellAsset : pair.buyAsset) !== given.id || other === undefined) continue;
        try {
          const { priced } = await price(
            {
              sell_asset: pair.sellAsset,
              buy_asset: pair.buyAsset,
              ...(selling ? { sell_amount: query.sell_amount } : { buy_amount: query.buy_amount }),
              sell_delivery_method: query.sell_delivery_method,
              buy_delivery_method: query.buy_delivery_method,
              country_code: query.country_code,
              context: 'sep31',
            },
            'indicative',
            undefined,
          );
          entries.push({ asset: other.id, price: priced.price, decimals: other.decimals });
        } catch (error) {
          // A pair this amount, method or country cannot be priced is left out, not an error.
          if (!(error instanceof MooringError) || error.status !== 400) throw error;
        }
      }
      return selling ? { buy_assets: entries } : { sell_assets: entries };
    },
  );

  r.get(
    '/price',
    { schema: { querystring: PriceQuery, response: { 200: PriceResponse, ...errors } } },
    async (request) => {
      const { priced } = await price(request.query, 'indicative', undefined);
      return {
        total_price: priced.totalPrice,
        price: priced.price,
        sell_amount: priced.sellAmount,
        buy_amount: priced.buyAmount,
        fee: priced.fee,
      };
    },
  );

  if (quoteCommands !== undefined) {
    r.post(
      '/quote',
      {
        onRequest: [...authenticated, deps.limits.writes],
        schema: { body: QuoteBody, response: { 201: QuoteResponse, ...errors } },
      },
      async (request, reply) => {
        const caller = identity(request);
        const body = request.body;
        const known = await knownAssets();
        for (const [side, id] of [
          ['sell', body.sell_asset],
          ['buy', body.buy_asset],
        ] as const) {
          // SEP-38: a delivery method is required when the asset offers more than one.
          const methods = known.get(id)?.offChain?.[`${side}DeliveryMethods`] ?? [];
          if (methods.length > 1 && body[`${side}_delivery_method`] === undefined) {
            throw bad(`${side}_delivery_method is required: ${id} is delivered more than one way`);
          }
        }
        const { priced, expiresAt: rateExpiry } = await price(body, 'firm', caller.account);
        const at = now();
        let expiresAt = new Date(at.getTime() + config.sep38.quoteExpirySeconds * 1000);
        if (rateExpiry !== undefined && rateExpiry < expiresAt) expiresAt = rateExpiry;
        if (body.expire_after !== undefined) {
          const wanted = parseDateTime(body.expire_after);
          if (wanted === null) throw bad('expire_after must be an ISO 8601 date-time');
          if (wanted > expiresAt) {
            throw bad(
              `a quote cannot be held past ${expiresAt.toISOString()} (expire_after ${body.expire_after})`,
            );
          }
        }
        if (expiresAt <= at) throw bad('no firm quote can be given for this pair now');
        const id = randomUUID();
        const answer = await commanded(
          quoteCommands.create(id, {
            account: caller.account,
            memo: caller.memo,
            context: body.context,
            sellAsset: body.sell_asset,
            sellAmount: priced.sellAmount,
            sellDeliveryMethod: body.sell_delivery_method ?? null,
            buyAsset: body.buy_asset,
            buyAmount: priced.buyAmount,
            buyDeliveryMethod: body.buy_delivery_method ?? null,
            countryCode: body.country_code ?? null,
            price: priced.price,
            totalPrice: priced.totalPrice,
            fee: priced.fee,
            expiresAt: expiresAt.toISOString(),
            createdAt: at.toISOString(),
          }),
        );
        if (answer.outcome !== 'applied')
          throw new Error(`the quote actor refused a new quote: ${answer.reason}`);
        const stored = await quoteQueries.quote(id, caller.account);
        if (stored === null) throw new Error(`quote ${id} was applied but cannot be read`);
        return reply.status(201).send(quoteView(stored));
      },
    );
  }

  r.get(
    '/quote/:id',
    {
      onRequest: authenticated,
      schema: { params: QuoteParams, response: { 200: QuoteResponse, ...errors, 404: ErrorResponse } },
    },
    async (request) => {
      const quote = await quoteQueries.quote(request.params.id, identity(request).account);
      if (quote === null) throw notFound();
      return quoteView(quote);
    },
  );
}

/** A stored quote as SEP-38 shows it (the same body for POST and GET; retrievable after expiry). */
export function quoteView(quote: Quote): QuoteResponse {
  return {
    id: quote.id,
    expires_at: quote.expiresAt.toISOString(),
    total_price: quote.totalPrice,
    price: quote.price,
    sell_asset: quote.sellAsset,
    sell_amount: quote.sellAmount,
    ...(quote.sellDeliveryMethod !== null && { sell_delivery_method: quote.sellDeliveryMethod }),
    buy_asset: quote.buyAsset,
    buy_amount: quote.buyAmount,
    ...(quote.buyDeliveryMethod !== null && { buy_delivery_method: quote.buyDeliveryMethod }),
    fee: quote.fee,
  };
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

/** An ISO 8601 date-time with a time zone, or null. */
function parseDateTime(text: string): Date | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(text)) return null;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date;
}

function identity(request: FastifyRequest): Sep10Identity {
  if (!request.sep10) throw new MooringError('unauthorized', 'authentication required');
  return request.sep10;
}
