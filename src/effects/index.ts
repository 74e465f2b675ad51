// Public surface of src/effects: the outbox relay and the callback effects it carries out.
import { sep12CallbackHandler } from './sep12-callbacks.ts';
import { sep31CallbackHandler, type CallbackHandlerOptions } from './sep31-callbacks.ts';
import type { EffectHandler } from './relay.ts';

export {
  blockedAddressReason,
  CALLBACK_URL_MAX_LENGTH,
  checkCallbackUrl,
  guardedLookup,
  isAllowedLoopbackUrl,
  resolveHost,
} from './callback-url.ts';
export type { CallbackUrlOptions, ResolveHost } from './callback-url.ts';
export {
  DEFAULT_MAX_SIGNATURE_AGE_SECONDS,
  parseSignatureHeader,
  signCallback,
  signaturePayload,
  signedHost,
  verifyCallbackSignature,
} from './signing.ts';
export type { CallbackSignatureHeaders, SignatureCheck } from './signing.ts';
export { CallbackDeliveryError, DEFAULT_CALLBACK_TIMEOUT_MS, deliverCallback } from './delivery.ts';
export type { CallbackRequest, DeliveryOptions } from './delivery.ts';
export { backoffDelay, PermanentEffectError, startOutboxRelay } from './relay.ts';
export type {
  BackoffOptions,
  EffectContext,
  EffectHandler,
  OutboxRelay,
  OutboxRelayOptions,
  RelayLog,
} from './relay.ts';
export { sep31CallbackBody, sep31CallbackHandler } from './sep31-callbacks.ts';
export type { CallbackHandlerOptions } from './sep31-callbacks.ts';
export { sep12CallbackHandler } from './sep12-callbacks.ts';
export { actorMessagePayload, readPayload, transactionEffectPayload } from './payloads.ts';
export { actorMessageHandler, DEFAULT_MESSAGE_RELAY_SETTINGS } from './actor-messages.ts';
export {
  BUSINESS_EVENT_KINDS,
  BUSINESS_EVENT_TYPES,
  businessEventEffects,
  businessEventId,
  businessEventJson,
  businessEventKinds,
  businessEventTopic,
  customerEvent,
  quoteEvent,
  transactionEvent,
} from './business-events.ts';
export type {
  BusinessCustomer,
  BusinessEvent,
  BusinessEventKind,
  BusinessEventPayload,
  BusinessEventType,
} from './business-events.ts';
export {
  DEFAULT_NATS_EVENT_RELAY_SETTINGS,
  natsEventHandler,
  webhookEventHandler,
} from './event-handlers.ts';
export type { WebhookEventHandlerOptions } from './event-handlers.ts';
export type {
  ActorMessagePayload,
  CustomerStatusChangedPayload,
  ExecutePayoutPayload,
  OutboxKind,
  OutboxPayloads,
  RefundExcessPayload,
  StatusChangedPayload,
} from './payloads.ts';

/** Suggested relay settings: 5 s doubling to 1 h between attempts, 15 attempts (about 5.5 h) in all. */
export const DEFAULT_RELAY_SETTINGS = {
  intervalMs: 1_000,
  batchSize: 20,
  leaseMs: 60_000,
  handlerTimeoutMs: 30_000,
  maxAttempts: 15,
  backoff: { initialMs: 5_000, factor: 2, maxMs: 3_600_000 },
} as const;

/** The callback handlers by outbox kind: `status_changed` (SEP-31) and `customer_status_changed` (SEP-12). */
export function callbackHandlers(options: CallbackHandlerOptions): Record<string, EffectHandler> {
  return {
    status_changed: sep31CallbackHandler(options),
    customer_status_changed: sep12CallbackHandler(options),
  };
}
