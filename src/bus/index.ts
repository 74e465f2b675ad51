/**
 * Public surface of the bus. Other folders import the bus only from here.
 *
 * @example
 * const bus = await createBus({ natsUrl: config.natsUrl, prefix: config.nats.prefix, logger }); // NATS when a URL is set
 */
import type { BusOptions, EventBus } from './event-bus.ts';
import { createInProcessBus } from './in-process-bus.ts';
import { createNatsBus, type NatsBusOptions } from './nats-bus.ts';

export {
  BusClosedError,
  BusTimeoutError,
  BusUnavailableError,
  DEFAULT_DEDUPE_WINDOW,
  DEFAULT_PARTITIONS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  errorText,
  silentLogger,
} from './event-bus.ts';
export { createInProcessBus } from './in-process-bus.ts';
export { createNatsBus, DEFAULT_PREFIX } from './nats-bus.ts';
export { partitionOf } from './partition.ts';
export { MalformedMessageError } from './codec.ts';
export { businessEventsStreamName, businessEventSubject, streamName } from './subjects.ts';
export {
  DEFAULT_EVENTS_DUPLICATE_WINDOW_MS,
  DEFAULT_EVENTS_MAX_AGE_MS,
  openBusinessEventStream,
} from './business-event-stream.ts';

export type {
  BusLogger,
  BusMessage,
  BusOptions,
  Delivery,
  EventBus,
  PartitionReader,
  RequestOptions,
} from './event-bus.ts';
export type { InProcessBusOptions } from './in-process-bus.ts';
export type { NatsBusOptions } from './nats-bus.ts';
export type { BusinessEventStream, BusinessEventStreamOptions } from './business-event-stream.ts';

/** Configuration of {@link createBus}. */
export interface CreateBusConfig extends BusOptions {
  /** NATS server URL; when set the bus is NATS JetStream, else in-process. */
  natsUrl?: string | null | undefined;
  /** The deployment's NATS namespace (stream and subjects). Default `mooring`. */
  prefix?: string;
  /** Extra options for the NATS bus. */
  nats?: Omit<NatsBusOptions, 'url' | 'prefix' | keyof BusOptions>;
}

/**
 * Picks the bus: NATS JetStream when `natsUrl` is set (production, several processes), else the
 * in-process bus (the single-process default).
 */
export async function createBus(config: CreateBusConfig = {}): Promise<EventBus> {
  const { natsUrl, prefix, nats, ...common } = config;
  if (natsUrl)
    return createNatsBus({ ...nats, ...common, url: natsUrl, ...(prefix !== undefined && { prefix }) });
  return createInProcessBus(common);
}
