/**
 * The `actor_message` effect: a message one actor sends another (a customer telling its transactions it
 * changed, a transaction asking its customers for information). The sender's host commits it in the
 * outbox with the change that caused it; this handler publishes it once that is committed. Publishing the
 * same message again after a crash is harmless: the bus and the receiving actor drop a repeated id.
 */
import type { EventBus } from '../bus/index.ts';
import { readPayload } from './payloads.ts';
import type { EffectHandler } from './relay.ts';

export function actorMessageHandler(bus: Pick<EventBus, 'publish'>): EffectHandler {
  return async (row) => {
    const { message } = readPayload(row, 'actor_message');
    await bus.publish(message);
  };
}

/** Suggested settings of the relay that delivers messages between actors: prompt and patient. */
export const DEFAULT_MESSAGE_RELAY_SETTINGS = {
  intervalMs: 1_000,
  batchSize: 100,
  leaseMs: 60_000,
  handlerTimeoutMs: 30_000,
  maxAttempts: 1_000,
  backoff: { initialMs: 500, factor: 2, maxMs: 60_000 },
} as const;
