/**
 * SEP-31 request and response schemas (SEP-31 v3.1.0), declared once: Fastify validates requests and
 * serialises responses with them, and they feed the OpenAPI document. Response schemas list every field
 * the SEP allows, so the serialiser drops anything else (strict client schemas reject extra keys).
 * @see https://github.com/stellar/stellar-protocol/blob/master/ecosystem/sep-0031.md
 */
import { Type, type Static } from 'typebox';
import { Sep31TransactionSchema } from '../views/sep31-transaction.schema.ts';
import { IDEMPOTENCY_KEY_MAX_LENGTH, IDEMPOTENCY_KEY_PATTERN } from './sep31/idempotency.ts';

export const ErrorResponse = Type.Object(
  { error: Type.String(), type: Type.Optional(Type.String()) },
  { additionalProperties: true, description: 'SEP error body' },
);

const Sep12Types = Type.Object({
  types: Type.Record(Type.String(), Type.Object({ description: Type.String() })),
});

export const InfoQuery = Type.Object({
  lang: Type.Optional(Type.String({ maxLength: 35, description: 'ISO 639-1 language, default en' })),
});

export const InfoAsset = Type.Object(
  {
    enabled: Type.Boolean(),
    quotes_supported: Type.Boolean(),
    quotes_required: Type.Boolean(),
    fee_fixed: Type.Number(),
    fee_percent: Type.Number(),
    min_amount: Type.Number(),
    max_amount: Type.Number(),
    funding_methods: Type.Array(Type.String()),
    sep12: Type.Object({ sender: Sep12Types, receiver: Sep12Types }),
  },
  { additionalProperties: true },
);

export type InfoAssetEntry = Static<typeof InfoAsset>;

export const InfoResponse = Type.Object({
  receive: Type.Record(Type.String(), InfoAsset),
});

/**
 * `POST /transactions`. Every field is optional here on purpose: the route checks presence, types and
 * values itself, in the SEP's order, so each problem gets its own message (see `sep31/validate-post.ts`).
 */
export const PostTransactionBody = Type.Object(
  {
    asset_code: Type.Optional(Type.String({ description: 'a key of /info receive' })),
    asset_issuer: Type.Optional(Type.String()),
    amount: Type.Optional(
      Type.Unknown({ description: 'decimal string (preferred) or JSON number; at most 7 decimal places' }),
    ),
    funding_method: Type.Optional(Type.String({ description: "one of the asset's funding_methods" })),
    lang: Type.Optional(Type.String({ description: 'ISO 639-1' })),
    sender_id: Type.Optional(Type.String({ description: 'SEP-12 customer id (sep31-sender)' })),
    receiver_id: Type.Optional(Type.String({ description: 'SEP-12 customer id (sep31-receiver)' })),
    refund_memo: Type.Optional(Type.String()),
    refund_memo_type: Type.Optional(Type.String({ description: 'id, text or hash' })),
    quote_id: Type.Optional(
      Type.String({ description: 'a firm SEP-38 quote of this account; amount and assets must match it' }),
    ),
    destination_asset: Type.Optional(
      Type.String({ description: 'SEP-38 off-chain asset to deliver, e.g. iso4217:BRL (indicative price)' }),
    ),
    fields: Type.Optional(Type.Unknown({ description: 'deprecated: { transaction: { name: value } }' })),
  },
  { additionalProperties: true },
);

/** `POST /transactions` headers: an optional idempotency key (`sep31/idempotency.ts`). */
export const PostTransactionHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: IDEMPOTENCY_KEY_MAX_LENGTH,
      pattern: IDEMPOTENCY_KEY_PATTERN,
      description:
        'Idempotency-Key: 1 to 255 printable ASCII characters, unique per transaction of this sending ' +
        'anchor. A retry with the same key and body answers the transaction the first request created ' +
        '(with an Idempotent-Replayed: true header); the same key with another body is a 409. Keys do not expire.',
    }),
  ),
});

export const PostTransactionResponse = Type.Object(
  {
    id: Type.String(),
    stellar_account_id: Type.String(),
    stellar_memo_type: Type.String(),
    stellar_memo: Type.String(),
  },
  { additionalProperties: false },
);

export const TransactionParams = Type.Object({ id: Type.String() });
export const TransactionQuery = Type.Object({ id: Type.Optional(Type.String()) });

export { Sep31TransactionSchema };

export const TransactionResponse = Type.Object({ transaction: Sep31TransactionSchema });

/** Deprecated `PATCH /transactions/:id`. */
export const PatchTransactionBody = Type.Object({
  fields: Type.Object({
    transaction: Type.Record(Type.String(), Type.String({ maxLength: 1000 })),
  }),
});

export const CallbackBody = Type.Object({
  url: Type.String({ description: 'https URL the signed status callbacks are POSTed to' }),
});
