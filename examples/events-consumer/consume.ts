/**
 * A business server reading Mooring's business events from NATS JetStream with a durable consumer.
 *
 *   NATS_URL=nats://127.0.0.1:4222 NATS_PREFIX=mooring DURABLE=business \
 *     node examples/events-consumer/consume.ts
 *
 * The durable consumer remembers on the server what was acknowledged, so a restart resumes after the last
 * event handled. Delivery is at least once: an event whose ack was lost comes again, and so can an event
 * Mooring published twice (its relay died before recording the first publish). Handle each event id once:
 * here a Set, in a real server a table written in the same database transaction as the event's effect.
 *
 * Only the `nats` packages are needed: `npm install @nats-io/transport-node @nats-io/jetstream`.
 */
import { fileURLToPath } from 'node:url';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

/** The event as Mooring publishes it (docs/events.md). */
export interface MooringEvent {
  id: string;
  type: 'transaction_created' | 'transaction_status_changed' | 'customer_updated' | 'quote_created';
  sep: string;
  timestamp: string;
  payload: Record<string, unknown>;
}

export interface ConsumeOptions {
  servers: string;
  /** Mooring's `nats.prefix` (NATS_PREFIX). Default `mooring`. */
  prefix?: string;
  /** The consumer's name: its position is kept on the server under it. */
  durable: string;
  /** Which events, e.g. `transaction.>` (default: all). */
  topics?: string;
  /** Ids already handled (a real server keeps them in its database). */
  seen?: Set<string>;
  handle(event: MooringEvent): Promise<void> | void;
  /** Stops consuming. */
  signal?: AbortSignal;
}

export async function consumeEvents(options: ConsumeOptions): Promise<void> {
  const prefix = options.prefix ?? 'mooring';
  const stream = `${prefix}_business_events`;
  const seen = options.seen ?? new Set<string>();
  const nc = await connect({ servers: options.servers, name: `events-${options.durable}` });
  try {
    const jsm = await jetstreamManager(nc);
    // Mooring's relay creates the stream when it starts.
    await jsm.streams.info(stream).catch((error: unknown) => {
      throw new Error(`no stream ${stream}: is Mooring running with NATS_URL and events.nats on?`, {
        cause: error,
      });
    });
    // Creating a durable consumer that exists with the same configuration is a no-op.
    await jsm.consumers.add(stream, {
      durable_name: options.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: `${prefix}.events.${options.topics ?? '>'}`,
      // One event at a time: a redelivered event never overtakes a later one of the same transaction.
      max_ack_pending: 1,
      ack_wait: 30_000_000_000, // 30 s in nanoseconds
    });
    const consumer = await jetstream(nc).consumers.get(stream, options.durable);
    const messages = await consumer.consume();
    options.signal?.addEventListener('abort', () => void messages.close(), { once: true });
    if (options.signal?.aborted) await messages.close();
    for await (const message of messages) {
      const event = message.json<MooringEvent>();
      if (!seen.has(event.id)) {
        await options.handle(event);
        seen.add(event.id);
      }
      // Acknowledged only once handled: a crash before this line gets the event again.
      message.ack();
    }
  } finally {
    await nc.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  await consumeEvents({
    servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    prefix: process.env.NATS_PREFIX ?? 'mooring',
    durable: process.env.DURABLE ?? 'business',
    signal: controller.signal,
    handle(event) {
      const subject = event.payload.transaction ?? event.payload.customer ?? event.payload.quote;
      const { id, status } = subject as { id: string; status?: string };
      console.log(`${event.timestamp} ${event.type} ${id}${status ? ` ${status}` : ''} (event ${event.id})`);
    },
  });
}
