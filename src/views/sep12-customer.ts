/**
 * A SEP-12 customer as `GET /customer` shows it and as SEP-12 callbacks send it, derived from the stored
 * customer and its per-type machines. Pure: shared by HTTP, the customer actors and the callback relay.
 * @see https://github.com/stellar/stellar-protocol/blob/master/ecosystem/sep-0012.md
 */
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
  type PersistedCustomer,
  type Sep9FieldType,
} from '../../machines/index.ts';
import type { Sep12Config } from '../config/index.ts';

/** A field the customer must send, as SEP-12 describes it. */
export interface FieldDescriptionBody {
  type: Sep9FieldType;
  description: string;
  choices?: string[];
  optional?: boolean;
}

/** A field the customer sent, with its status. */
export interface ProvidedFieldBody extends FieldDescriptionBody {
  status?: FieldStatus;
  error?: string;
}

/** What a view needs of a stored customer. */
export interface CustomerViewRecord {
  id: string;
  fields: Record<string, unknown>;
  statuses: Record<string, PersistedCustomer>;
}

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
  record: Pick<CustomerViewRecord, 'statuses' | 'fields'>,
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
  record: CustomerViewRecord | null,
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
