/**
 * Shared pieces of the bus tests: messages, polling, a minimal reading host, and one fixture per
 * implementation so the contract suite runs unchanged against both.
 */
import type { BusLogger, BusMessage, Delivery, EventBus, PartitionReader } from '../../../src/bus/index.ts';
import { createInProcessBus, createNatsBus, partitionOf, streamName } from '../../../src/bus/index.ts';
import type { NatsBusOptions } from '../../../src/bus/index.ts';
import { deleteStreams, uniqueTestName } from '../../helpers/nats.ts';

/** Partitions of every test bus: few, so a handful of actors covers them all. */
export const TEST_PARTITIONS = 4;

let counter = 0;

/** A message for `to` with a unique id (or the one given). */
export function message(to: string, body: unknown = { n: counter + 1 }, id?: string): BusMessage {
  counter += 1;
  return { id: id ?? `msg-${counter}-${Math.random().toString(36).slice(2, 10)}`, to, body };
}

/** Polls `condition` until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `promise`, or a failure naming `what` once `timeoutMs` passed (so a hang fails with a reason). */
export async function within<T>(what: string, promise: Promise<T>, timeoutMs = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Timed out after ${timeoutMs} ms waiting for: ${what}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Watches a promise's outcome without awaiting it (and without leaving a rejection unhandled). */
export function track<T>(promise: Promise<T>): {
  readonly state: 'pending' | 'resolved' | 'rejected';
  readonly error: unknown;
} {
  const tracked = { state: 'pending' as 'pending' | 'resolved' | 'rejected', error: undefined as unknown };
  promise.then(
    () => (tracked.state = 'resolved'),
    (error: unknown) => {
      tracked.state = 'rejected';
      tracked.error = error;
    },
  );
  return tracked;
}

/** Lets pending callbacks and timers of the current moment run (no assertion is made on time). */
export async function letEverythingRun(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  await sleep(20);
}

/**
 * Reads from `reader` until `count` deliveries came (in batches of at most `max`), failing after
 * `timeoutMs`. Returns the deliveries and the batches they came in.
 */
export async function readAtLeast(
  reader: PartitionReader,
  count: number,
  { max = 100, timeoutMs = 10_000 }: { max?: number; timeoutMs?: number } = {},
): Promise<{ deliveries: Delivery[]; batches: Delivery[][] }> {
  const signal = AbortSignal.timeout(timeoutMs);
  const batches: Delivery[][] = [];
  const deliveries: Delivery[] = [];
  while (deliveries.length < count) {
    const batch = await reader.next(max, signal);
    if (batch.length === 0) {
      throw new Error(
        `Read ${deliveries.length} of ${count} deliveries before the reader stopped or timed out`,
      );
    }
    batches.push(batch);
    deliveries.push(...batch);
  }
  return { deliveries, batches };
}

/** What the {@link startHost} recorded. */
export interface TestHost {
  /** Every delivery, in the order each partition handed them over. */
  readonly deliveries: Delivery[];
  /** The ids read so far, in reading order. */
  ids(): string[];
  /** Deliveries addressed to `to`. */
  of(to: string): Delivery[];
  stop(): Promise<void>;
}

/**
 * A minimal actor host: reads every partition from the start, records what it reads, answers requests
 * with `answer(delivery)` (unless it returns undefined) and settles each batch, so in-process publishes
 * resolve.
 */
export type HostAnswer = (delivery: Delivery, host: TestHost) => unknown;

export function startHost(bus: EventBus, { answer }: { answer?: HostAnswer } = {}): TestHost {
  const deliveries: Delivery[] = [];
  const stop = new AbortController();
  const readers = Array.from({ length: bus.partitions }, (_, p) => bus.read(p, 0));
  const host: TestHost = {
    deliveries,
    ids: () => deliveries.map((d) => d.message.id),
    of: (to) => deliveries.filter((d) => d.message.to === to),
    async stop() {
      stop.abort();
      await Promise.all(readers.map((reader) => reader.close()));
      await Promise.all(loops);
    },
  };
  const loops = readers.map(async (reader, partition) => {
    for (;;) {
      const batch = await reader.next(100, stop.signal);
      if (batch.length === 0) return;
      for (const delivery of batch) {
        deliveries.push(delivery);
        const reply = answer?.(delivery, host);
        if (delivery.replyTo !== null && reply !== undefined) bus.reply(delivery.replyTo, reply);
      }
      bus.settle(partition, batch.at(-1)!.position);
    }
  });
  return host;
}

/** `count` actor addresses that fall into pairwise different partitions. */
export function actorsInDistinctPartitions(
  count: number,
  partitions = TEST_PARTITIONS,
  tag = 'tx',
): string[] {
  const byPartition = new Map<number, string>();
  for (let i = 0; byPartition.size < count; i++) {
    const address = `transaction:${tag}-${i}`;
    const p = partitionOf(address, partitions);
    if (!byPartition.has(p)) byPartition.set(p, address);
  }
  return [...byPartition.values()];
}

/** An actor address (≠ `other`) in the same partition as `other`. */
export function actorInSamePartition(other: string, partitions = TEST_PARTITIONS, tag = 'same'): string {
  for (let i = 0; ; i++) {
    const address = `transaction:${tag}-${i}`;
    if (address !== other && partitionOf(address, partitions) === partitionOf(other, partitions))
      return address;
  }
}

export interface LogEntry {
  level: 'info' | 'warn' | 'error';
  message: string;
  details: object;
}

export function recordingLogger(): BusLogger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  return {
    entries,
    info: (details, message) => entries.push({ level: 'info', message, details }),
    warn: (details, message) => entries.push({ level: 'warn', message, details }),
    error: (details, message) => entries.push({ level: 'error', message, details }),
  };
}

export type TestBusOptions = Omit<NatsBusOptions, 'url' | 'connection' | 'prefix'>;

/**
 * One test's bus world. `bus()` returns a bus on the same log: for NATS a new connection to the same
 * prefix (like another process); in-process the one shared instance (its options come from the first call).
 */
export interface BusFixture {
  bus(options?: TestBusOptions): Promise<EventBus>;
  cleanup(): Promise<void>;
}

export interface BusImplementation {
  name: 'in-process' | 'nats';
  /** True when the implementation cannot run here (NATS without NATS_URL, locally). */
  skip: boolean;
  fixture(): BusFixture;
}

export function inProcessImplementation(): BusImplementation {
  return {
    name: 'in-process',
    skip: false,
    fixture() {
      let shared: EventBus | undefined;
      return {
        async bus(options) {
          shared ??= createInProcessBus({
            partitions: TEST_PARTITIONS,
            logger: recordingLogger(),
            ...options,
          });
          return shared;
        },
        async cleanup() {
          await shared?.close();
        },
      };
    },
  };
}

export function natsImplementation(url: string | undefined): BusImplementation {
  return { name: 'nats', skip: url === undefined, fixture: () => natsFixture(url!) };
}

export interface NatsFixture extends BusFixture {
  readonly prefix: string;
  readonly stream: string;
}

/** Buses on a fresh prefix of the given server; cleanup closes them and deletes the stream. */
export function natsFixture(url: string, base: TestBusOptions = {}): NatsFixture {
  const prefix = uniqueTestName('bus');
  const buses: EventBus[] = [];
  return {
    prefix,
    stream: streamName(prefix),
    async bus(options) {
      const bus = await createNatsBus({
        partitions: TEST_PARTITIONS,
        logger: recordingLogger(),
        reconnectTimeWaitMs: 100,
        ...base,
        ...options,
        url,
        prefix,
      });
      buses.push(bus);
      return bus;
    },
    async cleanup() {
      await Promise.all(buses.map((bus) => bus.close()));
      await deleteStreams(url, [streamName(prefix)]);
    },
  };
}
