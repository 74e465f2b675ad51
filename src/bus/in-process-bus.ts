/**
 * The embedded bus: everything in one process, nothing durable. Each partition is an in-memory log of
 * the messages not yet settled; a reader takes them in order from a position on, and `settle` drops them
 * and resolves their publishers. Since nothing survives a crash, a publish resolves only once an actor
 * host has applied and settled the message: a payment source that moves its cursor after `publish`
 * never moves it past a payment that was not committed.
 */
import { Subject, filter, map, type Observable } from 'rxjs';
import { decodeJson, decodeMessage, encodeJson, encodeMessage } from './codec.ts';
import { RecentIds } from './dedupe.ts';
import {
  BusClosedError,
  BusTimeoutError,
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
import { assertTopic } from './subjects.ts';

export type InProcessBusOptions = BusOptions;

/** Buses created by this process so far. */
let instances = 0;

interface Entry {
  delivery: Delivery;
  settled: () => void;
  failed: (error: Error) => void;
}

interface Partition {
  /** Unsettled messages, ascending by position. */
  log: Entry[];
  last: number;
  /** Readers waiting for a message. */
  waiting: Set<() => void>;
}

/**
 * Creates the single-process bus.
 *
 * @example
 * const bus = createInProcessBus({ partitions: 8 });
 * const reader = bus.read(0, 0);
 * void bus.publish({ id: 'm1', to: 'transaction:t1', body: {} }); // resolves once settled
 * const [delivery] = await reader.next(10);
 * bus.settle(0, delivery.position);
 */
export function createInProcessBus(options: InProcessBusOptions = {}): EventBus {
  return new InProcessBus(options);
}

class InProcessBus implements EventBus {
  readonly kind = 'in-process';
  readonly stream = 'in-process';
  readonly durable = false;
  // The counter tells apart instances created within the same millisecond (positions restart with each).
  readonly epoch = `in-process-${process.pid}-${Date.now()}-${++instances}`;
  readonly partitions: number;
  readonly #options: ResolvedBusOptions;
  readonly #log: Partition[];
  readonly #seen: RecentIds;
  readonly #requests = new Map<string, (answer: unknown) => void>();
  readonly #signals = new Subject<string>();
  #nextRequest = 0;
  #closed = false;

  constructor(options: InProcessBusOptions) {
    this.#options = resolveBusOptions(options);
    this.partitions = this.#options.partitions;
    this.#log = Array.from({ length: this.partitions }, () => ({ log: [], last: 0, waiting: new Set() }));
    this.#seen = new RecentIds(this.#options.dedupeWindow);
  }

  publish(message: BusMessage): Promise<void> {
    return this.#append(message, null);
  }

  async publishMany(messages: readonly BusMessage[]): Promise<void> {
    await Promise.all(messages.map((message) => this.#append(message, null)));
  }

  request(message: BusMessage, options: RequestOptions = {}): Promise<unknown> {
    const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs;
    const replyTo = `in-process-reply-${++this.#nextRequest}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#requests.delete(replyTo);
        reject(new BusTimeoutError(timeoutMs));
      }, timeoutMs);
      this.#requests.set(replyTo, (answer) => {
        clearTimeout(timer);
        this.#requests.delete(replyTo);
        resolve(answer);
      });
      this.#append(message, replyTo).catch((error: unknown) => {
        if (!this.#requests.has(replyTo)) return;
        clearTimeout(timer);
        this.#requests.delete(replyTo);
        reject(error);
      });
    });
  }

  read(partition: number, after: number): PartitionReader {
    const log = this.#partition(partition);
    let position = after;
    let closed = false;
    const wakeUps = new Set<() => void>();
    return {
      next: async (max, signal) => {
        for (;;) {
          if (closed || this.#closed || signal?.aborted) return [];
          // Positions in the log are consecutive, so the first unread one is found by arithmetic.
          const first = log.log[0]?.delivery.position ?? position + 1;
          const start = Math.max(0, position + 1 - first);
          const ready = log.log.slice(start, start + max);
          if (ready.length > 0) {
            position = ready.at(-1)!.delivery.position;
            return ready.map((entry) => entry.delivery);
          }
          await new Promise<void>((resolve) => {
            const wake = () => {
              log.waiting.delete(wake);
              wakeUps.delete(wake);
              signal?.removeEventListener('abort', wake);
              resolve();
            };
            log.waiting.add(wake);
            wakeUps.add(wake);
            signal?.addEventListener('abort', wake, { once: true });
          });
        }
      },
      close: async () => {
        closed = true;
        for (const wake of [...wakeUps]) wake();
      },
    };
  }

  settle(partition: number, upTo: number): void {
    const log = this.#partition(partition);
    while (log.log.length > 0 && log.log[0]!.delivery.position <= upTo) log.log.shift()!.settled();
  }

  reply(replyTo: string, answer: unknown): void {
    // A JSON round trip, so the requester sees exactly what the NATS bus would deliver.
    this.#requests.get(replyTo)?.(decodeJson(encodeJson(answer)));
  }

  signal(topic: string): void {
    assertTopic(topic);
    if (!this.#closed) this.#signals.next(topic);
  }

  signals(topic: string): Observable<void> {
    assertTopic(topic);
    return this.#signals.pipe(
      filter((sent) => sent === topic),
      map(() => undefined),
    );
  }

  async ready(): Promise<void> {
    if (this.#closed) throw new BusClosedError();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    let lost = 0;
    for (const log of this.#log) {
      for (const wake of [...log.waiting]) wake();
      lost += log.log.length;
      for (const entry of log.log.splice(0)) entry.failed(new BusClosedError());
    }
    if (lost > 0) {
      this.#options.logger.warn({ lost }, 'in-process bus closed with messages not applied; they are lost');
    }
    this.#signals.complete();
  }

  #append(message: BusMessage, replyTo: string | null): Promise<void> {
    if (this.#closed) return Promise.reject(new BusClosedError());
    let frame: BusMessage;
    try {
      // A JSON round trip, checked like the NATS bus checks what it sends: readers see exactly what it
      // would deliver, and a message that cannot be sent is refused before its id counts as seen.
      frame = decodeMessage(encodeMessage(message));
    } catch (error) {
      return Promise.reject(error);
    }
    // A request is never dropped: its answer is awaited, and the host answers a repeat as a duplicate.
    if (!this.#seen.add(frame.id) && replyTo === null) return Promise.resolve();
    const partition = partitionOf(frame.to, this.partitions);
    const log = this.#log[partition]!;
    return new Promise<void>((settled, failed) => {
      const delivery: Delivery = {
        message: frame,
        partition,
        position: ++log.last,
        replyTo,
        publishedAt: Date.now(),
      };
      log.log.push({ delivery, settled, failed });
      for (const wake of [...log.waiting]) wake();
    });
  }

  #partition(partition: number): Partition {
    const log = this.#log[partition];
    if (log === undefined) throw new RangeError(`no partition ${partition} (the bus has ${this.partitions})`);
    return log;
  }
}
