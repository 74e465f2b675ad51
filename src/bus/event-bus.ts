/**
 * The bus contract: how transaction events travel from their sources (HTTP commands, Horizon
 * matches, workers) to the actor host. Two implementations keep it: the in-process bus (the
 * single-process default) and NATS JetStream (durable, shared by several processes). The same
 * contract tests run against both (`test/integration/bus/bus-contract.test.ts`).
 */
import type { TransactionEventEnvelope } from '../../machines/transaction/events.ts';

/** What the bus tells a handler about the delivery it is making. */
export interface DeliveryMeta {
  /** 1 on the first delivery of an event, then 2, 3… on each redelivery (after a throw, a timeout or a crash). */
  deliveryCount: number;
}

/**
 * Applies one event. Resolving acknowledges the event, so resolve only after the caller's database
 * transaction has committed. Throwing asks for a redelivery later, with backoff.
 */
export type BusHandler = (envelope: TransactionEventEnvelope, meta: DeliveryMeta) => Promise<void>;

/** Why an event was dead-lettered. */
export type DeadLetterReason =
  /** The handler threw on the last allowed delivery (`maxDeliver`). */
  | 'handler_failed'
  /**
   * The event came back more than `maxDeliver` times without an ack or nak: handlers that crashed
   * or overran `ackWaitMs` (NATS only), or an earlier attempt to store its dead letter failed.
   */
  | 'max_deliver_exceeded'
  /** The message could not be decoded into a {@link TransactionEventEnvelope}. */
  | 'malformed';

/** An event the bus gave up on. It is logged and kept, never silently dropped. */
export interface DeadLetter {
  /** The decoded event, or `null` when the message was malformed. */
  envelope: TransactionEventEnvelope | null;
  /** The transaction the event was addressed to, when known. */
  transactionId: string | null;
  /** The original payload as UTF-8 text (what to inspect when `envelope` is `null`). */
  raw: string;
  reason: DeadLetterReason;
  /** The last error, as text. */
  error: string;
  /** The delivery on which the bus gave up. */
  deliveryCount: number;
  /** ISO-8601 time of dead-lettering. */
  deadAt: string;
}

/** Returned by {@link EventBus.subscribe}. */
export interface BusSubscription {
  /**
   * Stops taking new events and waits, at most `stopTimeoutMs`, for the handler calls in flight to
   * settle; they are then acknowledged or retried as usual. Idempotent.
   *
   * A call still running after the timeout is left behind. The NATS bus ignores its outcome and the
   * event is redelivered once `ackWaitMs` has passed without an ack (as after a crash), so the
   * redelivery starts at least two thirds of `ackWaitMs` after the straggler's last sign of life. The
   * in-process bus keeps the lane waiting for the straggler and uses its outcome.
   */
  stop(): Promise<void>;
}

/**
 * One bus contract, two implementations ({@link createInProcessBus}, {@link createNatsBus}).
 *
 * Delivery is **at least once**; the handler must be idempotent by `eventId` (the actor host records
 * applied event ids). Within that:
 * - **De-duplication.** Publishing the same `eventId` twice delivers it once, within a bounded window
 *   (the in-process bus remembers the last `dedupeWindow` ids; NATS uses the stream's 2-minute
 *   `duplicate_window` plus each process's memory of the last `dedupeWindow` ids it acknowledged).
 * - **Order.** Events of one `transactionId` reach handlers one at a time, in publish order, across
 *   all subscriptions (and, for NATS, all processes). Transactions are hashed onto `partitions`
 *   serial lanes ({@link partitionOf}); different lanes run in parallel.
 * - **Retries.** A handler that throws gets the event again after `retryBackoff(deliveryCount)` ms.
 *   While an event waits for its retry its lane waits too (that is what keeps the order), so other
 *   transactions hashed onto the same lane are delayed, never reordered; other lanes carry on.
 * - **Dead letters.** After `maxDeliver` failed deliveries the event is dead-lettered: logged at error
 *   level, kept (see {@link EventBus.deadLetters}), and its lane moves on.
 * - **Competing subscribers.** Several subscriptions (in NATS: several processes) share the work;
 *   each event goes to one of them.
 *
 * @example
 * const bus = await createBus({ natsUrl: process.env.NATS_URL });
 * await bus.subscribe(async (envelope) => {
 *   await host.apply(envelope); // commits, and ignores an eventId it has already applied
 * });
 * await bus.publish({ eventId, transactionId, event: { type: 'EXPIRE', at: now } });
 */
export interface EventBus {
  /**
   * Resolves once the bus holds the event: enqueued (in-process) or durably stored (NATS: JetStream
   * PubAck). Publishing an `eventId` that was already published is a no-op that also resolves.
   */
  publish(envelope: TransactionEventEnvelope): Promise<void>;
  /**
   * Starts delivering events to `handler`. Events published before the first subscription are
   * kept and delivered once someone subscribes.
   */
  subscribe(handler: BusHandler): Promise<BusSubscription>;
  /** The dead letters kept so far, oldest first (at most `limit`, default 100). */
  deadLetters(options?: { limit?: number }): Promise<DeadLetter[]>;
  /** Stops every subscription (see {@link BusSubscription.stop}) and releases the bus. Idempotent. */
  close(): Promise<void>;
}

/** The logger the bus writes to; a pino or Fastify logger fits. */
export interface BusLogger {
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** Milliseconds to wait before delivery number `deliveryCount + 1`, after delivery `deliveryCount` failed. */
export type RetryBackoff = (deliveryCount: number) => number;

/** Options shared by both implementations. */
export interface BusOptions {
  /**
   * Number of serial lanes transactions are hashed onto. Every process sharing a NATS stream must use
   * the same value; change it only on a drained bus. Default {@link DEFAULT_PARTITIONS}.
   */
  partitions?: number;
  /** Deliveries before an event is dead-lettered (the first delivery counts). Default {@link DEFAULT_MAX_DELIVER}. */
  maxDeliver?: number;
  /** Delay before a redelivery. Default `exponentialBackoff()` (0.5 s, doubling, at most 30 s). */
  retryBackoff?: RetryBackoff;
  /** How many recent event ids are remembered for de-duplication. Default {@link DEFAULT_DEDUPE_WINDOW}. */
  dedupeWindow?: number;
  /** How long {@link BusSubscription.stop} waits for handler calls in flight. Default {@link DEFAULT_STOP_TIMEOUT_MS}. */
  stopTimeoutMs?: number;
  /** Where dead letters and trouble are reported. Default: `console`. */
  logger?: BusLogger;
}

export const DEFAULT_PARTITIONS = 16;
export const DEFAULT_MAX_DELIVER = 5;
export const DEFAULT_DEDUPE_WINDOW = 100_000;
export const DEFAULT_STOP_TIMEOUT_MS = 30 * 1000;
export const DEFAULT_BACKOFF_INITIAL_MS = 500;
export const DEFAULT_BACKOFF_MAX_MS = 30 * 1000;

/**
 * Doubling delays: `initialMs`, `2 × initialMs`, … capped at `maxMs`.
 *
 * @example
 * exponentialBackoff({ initialMs: 100, maxMs: 1000 })(3); // 400
 */
export function exponentialBackoff(options: { initialMs?: number; maxMs?: number } = {}): RetryBackoff {
  const initialMs = options.initialMs ?? DEFAULT_BACKOFF_INITIAL_MS;
  const maxMs = options.maxMs ?? DEFAULT_BACKOFF_MAX_MS;
  return (deliveryCount) => Math.min(maxMs, initialMs * 2 ** Math.max(0, deliveryCount - 1));
}

/** {@link BusOptions} with every default filled in and checked. */
export type ResolvedBusOptions = Required<BusOptions>;

/** Fills in defaults and rejects nonsense up front. */
export function resolveBusOptions(options: BusOptions = {}): ResolvedBusOptions {
  const resolved: ResolvedBusOptions = {
    partitions: options.partitions ?? DEFAULT_PARTITIONS,
    maxDeliver: options.maxDeliver ?? DEFAULT_MAX_DELIVER,
    retryBackoff: options.retryBackoff ?? exponentialBackoff(),
    dedupeWindow: options.dedupeWindow ?? DEFAULT_DEDUPE_WINDOW,
    stopTimeoutMs: options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS,
    logger: options.logger ?? consoleLogger,
  };
  for (const key of ['partitions', 'maxDeliver', 'dedupeWindow'] as const) {
    const value = resolved[key];
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`Bus option ${key} must be a positive integer, got ${value}`);
    }
  }
  if (!(resolved.stopTimeoutMs >= 0)) {
    throw new RangeError(`Bus option stopTimeoutMs must be >= 0, got ${resolved.stopTimeoutMs}`);
  }
  return resolved;
}

const consoleLogger: BusLogger = {
  warn: (details, message) => console.warn(message, details),
  error: (details, message) => console.error(message, details),
};

/** A logger that drops everything (tests). */
export const silentLogger: BusLogger = { warn: () => {}, error: () => {} };

/** `error` as text, for logs and dead letters. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
