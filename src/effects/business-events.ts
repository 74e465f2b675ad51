/**
 * Business events for the anchor's business server, in the Stellar Anchor Platform's event shape:
 * `{ id, type, sep, timestamp, payload }`, where `payload` holds the `transaction` as SEP-31
 * `GET /transactions/:id` shows it, the `customer`, or the `quote` as SEP-38 `GET /quote/:id` shows it.
 *
 * The actor hosts build each event when they commit the change (the state as it was then) and write it
 * to the outbox in the same database transaction, one row per destination (`event_nats`,
 * `event_webhook`); `./event-handlers.ts` delivers them. Pure: no I/O here.
 * @see docs/events.md
 */
import { createHash } from 'node:crypto';
import type { TransactionContext, TransactionStatus } from '../../machines/index.ts';
import type { Config } from '../config/index.ts';
import type { NewOutboxEffect } from '../db/outbox.repository.ts';
import { toSep31Transaction, type Sep31Transaction } from '../views/sep31-transaction.ts';
import type { Sep38Quote } from '../views/sep38-quote.ts';

export const BUSINESS_EVENT_TYPES = [
  'transaction_created',
  'transaction_status_changed',
  'customer_updated',
  'quote_created',
] as const;
export type BusinessEventType = (typeof BUSINESS_EVENT_TYPES)[number];

/** The outbox kinds a business event is written as, one per destination. */
export const BUSINESS_EVENT_KINDS = ['event_nats', 'event_webhook'] as const;
export type BusinessEventKind = (typeof BUSINESS_EVENT_KINDS)[number];

/** A customer as its business events show it. */
export interface BusinessCustomer {
  id: string;
  account: string;
  memo: string | null;
  /** The SEP-12 type it was last sent as, if any. */
  type: string | null;
  /** Its status for `type` (or the worst of its types). */
  status: string;
  /** Its status for every configured SEP-12 type. */
  statuses: Record<string, string>;
  /** Goes up by one with every change: the newer of two events about a customer has the higher one. */
  version: number;
  updated_at: string;
}

export type BusinessEventPayload =
  { transaction: Sep31Transaction } | { customer: BusinessCustomer } | { quote: Sep38Quote };

export interface BusinessEvent {
  /** Unique per event and the same on every delivery of it: deduplicate by it. */
  id: string;
  type: BusinessEventType;
  /** The SEP the payload belongs to. */
  sep: '31' | '12' | '38';
  /** When the change was committed (ISO 8601, UTC). */
  timestamp: string;
  payload: BusinessEventPayload;
}

/** The JSON text delivered: the fields in their documented order (the outbox's jsonb keeps no order). */
export function businessEventJson(event: BusinessEvent): string {
  const { id, type, sep, timestamp, payload } = event;
  return JSON.stringify({ id, type, sep, timestamp, payload });
}

/** The destinations the configuration turns on. */
export function businessEventKinds(config: Pick<Config, 'events'>): BusinessEventKind[] {
  return [
    ...(config.events.nats ? (['event_nats'] as const) : []),
    ...(config.events.webhookUrl !== null ? (['event_webhook'] as const) : []),
  ];
}

/** The NATS topic of an event type, under `<prefix>.events.`: `transaction_created` → `transaction.created`. */
export function businessEventTopic(type: BusinessEventType): string {
  const at = type.indexOf('_');
  return `${type.slice(0, at)}.${type.slice(at + 1)}`;
}

/**
 * A UUID (version 8, RFC 9562) derived from what the event is about: the same change always gets the same
 * id, however often its batch is retried, and no two changes share one.
 */
export function businessEventId(name: string): string {
  const bytes = createHash('sha256').update(name).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A transaction's event: its creation (`seq` is then its version after the create) or any later change. */
export function transactionEvent(options: {
  type: 'transaction_created' | 'transaction_status_changed';
  status: TransactionStatus;
  context: TransactionContext;
  /** The transaction's version after the change. */
  seq: number;
  at: Date;
}): BusinessEvent {
  const { type, status, context, seq, at } = options;
  return {
    id: businessEventId(`transaction:${context.id}:${seq}`),
    type,
    sep: '31',
    timestamp: at.toISOString(),
    payload: { transaction: toSep31Transaction(status, context) },
  };
}

export function customerEvent(customer: BusinessCustomer, at: Date): BusinessEvent {
  return {
    id: businessEventId(`customer:${customer.id}:${customer.version}`),
    type: 'customer_updated',
    sep: '12',
    timestamp: at.toISOString(),
    payload: { customer },
  };
}

export function quoteEvent(quote: Sep38Quote, at: Date): BusinessEvent {
  return {
    id: businessEventId(`quote:${quote.id}`),
    type: 'quote_created',
    sep: '38',
    timestamp: at.toISOString(),
    payload: { quote },
  };
}

/**
 * The outbox rows of one event, one per destination. A transaction's rows carry its id and `seq`, so the
 * relay delivers its events in order (per destination); customers' and quotes' rows belong to no
 * transaction.
 */
export function businessEventEffects(
  event: BusinessEvent,
  kinds: readonly BusinessEventKind[],
  transaction: { id: string; seq: number } | null = null,
): NewOutboxEffect[] {
  return kinds.map((kind) => ({
    transactionId: transaction?.id ?? null,
    seq: transaction?.seq ?? null,
    kind,
    payload: { kind, event },
    idempotencyKey: `${kind}:${event.id}`,
  }));
}
