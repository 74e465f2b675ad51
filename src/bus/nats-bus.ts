/**
 * The NATS JetStream bus: durable, acknowledged, de-duplicated, ordered per transaction, and shared
 * by any number of processes. Resources and their configuration: see `nats-topology.ts`.
 *
 * Delivery path of one message: decode (malformed → dead letter); skip if this process already
 * acknowledged its `eventId` (an ack lost in a reconnect, or a republish after the duplicate window);
 * dead-letter if it came back more than `maxDeliver` times; else call the handler, sending
 * `working()` every `ackWaitMs / 3` so a slow handler keeps the message; then `ack()`, or on a throw
 * `nak(retryBackoff(n))`, or on the last allowed delivery copy it to the dead-letter stream and
 * `term()` it.
 */
import {
  connect,
  headers,
  type MsgHdrs,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
import {
  jetstream,
  jetstreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StoredMsg,
} from '@nats-io/jetstream';
import type { TransactionEventEnvelope } from '../../machines/transaction/events.ts';
import { assertEnvelope, decodeEnvelope, encodeEnvelope, rawText } from './codec.ts';
import { RecentIds } from './dedupe.ts';
import {
  errorText,
  resolveBusOptions,
  type BusHandler,
  type BusOptions,
  type BusSubscription,
  type DeadLetter,
  type DeadLetterReason,
  type EventBus,
  type ResolvedBusOptions,
} from './event-bus.ts';
import { consumerName, ensurePartitionConsumer, ensureTopology, type Topology } from './nats-topology.ts';
import { partitionOf } from './partition.ts';
import {
  assertName,
  assertSubjectPrefix,
  deadLetterSubject,
  decodeSubjectToken,
  eventSubject,
  lastToken,
} from './subjects.ts';

/** Options of {@link createNatsBus}. */
export interface NatsBusOptions extends BusOptions {
  /** Server URL(s), e.g. `nats://127.0.0.1:4222`. Required unless `connection` is given. */
  url?: string | string[];
  /** Use this connection instead of opening one; {@link EventBus.close} then leaves it open. */
  connection?: NatsConnection;
  /** Event stream name. Default `MOORING_EVENTS`. */
  streamName?: string;
  /** Dead-letter stream name. Default `<streamName>_DEAD`. */
  deadLetterStreamName?: string;
  /** First tokens of every subject. Default `mooring.events`. */
  subjectPrefix?: string;
  /** How long the server waits for an ack (or `working()`) before redelivering. Default 30 s. */
  ackWaitMs?: number;
  /** JetStream de-duplication window for `Nats-Msg-Id` (= eventId). Default 2 min. */
  duplicateWindowMs?: number;
  /** How long `publish` waits for the PubAck. Default 5 s. */
  publishTimeoutMs?: number;
  /** Connection name shown by the server. Default `mooring-bus`. */
  name?: string;
  /** Pause between reconnect attempts (the client retries forever). Default 2 s. */
  reconnectTimeWaitMs?: number;
}

export const DEFAULT_STREAM_NAME = 'MOORING_EVENTS';
export const DEFAULT_SUBJECT_PREFIX = 'mooring.events';
export const DEFAULT_ACK_WAIT_MS = 30 * 1000;
export const DEFAULT_DUPLICATE_WINDOW_MS = 2 * 60 * 1000;
export const DEFAULT_PUBLISH_TIMEOUT_MS = 5 * 1000;
export const DEFAULT_RECONNECT_TIME_WAIT_MS = 2 * 1000;
/** Pause before a partition loop tries again after its consumer could not be read. */
const RESUBSCRIBE_DELAY_MS = 1000;

/** Headers of a dead letter. */
const H = {
  reason: 'Mooring-Dead-Reason',
  error: 'Mooring-Dead-Error',
  deliveryCount: 'Mooring-Delivery-Count',
  originalSubject: 'Mooring-Original-Subject',
  originalSeq: 'Mooring-Original-Seq',
} as const;

/**
 * Connects, creates or updates the streams and partition consumers, and returns the bus.
 *
 * @example
 * const bus = await createNatsBus({ url: 'nats://127.0.0.1:4222', partitions: 16 });
 * await bus.subscribe(async (envelope) => host.apply(envelope));
 */
export async function createNatsBus(options: NatsBusOptions): Promise<EventBus> {
  const resolved = resolveBusOptions(options);
  const topology: Topology = {
    streamName: options.streamName ?? DEFAULT_STREAM_NAME,
    deadLetterStreamName: options.deadLetterStreamName ?? `${options.streamName ?? DEFAULT_STREAM_NAME}_DEAD`,
    subjectPrefix: options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX,
    partitions: resolved.partitions,
    ackWaitMs: options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS,
    duplicateWindowMs: options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS,
  };
  assertName('stream name', topology.streamName);
  assertName('dead-letter stream name', topology.deadLetterStreamName);
  assertSubjectPrefix(topology.subjectPrefix);
  if (!(topology.ackWaitMs >= 100))
    throw new RangeError(`ackWaitMs must be >= 100, got ${topology.ackWaitMs}`);

  let connection = options.connection;
  const ownsConnection = connection === undefined;
  if (connection === undefined) {
    if (options.url === undefined) throw new Error('createNatsBus needs a url or a connection');
    const connectOptions: NodeConnectionOptions = {
      servers: options.url,
      name: options.name ?? 'mooring-bus',
      maxReconnectAttempts: -1,
      reconnectTimeWait: options.reconnectTimeWaitMs ?? DEFAULT_RECONNECT_TIME_WAIT_MS,
    };
    connection = await connect(connectOptions);
  }
  try {
    const jsm = await jetstreamManager(connection);
    await ensureTopology(jsm, topology);
    return new NatsBus(connection, ownsConnection, jsm, topology, resolved, {
      publishTimeoutMs: options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS,
    });
  } catch (error) {
    if (ownsConnection) await connection.close();
    throw error;
  }
}

interface InFlight {
  abandoned: boolean;
  heartbeat: NodeJS.Timeout;
}

interface Subscription {
  handler: BusHandler;
  stopping: boolean;
  abort: AbortController;
  iterators: Set<ConsumerMessages>;
  inFlight: Set<InFlight>;
  loops: Promise<void>[];
  stopped: Promise<void> | undefined;
}

class NatsBus implements EventBus {
  readonly #nc: NatsConnection;
  readonly #ownsConnection: boolean;
  readonly #jsm: JetStreamManager;
  readonly #js: JetStreamClient;
  readonly #t: Topology;
  readonly #options: ResolvedBusOptions;
  readonly #publishTimeoutMs: number;
  /** Event ids this process acknowledged: a redelivery of one is acked without calling the handler. */
  readonly #acked: RecentIds;
  readonly #subscriptions = new Set<Subscription>();
  #closing: Promise<void> | undefined;

  constructor(
    nc: NatsConnection,
    ownsConnection: boolean,
    jsm: JetStreamManager,
    topology: Topology,
    options: ResolvedBusOptions,
    extra: { publishTimeoutMs: number },
  ) {
    this.#nc = nc;
    this.#ownsConnection = ownsConnection;
    this.#jsm = jsm;
    this.#js = jetstream(nc);
    this.#t = topology;
    this.#options = options;
    this.#publishTimeoutMs = extra.publishTimeoutMs;
    this.#acked = new RecentIds(options.dedupeWindow);
  }

  async publish(envelope: TransactionEventEnvelope): Promise<void> {
    if (this.#closing) throw new Error('Cannot publish on a closed bus');
    assertEnvelope(envelope);
    const partition = partitionOf(envelope.transactionId, this.#t.partitions);
    await this.#js.publish(
      eventSubject(this.#t.subjectPrefix, partition, envelope.transactionId),
      encodeEnvelope(envelope),
      {
        msgID: envelope.eventId,
        timeout: this.#publishTimeoutMs,
        expect: { streamName: this.#t.streamName },
      },
    );
  }

  async subscribe(handler: BusHandler): Promise<BusSubscription> {
    if (this.#closing) throw new Error('Cannot subscribe on a closed bus');
    const sub: Subscription = {
      handler,
      stopping: false,
      abort: new AbortController(),
      iterators: new Set(),
      inFlight: new Set(),
      loops: [],
      stopped: undefined,
    };
    this.#subscriptions.add(sub);
    for (let p = 0; p < this.#t.partitions; p++) sub.loops.push(this.#consumePartition(sub, p));
    return { stop: () => this.#stop(sub) };
  }

  async deadLetters(options: { limit?: number } = {}): Promise<DeadLetter[]> {
    const limit = options.limit ?? 100;
    const { state } = await this.#jsm.streams.info(this.#t.deadLetterStreamName);
    const letters: DeadLetter[] = [];
    if (state.messages === 0) return letters;
    for (let seq = state.first_seq; seq <= state.last_seq && letters.length < limit; seq++) {
      // null: deleted by an operator (a gap in the sequence).
      const stored = await this.#jsm.streams.getMessage(this.#t.deadLetterStreamName, { seq });
      if (stored === null) continue;
      letters.push(readDeadLetter(stored));
    }
    return letters;
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await Promise.all([...this.#subscriptions].map((sub) => this.#stop(sub)));
    if (!this.#ownsConnection || this.#nc.isClosed()) return;
    // Drain flushes the acks still buffered; do not hang on a server that is gone.
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#options.stopTimeoutMs);
    });
    const drained = this.#nc.drain().catch((error: unknown) => error);
    const result = await Promise.race([drained, gaveUp]);
    clearTimeout(timer);
    if (result !== undefined) await this.#nc.close();
  }

  #stop(sub: Subscription): Promise<void> {
    sub.stopped ??= this.#stopNow(sub);
    return sub.stopped;
  }

  async #stopNow(sub: Subscription): Promise<void> {
    sub.stopping = true;
    sub.abort.abort();
    for (const iterator of sub.iterators) iterator.stop();
    let timer: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      Promise.allSettled(sub.loops).then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), this.#options.stopTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!settled) {
      for (const flight of sub.inFlight) {
        flight.abandoned = true;
        clearInterval(flight.heartbeat);
      }
      if (sub.inFlight.size > 0) {
        this.#options.logger.warn(
          { abandoned: sub.inFlight.size, stopTimeoutMs: this.#options.stopTimeoutMs },
          'bus: stopped with handler calls still running; their events will be redelivered after ackWait',
        );
      }
    }
    this.#subscriptions.delete(sub);
  }

  /** Pulls one partition until the subscription stops, resuming after errors. */
  async #consumePartition(sub: Subscription, partition: number): Promise<void> {
    const name = consumerName(this.#t.streamName, partition);
    while (!sub.stopping && !this.#nc.isClosed()) {
      let messages: ConsumerMessages | undefined;
      try {
        const consumer = await this.#js.consumers.get(this.#t.streamName, name);
        if (sub.stopping) return;
        messages = await consumer.consume({ max_messages: 1 });
        sub.iterators.add(messages);
        if (sub.stopping) messages.stop();
        this.#watchConsumer(messages, partition);
        for await (const message of messages) {
          if (sub.stopping) {
            // Not started: hand it to another subscriber straight away.
            safely(() => message.nak());
            continue;
          }
          await this.#process(sub, message);
        }
      } catch (error) {
        if (sub.stopping) return;
        this.#options.logger.warn(
          { partition, consumer: name, error: errorText(error) },
          'bus: partition consumer failed; resuming',
        );
        if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound) {
          const recreated = await ensurePartitionConsumer(this.#jsm, this.#t, partition).then(
            () => true,
            () => false,
          );
          if (recreated) continue;
        }
      } finally {
        if (messages) sub.iterators.delete(messages);
      }
      if (!sub.stopping) await pause(RESUBSCRIBE_DELAY_MS, sub.abort.signal);
    }
  }

  /**
   * A pull consumer whose durable was deleted keeps pulling in vain; end it so that the partition
   * loop recreates the durable and consumes again.
   */
  #watchConsumer(messages: ConsumerMessages, partition: number): void {
    void (async () => {
      for await (const status of messages.status()) {
        if (status.type === 'consumer_deleted' || status.type === 'consumer_not_found') {
          this.#options.logger.warn(
            { partition, status: status.type },
            'bus: partition consumer is gone; recreating it',
          );
          messages.stop();
          return;
        }
      }
    })().catch(() => {});
  }

  async #process(sub: Subscription, message: JsMsg): Promise<void> {
    const deliveryCount = message.info.deliveryCount;
    let envelope: TransactionEventEnvelope;
    try {
      envelope = decodeEnvelope(message.data);
    } catch (error) {
      await this.#deadLetter(message, null, 'malformed', error);
      return;
    }
    if (this.#acked.has(envelope.eventId)) {
      safely(() => message.ack());
      return;
    }
    if (deliveryCount > this.#options.maxDeliver) {
      const error = `delivered ${deliveryCount} times without an ack (handler crashed or exceeded ackWait)`;
      await this.#deadLetter(message, envelope, 'max_deliver_exceeded', error);
      return;
    }

    const flight: InFlight = {
      abandoned: false,
      heartbeat: setInterval(() => safely(() => message.working()), Math.max(50, this.#t.ackWaitMs / 3)),
    };
    sub.inFlight.add(flight);
    let failure: { error: unknown } | undefined;
    try {
      await sub.handler(envelope, { deliveryCount });
    } catch (error) {
      failure = { error };
    } finally {
      clearInterval(flight.heartbeat);
      sub.inFlight.delete(flight);
    }
    if (flight.abandoned) return;
    if (failure === undefined) {
      this.#acked.add(envelope.eventId);
      if (!safely(() => message.ack())) {
        this.#options.logger.warn(
          { eventId: envelope.eventId },
          'bus: ack not sent; the event will come back',
        );
      }
    } else if (deliveryCount >= this.#options.maxDeliver) {
      await this.#deadLetter(message, envelope, 'handler_failed', failure.error);
    } else {
      safely(() => message.nak(this.#options.retryBackoff(deliveryCount)));
    }
  }

  /** Copies the message to the dead-letter stream, then terminates it. Nothing is lost if the copy fails. */
  async #deadLetter(
    message: JsMsg,
    envelope: TransactionEventEnvelope | null,
    reason: DeadLetterReason,
    error: unknown,
  ): Promise<void> {
    const deliveryCount = message.info.deliveryCount;
    const details = {
      eventId: envelope?.eventId,
      transactionId: envelope?.transactionId ?? decodeSubjectToken(lastToken(message.subject)),
      subject: message.subject,
      streamSeq: message.seq,
      reason,
      deliveryCount,
      error: errorText(error),
    };
    const h: MsgHdrs = headers();
    h.set(H.reason, reason);
    h.set(H.error, headerSafe(details.error));
    h.set(H.deliveryCount, String(deliveryCount));
    h.set(H.originalSubject, message.subject);
    h.set(H.originalSeq, String(message.seq));
    try {
      await this.#js.publish(
        deadLetterSubject(this.#t.subjectPrefix, lastToken(message.subject)),
        message.data,
        {
          headers: h,
          // Retrying the copy after a lost PubAck must not store it twice.
          msgID: `${this.#t.streamName}-${message.seq}`,
          timeout: this.#publishTimeoutMs,
          expect: { streamName: this.#t.deadLetterStreamName },
        },
      );
    } catch (publishError) {
      this.#options.logger.error(
        { ...details, publishError: errorText(publishError) },
        'bus: could not store a dead letter; the event stays in the stream and will be retried',
      );
      safely(() => message.nak(this.#options.retryBackoff(deliveryCount)));
      return;
    }
    // No reason argument: nats-server 2.9 does not parse "+TERM <reason>" and treats it as no ack at
    // all, so the message would come back after ackWait. The reason is in the dead letter instead.
    safely(() => message.term());
    this.#options.logger.error(details, 'bus: event dead-lettered');
  }
}

function readDeadLetter(stored: StoredMsg): DeadLetter {
  let envelope: TransactionEventEnvelope | null = null;
  try {
    envelope = decodeEnvelope(stored.data);
  } catch {
    // malformed: kept as raw text
  }
  const reason = (stored.header?.get(H.reason) || 'handler_failed') as DeadLetterReason;
  return {
    envelope,
    transactionId: envelope?.transactionId ?? decodeSubjectToken(lastToken(stored.subject)),
    raw: rawText(stored.data),
    reason,
    error: stored.header?.get(H.error) ?? '',
    deliveryCount: Number(stored.header?.get(H.deliveryCount) ?? 0),
    deadAt: stored.time.toISOString(),
  };
}

/** Runs an ack-like call that throws once the connection is closed. Returns whether it ran. */
function safely(fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
}

function headerSafe(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, 1024);
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
