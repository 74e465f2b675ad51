/**
 * SEP-12 (v1.15.0) request and response schemas, declared once: Fastify validates requests and serialises
 * responses with them, and they feed the OpenAPI document. The `GET /customer` body itself is built by
 * `customerView` (`src/views/`), which callbacks send too.
 * @see https://github.com/stellar/stellar-protocol/blob/master/ecosystem/sep-0012.md
 */
import { Type, type Static } from 'typebox';

export {
  customerView,
  snapshotFor,
  type CustomerBody,
  type CustomerTypes,
  type FieldDescriptionBody,
  type ProvidedFieldBody,
} from '../views/sep12-customer.ts';

export const ErrorResponse = Type.Object(
  { error: Type.String() },
  { additionalProperties: true, description: 'SEP error body' },
);

const Text = (maxLength: number, description: string) =>
  Type.Optional(Type.String({ maxLength, description }));

/** The parameters that say which customer a request is about (GET query, PUT body, callback body). */
const CustomerSelector = {
  id: Text(200, 'customer id from a previous PUT /customer'),
  account: Text(69, 'deprecated: must be the authenticated account (G... or M...)'),
  memo: Text(100, 'the memo the customer is registered under; must equal the token memo when it has one'),
  memo_type: Text(10, 'deprecated: id, text or hash'),
};

export const CustomerQuery = Type.Object({
  ...CustomerSelector,
  type: Text(100, 'customer type, e.g. sep31-sender or sep31-receiver'),
  transaction_id: Text(100, 'SEP-31 transaction the customer takes part in; requires type'),
  lang: Text(35, 'ISO 639-1 language, default en'),
});
export type CustomerQuery = Static<typeof CustomerQuery>;

/**
 * `PUT /customer`: the selector, `type`, `transaction_id`, and any SEP-9 fields (as strings; binary fields
 * as multipart file parts, which never reach this schema), `<field>_verification` codes.
 */
export const PutCustomerBody = Type.Object(
  {
    ...CustomerSelector,
    type: Text(100, 'customer type, e.g. sep31-sender or sep31-receiver'),
    transaction_id: Text(100, 'SEP-31 transaction: links the customer to it as this type'),
    lang: Text(35, 'ISO 639-1 language, default en'),
  },
  { additionalProperties: Type.String({ maxLength: 4000 }), description: 'plus SEP-9 fields' },
);
export type PutCustomerBody = Static<typeof PutCustomerBody> & Record<string, string | undefined>;

export const PutCustomerResponse = Type.Object({ id: Type.String() });

export const CallbackBody = Type.Object({
  ...CustomerSelector,
  url: Type.String({ maxLength: 2048, description: 'where every status change of the customer is POSTed' }),
});
export type CallbackBody = Static<typeof CallbackBody>;

export const DeleteParams = Type.Object({
  account: Type.String({ maxLength: 69, description: 'the authenticated account (G... or M...)' }),
});

export const DeleteBody = Type.Object({
  memo: Text(100, 'the memo the customer was registered under'),
  memo_type: Text(10, 'deprecated: id, text or hash'),
});
export type DeleteBody = Static<typeof DeleteBody>;

export const EmptyResponse = Type.Object({});

const FieldType = Type.Union([
  Type.Literal('string'),
  Type.Literal('binary'),
  Type.Literal('number'),
  Type.Literal('date'),
]);

const fieldProperties = {
  type: FieldType,
  description: Type.String(),
  choices: Type.Optional(Type.Array(Type.String())),
  optional: Type.Optional(Type.Boolean()),
};

export const FieldDescription = Type.Object(fieldProperties);
export const ProvidedField = Type.Object({
  ...fieldProperties,
  status: Type.Optional(
    Type.Union([
      Type.Literal('ACCEPTED'),
      Type.Literal('PROCESSING'),
      Type.Literal('REJECTED'),
      Type.Literal('VERIFICATION_REQUIRED'),
    ]),
  ),
  error: Type.Optional(Type.String()),
});

export const CustomerResponse = Type.Object({
  id: Type.Optional(Type.String()),
  status: Type.Union([
    Type.Literal('NEEDS_INFO'),
    Type.Literal('PROCESSING'),
    Type.Literal('ACCEPTED'),
    Type.Literal('REJECTED'),
  ]),
  fields: Type.Optional(Type.Record(Type.String(), FieldDescription)),
  provided_fields: Type.Optional(Type.Record(Type.String(), ProvidedField)),
  message: Type.Optional(Type.String()),
});
