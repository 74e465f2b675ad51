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
import { MooringError } from '../errors.ts';
import type { RatesIntegration } from '../integrations/rates-integration.ts';
import { createReferenceRates } from '../integrations/reference/rates.ts';
import { createReferenceSep31Integration } from '../integrations/reference/sep31.ts';
import { quoteView } from '../views/sep38-quote.ts';
import type { RouteDeps } from './app.ts';
import { requireSep10, type Sep10Identity } from './auth.ts';
import { commanded } from './commands.ts';
import { isSendingAnchor } from './sep31.routes.ts';
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
import { assetNamed, createQuoting } from './sep38/quoting.ts';

const bad = (message: string) => new MooringError('bad_request', message);
const notFound = () => new MooringError('not_found', 'quote not found');
const errors = { 400: ErrorResponse, 403: ErrorResponse };

export async function sep38Routes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { config, quoteQueries, quoteCommands } = deps;
  const rates: RatesIntegration = deps.rates ?? createReferenceRates(config.sep38);
  const { knownAssets, price } = createQuoting(config, rates);
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
