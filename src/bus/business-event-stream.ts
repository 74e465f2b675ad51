/**
 * The JetStream stream of business events, `<prefix>_business_events` on the subjects
 * `<prefix>.events.>`, and publishing into it. Apart from the bus's stream (purged once applied), it keeps
 * events for `maxAgeMs` so the business server's durable consumers can read them at their own pace.
 *
 * Each event is published with its id as `Nats-Msg-Id`: a relay that publishes an event again (it died
 * before recording that it had) is dropped by the server within `duplicateWindowMs`; past that window a
 * consumer drops it by the same id.
 */
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { DiscardPolicy, RetentionPolicy, StorageType, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { errorText } from './event-bus.ts';
import { ensureStream } from './nats-bus.ts';
import {
  assertPrefix,
  businessEventsFilter,
  businessEventsStreamName,
  businessEventSubject,
} from './subjects.ts';

export interface BusinessEventStreamOptions {
  /** Server URL(s). Required unless `connection` is given. */
  url?: string | string[];
  /** Use this connection; `close` then leaves it open. */
  connection?: NatsConnection;
  /** The deployment's namespace (config `nats.prefix`). */
  prefix: string;
  /** How long the server drops a repeated event id. Default 15 min (longer than a relay's lease). */
  duplicateWindowMs?: number;
  /** How long events are kept. Default 7 days. */
  maxAgeMs?: number;
  /** How long a publish waits for the PubAck. Default 5 s. */
  publishTimeoutMs?: number;
}

export interface BusinessEventStream {
  readonly stream: string;
  /**
   * Stores `data` on `<prefix>.events.<topic>` with `id` as `Nats-Msg-Id`; resolves once JetStream has it
   * (`duplicate`: it had it already). Throws when it was not stored.
   */
  publish(topic: string, id: string, data: string): Promise<{ duplicate: boolean }>;
  close(): Promise<void>;
}

export const DEFAULT_EVENTS_DUPLICATE_WINDOW_MS = 15 * 60 * 1000;
export const DEFAULT_EVENTS_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
const DEFAULT_PUBLISH_TIMEOUT_MS = 5 * 1000;

/** Connects (unless given a connection), creates or updates the stream, and returns the publisher. */
export async function openBusinessEventStream(
  options: BusinessEventStreamOptions,
): Promise<BusinessEventStream> {
  const { prefix } = options;
  assertPrefix(prefix);
  let nc = options.connection;
  const owns = nc === undefined;
  if (nc === undefined) {
    if (options.url === undefined) throw new Error('openBusinessEventStream needs a url or a connection');
    nc = await connect({ servers: options.url, name: 'mooring-events', maxReconnectAttempts: -1 });
  }
  const stream = businessEventsStreamName(prefix);
  try {
    await ensureStream(await jetstreamManager(nc), {
      name: stream,
      subjects: [businessEventsFilter(prefix)],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(options.maxAgeMs ?? DEFAULT_EVENTS_MAX_AGE_MS),
      duplicate_window: nanos(options.duplicateWindowMs ?? DEFAULT_EVENTS_DUPLICATE_WINDOW_MS),
    });
  } catch (error) {
    if (owns) await nc.close();
    throw error;
  }
  const js = jetstream(nc);
  const connection = nc;
  const timeout = options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
  return {
    stream,
    async publish(topic, id, data) {
      try {
        const ack = await js.publish(businessEventSubject(prefix, topic), data, {
          msgID: id,
          timeout,
          expect: { streamName: stream },
        });
        return { duplicate: ack.duplicate };
      } catch (error) {
        throw new Error(`NATS did not store the event: ${errorText(error)}`, { cause: error });
      }
    },
    async close() {
      if (owns && !connection.isClosed()) await connection.close();
    },
  };
}
