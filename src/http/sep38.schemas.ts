/**
 * SEP-38 (v2.5.0) request and response schemas for the `sep31` context, declared once: Fastify validates and
 * serialises with them, and they feed the OpenAPI document. Amounts and prices are decimal strings.
 * @see https://github.com/stellar/stellar-protocol/blob/master/ecosystem/sep-0038.md
 */
import { Type, type Static } from 'typebox';

export { ErrorResponse } from './sep31.schemas.ts';

const AssetId = Type.String({
  maxLength: 100,
  description: 'SEP-38 asset id: stellar:CODE:ISSUER or iso4217:XXX',
});
const Amount = Type.String({ maxLength: 40, description: 'a decimal string' });
const Method = Type.String({ maxLength: 64 });
const CountryCode = Type.String({ maxLength: 6, description: 'ISO 3166-1 alpha-2 or ISO 3166-2' });
const Context = Type.String({ maxLength: 10, description: 'only sep31 is offered' });

const DeliveryMethod = Type.Object({ name: Type.String(), description: Type.String() });

export const InfoResponse = Type.Object({
  assets: Type.Array(
    Type.Object({
      asset: Type.String(),
      sell_delivery_methods: Type.Optional(Type.Array(DeliveryMethod)),
      buy_delivery_methods: Type.Optional(Type.Array(DeliveryMethod)),
      country_codes: Type.Optional(Type.Array(Type.String())),
    }),
  ),
});
export type InfoResponse = Static<typeof InfoResponse>;

export const PricesQuery = Type.Object({
  sell_asset: Type.Optional(AssetId),
  buy_asset: Type.Optional(AssetId),
  sell_amount: Type.Optional(Amount),
  buy_amount: Type.Optional(Amount),
  sell_delivery_method: Type.Optional(Method),
  buy_delivery_method: Type.Optional(Method),
  country_code: Type.Optional(CountryCode),
});

const PricedAsset = Type.Object({ asset: Type.String(), price: Type.String(), decimals: Type.Integer() });
export const PricesResponse = Type.Object({
  buy_assets: Type.Optional(Type.Array(PricedAsset)),
  sell_assets: Type.Optional(Type.Array(PricedAsset)),
});

export const PriceQuery = Type.Object({
  sell_asset: AssetId,
  buy_asset: AssetId,
  sell_amount: Type.Optional(Amount),
  buy_amount: Type.Optional(Amount),
  sell_delivery_method: Type.Optional(Method),
  buy_delivery_method: Type.Optional(Method),
  country_code: Type.Optional(CountryCode),
  context: Context,
});

const Fee = Type.Object({
  total: Type.String(),
  asset: Type.String(),
  details: Type.Optional(
    Type.Array(
      Type.Object({ name: Type.String(), description: Type.Optional(Type.String()), amount: Type.String() }),
    ),
  ),
});

export const PriceResponse = Type.Object({
  total_price: Type.String(),
  price: Type.String(),
  sell_amount: Type.String(),
  buy_amount: Type.String(),
  fee: Fee,
});

export const QuoteBody = Type.Object({
  sell_asset: AssetId,
  buy_asset: AssetId,
  sell_amount: Type.Optional(Amount),
  buy_amount: Type.Optional(Amount),
  expire_after: Type.Optional(Type.String({ maxLength: 40, description: 'ISO 8601 date-time' })),
  sell_delivery_method: Type.Optional(Method),
  buy_delivery_method: Type.Optional(Method),
  country_code: Type.Optional(CountryCode),
  context: Context,
});

export const QuoteResponse = Type.Object({
  id: Type.String(),
  expires_at: Type.String({ format: 'date-time' }),
  total_price: Type.String(),
  price: Type.String(),
  sell_asset: Type.String(),
  sell_amount: Type.String(),
  sell_delivery_method: Type.Optional(Type.String()),
  buy_asset: Type.String(),
  buy_amount: Type.String(),
  buy_delivery_method: Type.Optional(Type.String()),
  fee: Fee,
});
export type QuoteResponse = Static<typeof QuoteResponse>;

export const QuoteParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
