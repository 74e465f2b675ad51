/**
 * The NATS JetStream bus: durable, de-duplicated, partitioned, and shared by any number of processes.
 *
 * - One stream, `<prefix>_events`, subjects `<prefix>.in.<partition>.<actor>`, file storage, limits
 *   retention, `duplicate_window` for `Nats-Msg-Id` (= message id) de-duplication. See `subjects.ts`.
 * - A partition is read by an ordered consumer (ephemeral, flow-controlled, resumed by the client after a
 *   reconnect) from the position the owner stored with its last commit. No per-message acks: a crash
 *   re-reads from the stored position, in order, and the owner's record of applied ids drops the repeats.
 * - Settled positions are purged from the stream every `purgeIntervalMs`, so it holds only what is not
 *   applied yet (and the last few seconds).
 * - Requests carry a `Mooring-Reply-To` header; the owner answers on core NATS after its commit.
 */
import { randomBytes } from 'node:crypto';
import {
  connect,
  headers,
  nanos,
  type NatsConnection,
  type NodeConnectionOptions,
  type Subscription,
} from '@nats-io/transport-node';
import {
  DeliverPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StreamConfig,
} from '@nats-io/jetstream';
import { Observable } from 'rxjs';
import { assertMessage, decodeJson, decodeMessage, encodeJson, encodeMessage, rawText } from './codec.ts';
import {
  BusClosedError,
  BusTimeoutError,
  BusUnavailableError,
  errorText,
  resolveBusOptions,
  type BusMessage,
  type BusOptions,
  type Delivery,
  type EventBus,
  type PartitionReader,
  type RequestOptions,
  type ResolvedBusOptions,
} from './event-bus.ts';
import { partitionOf } from './partition.ts';
import {
  assertPrefix,
  assertTopic,
  decodeSubjectToken,
  lastToken,
  messageSubject,
  messagesFilter,
  partitionFilter,
  repliesFilter,
  replySubject,
  signalSubject,
  streamName,
} from './subjects.ts';

/** Options of {@link createNatsBus}. */
export interface NatsBusOptions extends BusOptions {
  /** Server URL(s), e.g. `nats://127.0.0.1:4222`. Required unless `connection` is given. */
  url?: string | string[];
  /** Use this connection instead of opening one; {@link EventBus.close} then leaves it open. */
  connection?: NatsConnection;
  /** The deployment's namespace: stream `<prefix>_events`, subjects `<prefix>.…`. Default `mooring`. */
  prefix?: string;
  /** JetStream de-duplication window for `Nats-Msg-Id` (= message id). Default 2 min. */
  duplicateWindowMs?: number;
  /** How long `publish` waits for the PubAck. Default 5 s. */
  publishTimeoutMs?: number;
  /** How often settled messages are purged from the stream. Default 5 s. */
  purgeIntervalMs?: number;
  /** Messages a reader buffers ahead of its owner. Default 1000. */
  readAhead?: number;
  /** Connection name shown by the server. Default `mooring-bus`. */
  name?: string;
  /** Pause between reconnect attempts (the client retries forever). Default 2 s. */
  reconnectTimeWaitMs?: number;
}

export const DEFAULT_PREFIX = 'mooring';
export const DEFAULT_DUPLICATE_WINDOW_MS = 2 * 60 * 1000;
export const DEFAULT_PUBLISH_TIMEOUT_MS = 5 * 1000;
export const DEFAULT_PURGE_INTERVAL_MS = 5 * 1000;
export const DEFAULT_READ_AHEAD = 1000;
export const DEFAULT_RECONNECT_TIME_WAIT_MS = 2 * 1000;
const REPLY_HEADER = 'Mooring-Reply-To';
/**
 * Heartbeat of a reader's pulls. After a server restart the client recreates the ordered consumer but
 * re-pulls only what it believes is still owed by the pull the server forgot (nats.js 3.4), so the
 * reader stalls until two heartbeats are missed (30 s each by default): a short one keeps that short.
 */
const READER_IDLE_HEARTBEAT_MS = 2 * 1000;

/**
 * Connects, creates or updates the stream, and returns the bus.
 *
 * @example
 * const bus = await createNatsBus({ url: 'nats://127.0.0.1:4222', prefix: 'mooring', partitions: 16 });
 */
export async function createNatsBus(options: NatsBusOptions): Promise<EventBus> {
  const resolved = resolveBusOptions(options);
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  assertPrefix(prefix);
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
    await ensureStream(jsm, {
      name: streamName(prefix),
      subjects: [messagesFilter(prefix)],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      duplicate_window: nanos(options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS),
    });
    const { created } = await jsm.streams.info(streamName(prefix));
    return new NatsBus(connection, ownsConnection, jsm, prefix, created, resolved, {
      publishTimeoutMs: options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS,
      purgeIntervalMs: options.purgeIntervalMs ?? DEFAULT_PURGE_INTERVAL_MS,
      readAhead: options.readAhead ?? DEFAULT_READ_AHEAD,
    });
  } catch (error) {
    if (ownsConnection) await connection.close();
    throw error;
  }
}

/** JetStream error code: "stream name already in use with a different configuration". */
const STREAM_NAME_IN_USE = 10058;

/** Creates the stream, or updates its configuration when it exists. */
export async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }) {
  try {
    await jsm.streams.add(config);
  } catch (error) {
    if (!(error instanceof JetStreamApiError && error.code === STREAM_NAME_IN_USE)) throw error;
    await jsm.streams.update(config.name, config);
  }
}

interface Extra {
  publishTimeoutMs: number;
  purgeIntervalMs: number;
  readAhead: number;
}

class NatsBus implements EventBus {
  readonly kind = 'nats';
  readonly durable = true;
  readonly partitions: number;
  readonly stream: string;
  readonly epoch: string;
  readonly #nc: NatsConnection;
  readonly #ownsConnection: boolean;
  readonly #jsm: JetStreamManager;
  readonly #js: JetStreamClient;
  readonly #prefix: string;
  readonly #options: ResolvedBusOptions;
  readonly #extra: Extra;
  readonly #instance = randomBytes(8).toString('hex');
  readonly #requests = new Map<number, (answer: unknown) => void>();
  readonly #replies: Subscription;
  readonly #readers = new Set<PartitionReader>();
  /** Per partition: settled position, and what was purged already. */
  readonly #settled: number[];
  readonly #purged: number[];
  readonly #purgeTimer: NodeJS.Timeout;
  #nextRequest = 0;
  #closing: Promise<void> | undefined;
  /** A purge failed and was reported: quiet until one works again (NATS away for minutes is one line). */
  #purgeFailing = false;

  constructor(
    nc: NatsConnection,
    ownsConnection: boolean,
    jsm: JetStreamManager,
    prefix: string,
    epoch: string,
    options: ResolvedBusOptions,
    extra: Extra,
  ) {
    this.epoch = epoch;
    this.#nc = nc;
    this.#ownsConnection = ownsConnection;
    this.#jsm = jsm;
    this.#js = jetstream(nc);
    this.#prefix = prefix;
    this.#options = options;
    this.#extra = extra;
    this.partitions = options.partitions;
    this.stream = streamName(prefix);
    this.#settled = new Array<number>(this.partitions).fill(0);
    this.#purged = new Array<number>(this.partitions).fill(0);
    this.#replies = nc.subscribe(repliesFilter(prefix, this.#instance), {
      callback: (error, msg) => {
        if (error) return;
        const n = Number(lastToken(msg.subject));
        try {
          this.#requests.get(n)?.(decodeJson(msg.data));
        } catch (decodeError) {
          this.#options.logger.warn({ error: errorText(decodeError) }, 'bus: malformed answer dropped');
        }
      },
    });
    this.#purgeTimer = setInterval(() => void this.#purge(), extra.purgeIntervalMs);
    this.#purgeTimer.unref();
    void this.#reportConnection();
  }

  /** One line when the server goes away, one when the client is back (it retries for ever meanwhile). */
  async #reportConnection(): Promise<void> {
    for await (const status of this.#nc.status()) {
      if (status.type === 'disconnect') {
        this.#options.logger.warn({ server: status.server }, 'bus: NATS connection lost; reconnecting');
      } else if (status.type === 'reconnect') {
        this.#options.logger.info?.({ server: status.server }, 'bus: NATS connection back');
      }
    }
  }

  async publish(message: BusMessage): Promise<void> {
    await this.#publish(message, null);
  }

  async publishMany(messages: readonly BusMessage[]): Promise<void> {
    // Sent back to back on one connection, so the stream stores them in this order.
    await Promise.all(messages.map((message) => this.#publish(message, null)));
  }

  request(message: BusMessage, options: RequestOptions = {}): Promise<unknown> {
    const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs;
    const n = ++this.#nextRequest;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#requests.delete(n);
        reject(new BusTimeoutError(timeoutMs));
      }, timeoutMs);
      this.#requests.set(n, (answer) => {
        clearTimeout(timer);
        this.#requests.delete(n);
        resolve(answer);
      });
      this.#publish(message, replySubject(this.#prefix, this.#instance, n)).catch((error: unknown) => {
        clearTimeout(timer);
        this.#requests.delete(n);
        reject(error);
      });
    });
  }

  read(partition: number, after: number): PartitionReader {
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.partitions) {
      throw new RangeError(`no partition ${partition} (the bus has ${this.partitions})`);
    }
    const reader = new NatsPartitionReader(this.#js, this.stream, this.#prefix, partition, after, {
      readAhead: this.#extra.readAhead,
      logger: this.#options.logger,
      onClose: () => this.#readers.delete(reader),
    });
    this.#readers.add(reader);
    return reader;
  }

  settle(partition: number, upTo: number): void {
    if (upTo > (this.#settled[partition] ?? 0)) this.#settled[partition] = upTo;
  }

  reply(replyTo: string, answer: unknown): void {
    if (this.#nc.isClosed()) return;
    try {
      this.#nc.publish(replyTo, encodeJson(answer));
    } catch (error) {
      this.#options.logger.warn({ error: errorText(error) }, 'bus: could not send an answer');
    }
  }

  signal(topic: string): void {
    assertTopic(topic);
    if (this.#nc.isClosed()) return;
    try {
      this.#nc.publish(signalSubject(this.#prefix, topic));
    } catch {
      // Best effort: pollers pick the work up on their next pass.
    }
  }

  signals(topic: string): Observable<void> {
    assertTopic(topic);
    return new Observable<void>((subscriber) => {
      const subscription = this.#nc.subscribe(signalSubject(this.#prefix, topic), {
        callback: () => subscriber.next(),
      });
      return () => subscription.unsubscribe();
    });
  }

  async ready(): Promise<void> {
    // A bus on a connection it was given leaves that connection open at close: ask the bus, not only it.
    if (this.#closing !== undefined || this.#nc.isClosed()) throw new BusClosedError();
    await this.#nc.rtt();
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    clearInterval(this.#purgeTimer);
    await Promise.all([...this.#readers].map((reader) => reader.close()));
    await this.#purge();
    this.#replies.unsubscribe();
    if (!this.#ownsConnection || this.#nc.isClosed()) return;
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), 5_000);
    });
    const drained = this.#nc.drain().catch((error: unknown) => error);
    const result = await Promise.race([drained, gaveUp]);
    clearTimeout(timer);
    if (result !== undefined) await this.#nc.close();
  }

  async #publish(message: BusMessage, replyTo: string | null): Promise<void> {
    if (this.#closing) throw new BusClosedError();
    assertMessage(message);
    const data = encodeMessage(message);
    const partition = partitionOf(message.to, this.partitions);
    let h;
    if (replyTo !== null) {
      h = headers();
      h.set(REPLY_HEADER, replyTo);
    }
    try {
      await this.#js.publish(messageSubject(this.#prefix, partition, message.to), data, {
        // A request is never dropped: its answer is awaited, and the host answers a repeat as a duplicate.
        msgID: replyTo === null ? message.id : `${message.id} ${replyTo}`,
        timeout: this.#extra.publishTimeoutMs,
        expect: { streamName: this.stream },
        ...(h !== undefined && { headers: h }),
      });
    } catch (error) {
      throw new BusUnavailableError(`NATS did not store the message: ${errorText(error)}`, { cause: error });
    }
  }

  /** Drops settled messages from the stream, partition by partition. */
  async #purge(): Promise<void> {
    for (let p = 0; p < this.partitions; p++) {
      const upTo = this.#settled[p]!;
      if (upTo <= this.#purged[p]!) continue;
      try {
        await this.#jsm.streams.purge(this.stream, {
          filter: partitionFilter(this.#prefix, p),
          seq: upTo + 1,
        });
        this.#purged[p] = upTo;
        this.#purgeFailing = false;
      } catch (error) {
        // Harmless: purged on a later pass; a stream that keeps applied messages only costs space.
        if (!this.#purgeFailing) {
          this.#options.logger.warn({ partition: p, error: errorText(error) }, 'bus: purge failed; retrying');
        }
        this.#purgeFailing = true;
        return;
      }
    }
  }
}

interface ReaderOptions {
  readAhead: number;
  logger: ResolvedBusOptions['logger'];
  onClose: () => void;
}

/** An ordered consumer on one partition, buffered so the owner can take what has arrived in one go. */
class NatsPartitionReader implements PartitionReader {
  readonly #buffer: Delivery[] = [];
  readonly #waiting = new Set<() => void>();
  readonly #options: ReaderOptions;
  readonly #partition: number;
  #messages: ConsumerMessages | undefined;
  #room: (() => void) | undefined;
  #closed = false;
  /** The reader failed and said so: quiet until it reads again (NATS away for minutes is two lines). */
  #failing = false;
  readonly #pump: Promise<void>;

  constructor(
    js: JetStreamClient,
    stream: string,
    prefix: string,
    partition: number,
    after: number,
    options: ReaderOptions,
  ) {
    this.#options = options;
    this.#partition = partition;
    this.#pump = this.#run(js, stream, prefix, after);
  }

  async next(max: number, signal?: AbortSignal): Promise<Delivery[]> {
    for (;;) {
      if (this.#closed || signal?.aborted) return [];
      if (this.#buffer.length > 0) {
        const taken = this.#buffer.splice(0, max);
        this.#room?.();
        return taken;
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiting.delete(wake);
          signal?.removeEventListener('abort', wake);
          resolve();
        };
        this.#waiting.add(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#messages?.stop();
    this.#room?.();
    for (const wake of [...this.#waiting]) wake();
    // A pump still waiting for an unreachable server must not hold a shutdown: it ends on its own.
    await Promise.race([this.#pump, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
    this.#options.onClose();
  }

  async #run(js: JetStreamClient, stream: string, prefix: string, after: number): Promise<void> {
    let position = after;
    while (!this.#closed) {
      try {
        const consumer = await js.consumers.get(stream, {
          filter_subjects: partitionFilter(prefix, this.#partition),
          ...(position > 0
            ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: position + 1 }
            : { deliver_policy: DeliverPolicy.All }),
        });
        if (this.#closed) return;
        this.#messages = await consumer.consume({
          max_messages: Math.min(this.#options.readAhead, 1000),
          idle_heartbeat: READER_IDLE_HEARTBEAT_MS,
        });
        if (this.#closed) this.#messages.stop();
        for await (const message of this.#messages) {
          if (this.#failing) {
            this.#failing = false;
            this.#options.logger.info?.({ partition: this.#partition }, 'bus: partition reader resumed');
          }
          if (message.seq <= position) continue;
          position = message.seq;
          this.#buffer.push(this.#delivery(message));
          for (const wake of [...this.#waiting]) wake();
          if (this.#buffer.length >= this.#options.readAhead) {
            await new Promise<void>((resolve) => {
              this.#room = () => {
                this.#room = undefined;
                resolve();
              };
            });
          }
          if (this.#closed) break;
        }
      } catch (error) {
        if (this.#closed) return;
        if (!this.#failing) {
          this.#options.logger.warn(
            { partition: this.#partition, error: errorText(error) },
            'bus: partition reader failed; resuming',
          );
        }
        this.#failing = true;
      }
      if (!this.#closed) await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  #delivery(message: JsMsg): Delivery {
    const replyTo = message.headers?.get(REPLY_HEADER) || null;
    try {
      return {
        message: decodeMessage(message.data),
        partition: this.#partition,
        position: message.seq,
        replyTo,
        publishedAt: Number(message.info.timestampNanos) / 1e6,
      };
    } catch (error) {
      const to = decodeSubjectToken(lastToken(message.subject));
      return {
        message: { id: `malformed:${message.seq}`, to, body: rawText(message.data) },
        partition: this.#partition,
        position: message.seq,
        replyTo,
        malformed: errorText(error),
      };
    }
  }
}
