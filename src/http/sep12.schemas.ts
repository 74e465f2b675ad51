/**
 * SEP-12 (v1.15.0) request and response schemas, declared once: Fastify validates requests and serialises
 * responses with them, and they feed the OpenAPI document. Also the `GET /customer` body itself
 * (`customerView`), which callbacks send too.
 * @see https://github.com/stellar/stellar-protocol/blob/master/ecosystem/sep-0012.md
 */
import { Type, type Static } from 'typebox';
import {
  customerStatusOf,
  describeSep9Field,
  fieldStatusOf,
  fieldsToSend,
  restoreCustomer,
  startCustomer,
  stepCustomerAll,
  worstStatus,
  type CustomerEvent,
  type CustomerSnapshot,
  type CustomerStatus,
  type FieldStatus,
} from '../../machines/index.ts';
import type { Sep12Config } from '../config/index.ts';
import type { CustomerRecord } from '../db/customers.repository.ts';

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

export type FieldDescriptionBody = Static<typeof FieldDescription>;
export type ProvidedFieldBody = Static<typeof ProvidedField>;

/** The `GET /customer` body (also the body of SEP-12 callbacks). */
export interface CustomerBody {
  id?: string;
  status: CustomerStatus;
  fields?: Record<string, FieldDescriptionBody>;
  provided_fields?: Record<string, ProvidedFieldBody>;
  message?: string;
}

// ---------------------------------------------------------------------------------------------------------
// The view

export type CustomerTypes = Sep12Config['types'];

function describe(name: string, optional = false): FieldDescriptionBody {
  const field = describeSep9Field(name);
  return {
    type: field.type,
    description: field.description,
    ...(field.choices !== undefined && { choices: [...field.choices] }),
    ...(optional && { optional: true }),
  };
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === new Set(b).size && b.every((name) => a.includes(name));

/**
 * The customer machine of `record` for `type` as of now: its stored snapshot, or for a type it was never
 * considered for, a fresh one fed with the fields it has; then told if the configured fields changed.
 * Pure: nothing is stored here.
 */
export function snapshotFor(
  record: Pick<CustomerRecord, 'statuses' | 'fields'>,
  type: string,
  required: readonly string[],
  at: string,
): CustomerSnapshot {
  const persisted = record.statuses[type];
  const snapshot = persisted
    ? restoreCustomer(persisted)
    : startCustomer({ type, required: [...required], at });
  const events: CustomerEvent[] = [];
  if (!sameSet(snapshot.context.required, required)) {
    events.push({ type: 'REQUIREMENTS_CHANGED', at, required: [...required] });
  }
  const names = Object.keys(record.fields);
  if (!persisted && names.length > 0) events.push({ type: 'FIELDS_PROVIDED', at, fields: names });
  return stepCustomerAll(snapshot, events);
}

const FIELD_SEVERITY: Record<FieldStatus, number> = {
  ACCEPTED: 0,
  PROCESSING: 1,
  VERIFICATION_REQUIRED: 2,
  REJECTED: 3,
};

/**
 * The `GET /customer` body. With a type: that type's status. Without (no `type` and the customer never
 * named one): all configured types at once — the worst status, every field any type still needs, and for
 * an unknown customer the fields of all types (those not every type needs marked optional).
 */
export function customerView(
  record: Pick<CustomerRecord, 'id' | 'statuses' | 'fields'> | null,
  type: string | null,
  types: CustomerTypes,
  at: string,
): CustomerBody {
  const names = type !== null ? [type] : Object.keys(types);
  const requiredOf = (t: string) => types[t]?.fields ?? [];
  if (record === null) {
    const fields: Record<string, FieldDescriptionBody> = {};
    const all = [...new Set(names.flatMap(requiredOf))].sort();
    for (const name of all) fields[name] = describe(name, !names.every((t) => requiredOf(t).includes(name)));
    return { status: 'NEEDS_INFO', fields };
  }

  const snapshots = names.map((t) => snapshotFor(record, t, requiredOf(t), at));
  const status = worstStatus(snapshots.map(customerStatusOf));
  const body: CustomerBody = { id: record.id, status };

  const toSend = [...new Set(snapshots.flatMap((s) => fieldsToSend(s.context)))].sort();
  if (toSend.length > 0 || status === 'NEEDS_INFO') {
    body.fields = Object.fromEntries(toSend.map((name) => [name, describe(name)]));
  }

  const provided = Object.keys(record.fields).sort();
  if (provided.length > 0) {
    body.provided_fields = {};
    for (const name of provided) {
      let worst: { status: FieldStatus; error?: string } | null = null;
      for (const snapshot of snapshots) {
        const field = fieldStatusOf(snapshot.context, name);
        if (worst === null || FIELD_SEVERITY[field.status] > FIELD_SEVERITY[worst.status]) worst = field;
      }
      body.provided_fields[name] = { ...describe(name), ...worst };
    }
  }

  const message = snapshots.map((s) => s.context.message).find((m) => m !== null);
  if (message !== undefined && message !== null) body.message = message;
  else if (status === 'REJECTED') body.message = 'the customer was rejected';
  return body;
}
