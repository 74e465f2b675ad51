/**
 * The embedded bus: everything in one process, nothing durable. Events are hashed onto
 * `partitions` serial lanes; each lane hands its oldest event to one subscriber at a time and moves
 * on only once that event is acknowledged (handler resolved) or dead-lettered. Events published
 * before anyone subscribes wait in their lane.
 *
 * Not durable: events still queued when the process stops are lost (and counted in a warning), so
 * sources must be able to replay (Horizon cursor, workers re-scanning due work).
 */
import type { TransactionEventEnvelope } from '../../machines/transaction/events.ts';
import { assertEnvelope, decodeEnvelope, encodeEnvelope } from './codec.ts';
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
import { partitionOf } from './partition.ts';

/** Options of {@link createInProcessBus}. */
export interface InProcessBusOptions extends BusOptions {
  /** Dead letters kept in memory; older ones are dropped with an error log. Default 10 000. */
  maxDeadLetters?: number;
}

interface Pending {
  envelope: TransactionEventEnvelope;
  deliveryCount: number;
}

interface Lane {
  queue: Pending[];
  draining: boolean;
}

interface Subscriber {
  handler: BusHandler;
  inFlight: Set<Promise<unknown>>;
}

const DEFAULT_MAX_DEAD_LETTERS = 10_000;

/**
 * Creates the single-process bus.
 *
 * @example
 * const bus = createInProcessBus({ partitions: 8, maxDeliver: 5 });
 * const sub = await bus.subscribe(async (envelope, { deliveryCount }) => host.apply(envelope));
 * await bus.publish({ eventId: 'e1', transactionId: 't1', event: { type: 'EXPIRE', at: '2026-01-01T00:00:00Z' } });
 * await bus.close();
 */
export function createInProcessBus(options: InProcessBusOptions = {}): EventBus {
  return new InProcessBus(options);
}

class InProcessBus implements EventBus {
  readonly #options: ResolvedBusOptions;
  readonly #maxDeadLetters: number;
  readonly #lanes: Lane[];
  readonly #seen: RecentIds;
  readonly #subscribers: Subscriber[] = [];
  readonly #deadLetters: DeadLetter[] = [];
  readonly #timers = new Map<NodeJS.Timeout, () => void>();
  #nextSubscriber = 0;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: InProcessBusOptions) {
    this.#options = resolveBusOptions(options);
    this.#maxDeadLetters = options.maxDeadLetters ?? DEFAULT_MAX_DEAD_LETTERS;
    this.#lanes = Array.from({ length: this.#options.partitions }, () => ({ queue: [], draining: false }));
    this.#seen = new RecentIds(this.#options.dedupeWindow);
  }

  async publish(envelope: TransactionEventEnvelope): Promise<void> {
    if (this.#closed) throw new Error('Cannot publish on a closed bus');
    assertEnvelope(envelope);
    if (this.#seen.has(envelope.eventId)) return;
    // A JSON round trip, so handlers see exactly what the NATS bus would deliver.
    const copy = decodeEnvelope(encodeEnvelope(envelope));
    this.#seen.add(envelope.eventId);
    const lane = this.#lanes[partitionOf(envelope.transactionId, this.#lanes.length)]!;
    lane.queue.push({ envelope: copy, deliveryCount: 0 });
    this.#kick(lane);
  }

  async subscribe(handler: BusHandler): Promise<BusSubscription> {
    if (this.#closed) throw new Error('Cannot subscribe on a closed bus');
    const subscriber: Subscriber = { handler, inFlight: new Set() };
    this.#subscribers.push(subscriber);
    for (const lane of this.#lanes) this.#kick(lane);
    let stopping: Promise<void> | undefined;
    return { stop: () => (stopping ??= this.#stop(subscriber)) };
  }

  async deadLetters(options: { limit?: number } = {}): Promise<DeadLetter[]> {
    return this.#deadLetters.slice(0, options.limit ?? 100);
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    for (const [timer, wake] of this.#timers) {
      clearTimeout(timer);
      wake();
    }
    this.#timers.clear();
    await Promise.all([...this.#subscribers].map((subscriber) => this.#stop(subscriber)));
    const lost = this.#lanes.reduce((sum, lane) => sum + lane.queue.length, 0);
    if (lost > 0) {
      this.#options.logger.warn(
        { lost },
        'bus: in-process bus closed with undelivered events; they are lost',
      );
    }
  }

  async #stop(subscriber: Subscriber): Promise<void> {
    const index = this.#subscribers.indexOf(subscriber);
    if (index >= 0) this.#subscribers.splice(index, 1);
    if (subscriber.inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...subscriber.inFlight]),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.#options.stopTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  #kick(lane: Lane): void {
    if (lane.draining || lane.queue.length === 0 || this.#subscribers.length === 0) return;
    lane.draining = true;
    this.#drain(lane)
      .catch((error: unknown) => this.#options.logger.error({ error: errorText(error) }, 'bus: lane failed'))
      .finally(() => {
        lane.draining = false;
        if (!this.#closed) this.#kick(lane);
      });
  }

  /** Delivers the lane's events one at a time until it is empty or nobody is subscribed. */
  async #drain(lane: Lane): Promise<void> {
    while (!this.#closed) {
      const pending = lane.queue[0];
      const subscriber = this.#pickSubscriber();
      if (pending === undefined || subscriber === undefined) return;
      pending.deliveryCount += 1;
      const { envelope, deliveryCount } = pending;
      const call = callHandler(subscriber.handler, envelope, deliveryCount);
      subscriber.inFlight.add(call);
      const outcome = await call;
      subscriber.inFlight.delete(call);
      if (outcome.ok) {
        lane.queue.shift();
      } else if (deliveryCount >= this.#options.maxDeliver) {
        lane.queue.shift();
        this.#deadLetter(pending, 'handler_failed', outcome.error);
      } else {
        await this.#sleep(this.#options.retryBackoff(deliveryCount));
      }
    }
  }

  #pickSubscriber(): Subscriber | undefined {
    if (this.#subscribers.length === 0) return undefined;
    this.#nextSubscriber = (this.#nextSubscriber + 1) % this.#subscribers.length;
    return this.#subscribers[this.#nextSubscriber];
  }

  #deadLetter(pending: Pending, reason: DeadLetterReason, error: unknown): void {
    const { envelope, deliveryCount } = pending;
    const letter: DeadLetter = {
      envelope,
      transactionId: envelope.transactionId,
      raw: JSON.stringify(envelope),
      reason,
      error: errorText(error),
      deliveryCount,
      deadAt: new Date().toISOString(),
    };
    this.#options.logger.error(
      {
        eventId: envelope.eventId,
        transactionId: envelope.transactionId,
        reason,
        deliveryCount,
        error: letter.error,
      },
      'bus: event dead-lettered',
    );
    this.#deadLetters.push(letter);
    if (this.#deadLetters.length > this.#maxDeadLetters) {
      const dropped = this.#deadLetters.shift()!;
      this.#options.logger.error(
        { eventId: dropped.envelope?.eventId, maxDeadLetters: this.#maxDeadLetters },
        'bus: too many dead letters kept in memory; dropped the oldest',
      );
    }
  }

  /** Waits `ms`, or less if the bus closes meanwhile. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.#closed) return resolve();
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, ms);
      this.#timers.set(timer, resolve);
    });
  }
}

type Outcome = { ok: true } | { ok: false; error: unknown };

async function callHandler(
  handler: BusHandler,
  envelope: TransactionEventEnvelope,
  deliveryCount: number,
): Promise<Outcome> {
  try {
    await handler(envelope, { deliveryCount });
    return { ok: true };
  } catch (error) {
    return { ok: false, error };
  }
}
