/**
 * Delivery of business events (`./business-events.ts`) from the outbox:
 *
 * - `event_nats`: published on `<prefix>.events.<topic>` with the event id as `Nats-Msg-Id`, so a
 *   publish repeated after a crash is dropped by JetStream (and, past its window, by the consumer's id check).
 * - `event_webhook`: POSTed to the business server's URL (config `events.webhookUrl`), the event JSON as
 *   body, signed like a SEP-31 callback (`Signature: t=…, s=…` over `<t>.<host>.<body>` with SIGNING_KEY);
 *   any answer but 2xx is retried with the relay's backoff.
 *
 * The relay claims a transaction's rows of one kind in order, so each destination sees a transaction's
 * events in the order they happened, whatever the other destination does.
 */
import type { BusinessEventStream } from '../bus/index.ts';
import type { Config } from '../config/index.ts';
import { DEFAULT_MESSAGE_RELAY_SETTINGS } from './actor-messages.ts';
import { businessEventJson, businessEventTopic } from './business-events.ts';
import { deliverCallback } from './delivery.ts';
import { readPayload } from './payloads.ts';
import type { EffectHandler } from './relay.ts';

export function natsEventHandler(stream: Pick<BusinessEventStream, 'publish'>): EffectHandler {
  return async (row) => {
    const { event } = readPayload(row, 'event_nats');
    await stream.publish(businessEventTopic(event.type), event.id, businessEventJson(event));
  };
}

export interface WebhookEventHandlerOptions {
  url: string;
  config: Pick<Config, 'signingSecret'>;
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number;
}

export function webhookEventHandler(options: WebhookEventHandlerOptions): EffectHandler {
  return async (row, { now, signal }) => {
    const { event } = readPayload(row, 'event_webhook');
    await deliverCallback(
      { url: options.url, body: businessEventJson(event), now, signal },
      {
        signingSecret: options.config.signingSecret,
        allowLoopback: false,
        // The operator's own URL (often on the private network), not one a sending anchor gave.
        trusted: true,
        timeoutMs: options.timeoutMs,
      },
    );
  };
}

/** The NATS events relay is as prompt and patient as the actors' messages (NATS away is an outage, not a bad event). */
export const DEFAULT_NATS_EVENT_RELAY_SETTINGS = DEFAULT_MESSAGE_RELAY_SETTINGS;
