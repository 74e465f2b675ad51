/**
 * The outbox payload of every effect kind, declared once: the actor hosts write payloads of these types
 * and the relays read them back through the same schemas. A row whose payload does not fit its kind's
 * schema fails for good (a retry cannot fix it) with a message naming the kind.
 */
import { Type, type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import type { TransactionContext, TransactionEffect, TransactionStatus } from '../../machines/index.ts';
import type { BusMessage } from '../bus/index.ts';
import type { OutboxRow } from '../db/outbox.table.ts';
import type { CustomerBody } from '../views/sep12-customer.ts';
import type { BusinessEvent } from './business-events.ts';
import { PermanentEffectError } from './relay.ts';

/** The transaction as it was when the effect arose (a late retry still reports that moment). */
const TransactionCopy = Type.Object({
  status: Type.String(),
  context: Type.Object({ id: Type.String({ minLength: 1 }) }, { additionalProperties: true }),
});

/** A business event (`./business-events.ts`), built when its change was committed. */
const BusinessEventCopy = Type.Object({
  id: Type.String({ minLength: 1 }),
  type: Type.Union([
    Type.Literal('transaction_created'),
    Type.Literal('transaction_status_changed'),
    Type.Literal('customer_updated'),
    Type.Literal('quote_created'),
  ]),
  sep: Type.String(),
  timestamp: Type.String(),
  payload: Type.Object({}, { additionalProperties: true }),
});

const SCHEMAS = {
  /** SEP-31 callback: the transaction changed status. */
  status_changed: Type.Object({
    kind: Type.Literal('status_changed'),
    status: Type.String(),
    transaction: TransactionCopy,
  }),
  /** A payout for the rails, with the key they must be given. */
  execute_payout: Type.Object({
    kind: Type.Literal('execute_payout'),
    attempt: Type.Integer({ minimum: 1 }),
    idempotencyKey: Type.String({ minLength: 1 }),
    /** An operator's retry of the same payout (reconciliation), numbered from 1. */
    retry: Type.Optional(Type.Integer({ minimum: 0 })),
    outboxKey: Type.Optional(Type.String()),
    transaction: TransactionCopy,
  }),
  /** An over-payment's excess, owed back to the sending anchor. */
  refund_excess: Type.Object({
    kind: Type.Literal('refund_excess'),
    amount: Type.String(),
    idempotencyKey: Type.String({ minLength: 1 }),
    transaction: TransactionCopy,
  }),
  /** A refund Mooring sends on Stellar (or leaves to the business), keyed by its refund id. */
  send_refund: Type.Object({
    kind: Type.Literal('send_refund'),
    refundId: Type.String({ minLength: 1 }),
    amount: Type.String(),
    fee: Type.String(),
    excess: Type.Boolean(),
    idempotencyKey: Type.String({ minLength: 1 }),
    transaction: TransactionCopy,
  }),
  /** An operator's refund of a payment no transaction could take (no transaction: keyed by its operation). */
  refund_unmatched: Type.Object({
    kind: Type.Literal('refund_unmatched'),
    operationId: Type.String({ minLength: 1 }),
    requestedBy: Type.Union([Type.String(), Type.Null()]),
  }),
  /** SEP-12 callback: a customer's status for a type changed. */
  customer_status_changed: Type.Object({
    kind: Type.Literal('customer_status_changed'),
    customerId: Type.String({ minLength: 1 }),
    type: Type.String(),
    status: Type.String(),
    previousStatus: Type.String(),
    version: Type.Integer(),
    /** The callback URL registered at the change (the one registered at delivery time wins). */
    url: Type.String(),
    /** `GET /customer?id=&type=` as of the change. */
    body: Type.Object({ status: Type.String() }, { additionalProperties: true }),
  }),
  /** A message for another actor, published on the bus once the change that caused it is committed. */
  actor_message: Type.Object({
    kind: Type.Literal('actor_message'),
    message: Type.Object({
      id: Type.String({ minLength: 1 }),
      to: Type.String({ minLength: 1 }),
      body: Type.Unknown(),
    }),
  }),
  /** A business event for NATS (`<prefix>.events.…`). */
  event_nats: Type.Object({ kind: Type.Literal('event_nats'), event: BusinessEventCopy }),
  /** A business event for the business server's webhook. */
  event_webhook: Type.Object({ kind: Type.Literal('event_webhook'), event: BusinessEventCopy }),
} satisfies Record<string, TSchema>;

export type OutboxKind = keyof typeof SCHEMAS;

interface TransactionCopyOf {
  status: TransactionStatus;
  context: TransactionContext;
}

/** Each kind's payload, typed as precisely as the writer knows it. */
export interface OutboxPayloads {
  status_changed: Static<(typeof SCHEMAS)['status_changed']> & {
    status: TransactionStatus;
    transaction: TransactionCopyOf;
  };
  execute_payout: Static<(typeof SCHEMAS)['execute_payout']> & { transaction: TransactionCopyOf };
  refund_excess: Static<(typeof SCHEMAS)['refund_excess']> & { transaction: TransactionCopyOf };
  send_refund: Static<(typeof SCHEMAS)['send_refund']> & { transaction: TransactionCopyOf };
  refund_unmatched: Static<(typeof SCHEMAS)['refund_unmatched']>;
  customer_status_changed: Static<(typeof SCHEMAS)['customer_status_changed']> & { body: CustomerBody };
  actor_message: { kind: 'actor_message'; message: BusMessage };
  event_nats: { kind: 'event_nats'; event: BusinessEvent };
  event_webhook: { kind: 'event_webhook'; event: BusinessEvent };
}

export type StatusChangedPayload = OutboxPayloads['status_changed'];
export type ExecutePayoutPayload = OutboxPayloads['execute_payout'];
export type RefundExcessPayload = OutboxPayloads['refund_excess'];
export type SendRefundPayload = OutboxPayloads['send_refund'];
export type RefundUnmatchedPayload = OutboxPayloads['refund_unmatched'];
export type CustomerStatusChangedPayload = OutboxPayloads['customer_status_changed'];
export type ActorMessagePayload = OutboxPayloads['actor_message'];

const validators = Object.fromEntries(
  Object.entries(SCHEMAS).map(([kind, schema]) => [kind, Compile(schema)]),
) as { [K in OutboxKind]: ReturnType<typeof Compile> };

/** The payload of a transaction effect: the effect with the transaction as it was when it arose. */
export function transactionEffectPayload(
  effect: TransactionEffect,
  transaction: TransactionCopyOf,
): OutboxPayloads[TransactionEffect['kind']] {
  return { ...effect, transaction };
}

/** The payload of an `actor_message` effect. */
export function actorMessagePayload(message: BusMessage): ActorMessagePayload {
  return { kind: 'actor_message', message };
}

/** Reads a row's payload as its kind's; throws {@link PermanentEffectError} when it does not fit. */
export function readPayload<K extends OutboxKind>(
  row: Pick<OutboxRow, 'id' | 'payload'>,
  kind: K,
): OutboxPayloads[K] {
  const validator = validators[kind];
  if (!validator.Check(row.payload)) {
    const first = validator.Errors(row.payload)[0];
    const where = first ? ` (${first.instancePath || '/'}: ${first.message})` : '';
    throw new PermanentEffectError(`outbox row ${row.id}: not a ${kind} payload${where}`);
  }
  return row.payload as OutboxPayloads[K];
}
