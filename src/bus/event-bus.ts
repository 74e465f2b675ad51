/**
 * The bus contract: how messages travel from their producers (HTTP commands, payment sources, workers,
 * effect results, operator actions) to the actor hosts. Two implementations keep it: the in-process bus
 * (the single-process default) and NATS JetStream (durable, shared by several processes). The same
 * contract tests run against both (`test/integration/bus/bus-contract.test.ts`).
 *
 * The bus is a partitioned log. Every message is addressed to one actor (`to`); the address decides its
 * partition, so one actor's messages stay in publish order. An actor host owns partitions (one owner at a
 * time, see `src/actors/ownership.ts`), reads each from a position it stores with what it applied, and
 * settles what it has committed. Nothing is acknowledged one by one: positions are the acknowledgement,
 * and they are committed in the same database transaction as the effect of the messages before them.
 */
import type { Observable } from 'rxjs';

/** A message for one actor. */
export interface BusMessage {
  /**
   * Unique per message: a second publish of the same id is dropped within the bus's window (NATS: the
   * stream's duplicate window; in-process: the last `dedupeWindow` ids), and the actor host ignores an
   * id it has already applied, forever.
   */
  readonly id: string;
  /** The actor it is for, e.g. `transaction:<uuid>`: messages of one actor are read in publish order. */
  readonly to: string;
  /** JSON; the actor host checks its shape. */
  readonly body: unknown;
}

/** A message as a partition reader hands it over. */
export interface Delivery {
  readonly message: BusMessage;
  readonly partition: number;
  /** Increases within a partition; what `read(partition, after)` and `settle` take. */
  readonly position: number;
  /** Where the publisher waits for the answer (`request`), or null. */
  readonly replyTo: string | null;
  /** When the bus took the message (ms since the epoch), for its lag; unset if unknown. */
  readonly publishedAt?: number;
  /** Set when the stored bytes are not a message: the host records it and moves past it. */
  readonly malformed?: string;
}

/** Reads one partition, in order, from a position on. */
export interface PartitionReader {
  /**
   * Resolves with the next messages, at most `max`, as soon as at least one is there (waiting as long as
   * it takes), or with `[]` once `signal` aborts or the reader is closed.
   */
  next(max: number, signal?: AbortSignal): Promise<Delivery[]>;
  /** Stops reading. Idempotent. */
  close(): Promise<void>;
}

export interface RequestOptions {
  /** How long to wait for the answer. Default {@link DEFAULT_REQUEST_TIMEOUT_MS}. */
  timeoutMs?: number;
}

/**
 * One bus contract, two implementations ({@link createInProcessBus}, {@link createNatsBus}).
 *
 * - **Partitions.** `partitionOf(message.to, partitions)` places a message; messages of one partition are
 *   read in publish order (per publisher), so one actor's messages are too.
 * - **Durability.** `publish` resolves once the message cannot be lost: stored in JetStream (NATS), or,
 *   since nothing in-process survives a crash, once an actor host has applied and settled it.
 * - **De-duplication.** A message id published twice is stored once within the bus's window; beyond it
 *   the actor host's record of applied ids decides.
 * - **Requests.** `request` publishes like `publish` and resolves with what the actor host answered
 *   (`reply`) after committing; it rejects with {@link BusTimeoutError} when no answer came in time. The
 *   message may still be applied later: a command sent by request carries its own deadline when that
 *   matters (see `src/actors/messages.ts`). The bus never drops a request as a duplicate (someone waits
 *   for its answer): a repeated id reaches the actor host, which answers it as a duplicate.
 * - **Signals.** Best-effort, non-durable notices between processes (e.g. "the outbox has new rows"): a
 *   missed signal only delays work until the next poll.
 *
 * @example
 * const bus = await createBus({ natsUrl: process.env.NATS_URL, prefix: 'mooring' });
 * await bus.publish({ id: operationId, to: `transaction:${id}`, body: { type: 'event', event } });
 * const reader = bus.read(3, storedPosition);
 * const batch = await reader.next(500);
 * // ... apply and commit the batch with its last position, then:
 * bus.settle(3, batch.at(-1)!.position);
 */
export interface EventBus {
  readonly kind: 'in-process' | 'nats';
  /** Number of partitions; every process sharing a NATS stream must use the same value. */
  readonly partitions: number;
  /** What positions refer to: the JetStream stream name, or `in-process`. */
  readonly stream: string;
  /** Whether positions survive a restart (NATS). In-process positions start again at 1. */
  readonly durable: boolean;
  /**
   * Changes when the stream is created anew (NATS: its creation time; in-process: each instance), since
   * positions then start again at 1: a position stored under another epoch means nothing.
   */
  readonly epoch: string;
  publish(message: BusMessage): Promise<void>;
  /** Publishes in order, concurrently; resolves once every message is durable (see `publish`). */
  publishMany(messages: readonly BusMessage[]): Promise<void>;
  /** Publishes and waits for the actor host's answer. */
  request(message: BusMessage, options?: RequestOptions): Promise<unknown>;
  /** Reads `partition` from the first position after `after` (0: from the start). */
  read(partition: number, after: number): PartitionReader;
  /** Everything of `partition` up to `upTo` is applied and committed: the bus may forget it. */
  settle(partition: number, upTo: number): void;
  /** Answers a request (a delivery's `replyTo`). Best effort: the requester may be gone. */
  reply(replyTo: string, answer: unknown): void;
  /** Sends a best-effort notice on `topic` to every process of this bus. */
  signal(topic: string): void;
  /** Notices on `topic`, from this process and others. */
  signals(topic: string): Observable<void>;
  /** Resolves when the bus is usable (for `/ready`), rejects otherwise. */
  ready(): Promise<void>;
  /** Stops readers and releases the bus. Publishes still waiting reject with {@link BusClosedError}. Idempotent. */
  close(): Promise<void>;
}

/** The logger the bus writes to; a pino or Fastify logger fits. */
export interface BusLogger {
  info?(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** Options shared by both implementations. */
export interface BusOptions {
  /** Number of partitions. Default {@link DEFAULT_PARTITIONS}. */
  partitions?: number;
  /** How many recent message ids the in-process bus remembers. Default {@link DEFAULT_DEDUPE_WINDOW}. */
  dedupeWindow?: number;
  /** Default timeout of `request`. Default {@link DEFAULT_REQUEST_TIMEOUT_MS}. */
  requestTimeoutMs?: number;
  /** Where trouble is reported. Default: `console`. */
  logger?: BusLogger;
}

export const DEFAULT_PARTITIONS = 16;
export const DEFAULT_DEDUPE_WINDOW = 100_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 10 * 1000;

/** The answer to a request did not come in time. The message may still be applied later. */
export class BusTimeoutError extends Error {
  constructor(timeoutMs: number, options?: ErrorOptions) {
    super(`no answer from the actor host within ${timeoutMs} ms`, options);
    this.name = 'BusTimeoutError';
  }
}

/** The bus could not take the message (NATS unreachable, no stream). Nothing was stored. */
export class BusUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BusUnavailableError';
  }
}

/** The bus was closed before the message was settled. */
export class BusClosedError extends Error {
  constructor() {
    super('the bus is closed');
    this.name = 'BusClosedError';
  }
}

/** {@link BusOptions} with every default filled in and checked. */
export type ResolvedBusOptions = Required<BusOptions>;

/** Fills in defaults and rejects nonsense up front. */
export function resolveBusOptions(options: BusOptions = {}): ResolvedBusOptions {
  const resolved: ResolvedBusOptions = {
    partitions: options.partitions ?? DEFAULT_PARTITIONS,
    dedupeWindow: options.dedupeWindow ?? DEFAULT_DEDUPE_WINDOW,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    logger: options.logger ?? consoleLogger,
  };
  for (const key of ['partitions', 'dedupeWindow'] as const) {
    const value = resolved[key];
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`Bus option ${key} must be a positive integer, got ${value}`);
    }
  }
  if (!(resolved.requestTimeoutMs > 0)) {
    throw new RangeError(`Bus option requestTimeoutMs must be positive, got ${resolved.requestTimeoutMs}`);
  }
  return resolved;
}

const consoleLogger: BusLogger = {
  warn: (details, message) => console.warn(message, details),
  error: (details, message) => console.error(message, details),
};

/** A logger that drops everything (tests). */
export const silentLogger: BusLogger = { warn: () => {}, error: () => {} };

/** `error` as text, for logs. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
