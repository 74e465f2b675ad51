/**
 * Public surface of the bus. Other folders import the bus only from here.
 *
 * @example
 * const bus = await createBus({ natsUrl: config.natsUrl, logger }); // NATS when a URL is set, else in-process
 */
import type { BusOptions, EventBus } from './event-bus.ts';
import { createInProcessBus, type InProcessBusOptions } from './in-process-bus.ts';
import { createNatsBus, type NatsBusOptions } from './nats-bus.ts';

export {
  DEFAULT_DEDUPE_WINDOW,
  DEFAULT_MAX_DELIVER,
  DEFAULT_PARTITIONS,
  DEFAULT_STOP_TIMEOUT_MS,
  exponentialBackoff,
  silentLogger,
} from './event-bus.ts';
export { createInProcessBus } from './in-process-bus.ts';
export { createNatsBus, DEFAULT_STREAM_NAME, DEFAULT_SUBJECT_PREFIX } from './nats-bus.ts';
export { partitionOf } from './partition.ts';
export { MalformedEnvelopeError } from './codec.ts';

export type {
  BusHandler,
  BusLogger,
  BusOptions,
  BusSubscription,
  DeadLetter,
  DeadLetterReason,
  DeliveryMeta,
  EventBus,
  RetryBackoff,
} from './event-bus.ts';
export type { InProcessBusOptions } from './in-process-bus.ts';
export type { NatsBusOptions } from './nats-bus.ts';

/** Configuration of {@link createBus}. */
export interface CreateBusConfig extends BusOptions {
  /** NATS server URL; when set the bus is NATS JetStream, else in-process. */
  natsUrl?: string | undefined;
  /** Extra options for the NATS bus (stream name, subject prefix, ack wait…). */
  nats?: Omit<NatsBusOptions, 'url' | keyof BusOptions>;
  /** Extra options for the in-process bus. */
  inProcess?: Omit<InProcessBusOptions, keyof BusOptions>;
}

/**
 * Picks the bus: NATS JetStream when `natsUrl` is set (production, several processes), else the
 * in-process bus (the single-process default).
 */
export async function createBus(config: CreateBusConfig = {}): Promise<EventBus> {
  const { natsUrl, nats, inProcess, ...common } = config;
  if (natsUrl) return createNatsBus({ ...nats, ...common, url: natsUrl });
  return createInProcessBus({ ...inProcess, ...common });
}
