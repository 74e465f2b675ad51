/** Shared pieces of the bus tests: envelopes, polling, recording handlers, fixtures per implementation. */
import type { TransactionEventEnvelope } from '../../../machines/transaction/events.ts';
import type { BusLogger, BusOptions, EventBus } from '../../../src/bus/index.ts';
import { createInProcessBus, createNatsBus, partitionOf } from '../../../src/bus/index.ts';
import type { NatsBusOptions } from '../../../src/bus/index.ts';
import { deleteStreams, uniqueTestName } from '../../helpers/nats.ts';

let counter = 0;

/** An envelope with a unique eventId (or the one given). */
export function envelope(
  transactionId: string,
  eventId = `evt-${++counter}-${Math.random().toString(36).slice(2)}`,
) {
  return {
    eventId,
    transactionId,
    event: { type: 'EXPIRE', at: new Date(Date.UTC(2026, 0, 1, 0, 0, counter % 60)).toISOString() },
  } satisfies TransactionEventEnvelope;
}

/** Polls `condition` until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
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

/** A promise with its resolve function, to hold a handler until the test lets it go. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** `count` transaction ids that fall into pairwise different partitions. */
export function idsInDistinctPartitions(count: number, partitions: number, tag = 'tx'): string[] {
  const byPartition = new Map<number, string>();
  for (let i = 0; byPartition.size < count; i++) {
    const id = `${tag}-${i}`;
    const p = partitionOf(id, partitions);
    if (!byPartition.has(p)) byPartition.set(p, id);
  }
  return [...byPartition.values()];
}

/** A transaction id (≠ `other`) in the same partition as `other`. */
export function idInSamePartition(other: string, partitions: number, tag = 'same'): string {
  for (let i = 0; ; i++) {
    const id = `${tag}-${i}`;
    if (id !== other && partitionOf(id, partitions) === partitionOf(other, partitions)) return id;
  }
}

/** A transaction id in a different partition from `other`. */
export function idInOtherPartition(other: string, partitions: number, tag = 'other'): string {
  for (let i = 0; ; i++) {
    const id = `${tag}-${i}`;
    if (partitionOf(id, partitions) !== partitionOf(other, partitions)) return id;
  }
}

export interface LogEntry {
  level: 'warn' | 'error';
  message: string;
  details: object;
}

export function recordingLogger(): BusLogger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  return {
    entries,
    warn: (details, message) => entries.push({ level: 'warn', message, details }),
    error: (details, message) => entries.push({ level: 'error', message, details }),
  };
}

/** Options every test bus starts from: small, fast, quiet. */
export function testBusOptions(overrides: BusOptions = {}): BusOptions {
  return {
    partitions: 4,
    maxDeliver: 3,
    retryBackoff: () => 20,
    stopTimeoutMs: 2000,
    logger: recordingLogger(),
    ...overrides,
  };
}

/**
 * One test's bus world. `bus()` returns a new bus on the same underlying queue: for NATS, a new
 * connection to the same stream (like another process); in-process, the one shared instance.
 */
export interface BusFixture {
  bus(options?: BusOptions & Partial<NatsBusOptions>): Promise<EventBus>;
  cleanup(): Promise<void>;
}

export interface BusImplementation {
  name: string;
  /** True when the implementation cannot run here (NATS without NATS_URL). */
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
          shared ??= createInProcessBus(testBusOptions(options));
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
  return {
    name: 'nats',
    skip: url === undefined,
    fixture() {
      return natsFixture(url!);
    },
  };
}

export interface NatsFixture extends BusFixture {
  streamName: string;
  subjectPrefix: string;
}

/** Buses on a fresh stream of the given server; cleanup closes them and deletes the streams. */
export function natsFixture(url: string, base: Partial<NatsBusOptions> = {}): NatsFixture {
  const streamName = uniqueTestName('BUSTEST');
  const subjectPrefix = `test.${streamName}`;
  const buses: EventBus[] = [];
  return {
    streamName,
    subjectPrefix,
    async bus(options) {
      const bus = await createNatsBus({
        url,
        streamName,
        subjectPrefix,
        ackWaitMs: 1000,
        reconnectTimeWaitMs: 100,
        ...testBusOptions(),
        ...base,
        ...options,
      });
      buses.push(bus);
      return bus;
    },
    async cleanup() {
      await Promise.all(buses.map((bus) => bus.close()));
      await deleteStreams(url, [streamName, `${streamName}_DEAD`]);
    },
  };
}
