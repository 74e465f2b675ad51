/**
 * The actor host: owns bus partitions and applies what arrives on them to the actors, many messages per
 * database transaction.
 *
 * - **Partitions.** On NATS, partitions are shared by every host through leases (`ownership.ts`); each
 *   partition is read from the position committed with what was applied before it. In-process, the one
 *   host owns them all.
 * - **Group commit.** Each partition loop hands what arrived to the committer and waits; the committer
 *   applies everything waiting, from every partition, in one database transaction that also moves each
 *   partition's position (compare-and-set: the fence against a former owner). Then it answers requests,
 *   settles the positions on the bus, wakes the relays and refreshes the cache of hot actors. One
 *   partition's messages are applied strictly in order; a loop submits its next batch only after its
 *   previous one committed.
 * - **Failures.** A database that is away is waited for (with backoff); nothing is skipped. A message
 *   that makes the batch fail while the database is healthy is found by bisection and refused alone
 *   (`refused_messages`, code `failed`), so one bad message never blocks a partition. A lost race on a
 *   transaction's version or a quote's claim drops the cached copies and retries.
 * - **Memory.** Hot actors stay in an LRU per partition (bounded); every other actor is passivated in
 *   the database and loaded when a message comes.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import { crashPoint } from '../crash-points.ts';
import type { Database } from '../db/database.ts';
import { moveOffsets, startOffset } from '../db/partition-offsets.repository.ts';
import { recordRefusedMessages } from '../db/refused-messages.repository.ts';
import { outageLog } from '../outage-log.ts';
import { partitionOf, type Delivery, type EventBus } from '../bus/index.ts';
import { isRetryableConflict, OwnershipLostError } from './errors.ts';
import { parseAddress, transactionAddress } from './messages.ts';
import { createQuoteActors } from './quote-actors.ts';
import { startOwnership, type Ownership } from './ownership.ts';
import {
  applyTransactionBatch,
  type CachedTransaction,
  type TransactionBatchDeps,
  type TransactionItem,
} from './transaction-batch.ts';

/** Structural subset of a pino logger. */
export interface HostLog {
  debug?(obj: object, msg?: string): void;
  info?(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Messages for actors of another kind (SEP-12 customers), applied in the same database transaction. */
export interface ActorKind {
  apply(
    trx: Transaction<Database>,
    items: readonly { delivery: Delivery; address: string }[],
  ): Promise<{ answers: unknown[]; effectKinds: ReadonlySet<string> }>;
}

export interface ActorHostOptions {
  db: Kysely<Database>;
  bus: EventBus;
  transactions: Omit<TransactionBatchDeps, 'cached' | 'clock'>;
  /** Customer actors; without them a customer message is refused. */
  customers?: ActorKind;
  /** SEP-38 quote actors; default the built-in ones (they need nothing but the database). */
  quotes?: ActorKind;
  log: HostLog;
  /** Unique per process. Default `hostname:pid:random`. */
  holder?: string;
  clock?: () => Date;
  /** Partition lease (NATS): taken over this long after a host dies. Default 6 s. */
  leaseMs?: number;
  /** Messages applied in one database transaction at most. Default 1000. */
  maxBatch?: number;
  /** Messages taken from one partition at a time. Default 500. */
  maxPerPartition?: number;
  /**
   * Group commits that may run at once, each on its own connection, partitions split between them.
   * Default 1; 2 suits PostgreSQL (PGlite has one connection: more lanes only queue).
   */
  commitLanes?: number;
  /** Hot transactions kept in memory. Default 5 000. */
  cacheSize?: number;
  /** Waiting for a database that is away. Default 100 ms doubling to 5 s. */
  retry?: { initialMs: number; maxMs: number };
  /** Called after each commit (metrics, tests). */
  onCommit?: (info: {
    messages: number;
    partitions: number;
    ms: number;
    deliveries: readonly Delivery[];
    answers: readonly unknown[];
  }) => void;
}

export interface ActorHost {
  /** The partitions this host works now. */
  partitions(): number[];
  /** Stops taking messages, waits for the commit in flight, releases the partitions. */
  stop(): Promise<void>;
}

export const DEFAULT_LEASE_MS = 6_000;

interface Chunk {
  partition: number;
  /** The position committed before these deliveries. */
  from: number;
  deliveries: Delivery[];
}

interface Submission extends Chunk {
  resolve(): void;
  reject(error: unknown): void;
}

class HostStoppedError extends Error {
  constructor() {
    super('the actor host is stopping');
    this.name = 'HostStoppedError';
  }
}

export function startActorHost(options: ActorHostOptions): ActorHost {
  const { db, bus, log } = options;
  const clock = options.clock ?? (() => new Date());
  const quoteActors = options.quotes ?? createQuoteActors();
  const holder = options.holder ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const maxBatch = options.maxBatch ?? 1000;
  const maxPerPartition = Math.min(options.maxPerPartition ?? 500, maxBatch);
  const retry = options.retry ?? { initialMs: 100, maxMs: 5_000 };
  const cache = new HotActors(bus.partitions, options.cacheSize ?? 5_000);
  const loops = new Map<number, { abort: AbortController; done: Promise<void> }>();
  /** In-process positions (not durable): where a restarted partition loop resumes. */
  const settled = new Array<number>(bus.partitions).fill(0);
  let stopping = false;
  // One report per outage for the whole host, not one per partition and retry.
  const outage = outageLog(log, 'actor host');

  // ---------------------------------------------------------------------------------------------------
  // Partition loops

  function startPartition(partition: number): void {
    if (stopping || loops.has(partition)) return;
    const abort = new AbortController();
    loops.set(partition, { abort, done: runPartition(partition, abort.signal) });
  }

  async function stopPartition(partition: number): Promise<void> {
    const loop = loops.get(partition);
    if (!loop) return;
    loops.delete(partition);
    loop.abort.abort();
    await loop.done;
    cache.drop(partition);
  }

  async function runPartition(partition: number, signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      let position: number;
      try {
        position = bus.durable ? await durableStart(partition) : settled[partition]!;
      } catch (error) {
        outage.failed(error, 'could not read a partition position; retrying', { partition });
        await pause(backoff(++failures), signal);
        continue;
      }
      const reader = bus.read(partition, position);
      try {
        for (;;) {
          const deliveries = await reader.next(maxPerPartition, signal);
          if (deliveries.length === 0) break;
          await submit({ partition, from: position, deliveries });
          position = deliveries.at(-1)!.position;
          settled[partition] = position;
          bus.settle(partition, position);
          failures = 0;
        }
      } catch (error) {
        if (error instanceof HostStoppedError) return;
        // Another host committed this partition: start again from the position it left.
        if (error instanceof OwnershipLostError)
          log.warn({ partition }, 'partition moved on under this host; re-reading');
        else
          outage.failed(error, 'partition loop failed; re-reading from the stored position', { partition });
        cache.drop(partition);
        await pause(backoff(++failures), signal);
      } finally {
        await reader.close();
      }
    }
  }

  async function durableStart(partition: number): Promise<number> {
    const { position, reset } = await startOffset(db, {
      stream: bus.stream,
      partition,
      epoch: bus.epoch,
      now: clock(),
    });
    if (reset) {
      log.warn(
        { partition, stream: bus.stream },
        'the bus stream was created anew: its partition is read from the start (applied messages are skipped by id)',
      );
    }
    return position;
  }

  // ---------------------------------------------------------------------------------------------------
  // Group commit

  /** A committer: one group commit at a time, on its own database connection. */
  function createLane() {
    const queue: Submission[] = [];
    let committing: Promise<void> | null = null;

    function submit(chunk: Chunk): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        queue.push({ ...chunk, resolve, reject });
        kick();
      });
    }

    /** Runs the committer unless it runs; one that finishes with work left (submitted as it ended) goes on. */
    function kick(): void {
      if (committing) return;
      committing = drain().finally(() => {
        committing = null;
        if (queue.length > 0) kick();
      });
    }

    async function drain(): Promise<void> {
      while (queue.length > 0) {
        // One turn of the event loop first: the other partitions' loops, woken by the last commit, submit
        // now and join this group (PGlite runs a commit on this thread, so nothing joins during it).
        await new Promise((resolve) => setImmediate(resolve));
        const group: Submission[] = [];
        let size = 0;
        while (queue.length > 0 && (group.length === 0 || size + queue[0]!.deliveries.length <= maxBatch)) {
          const next = queue.shift()!;
          group.push(next);
          size += next.deliveries.length;
        }
        await commitGroup(group);
      }
    }

    return { submit, idle: () => committing ?? Promise.resolve() };
  }

  // Partitions are split over the lanes (p mod lanes), so a partition's batches stay in order while two
  // lanes keep two database connections (and PostgreSQL's cores) busy.
  const lanes = Array.from({ length: Math.max(1, options.commitLanes ?? 1) }, createLane);

  function submit(chunk: Chunk): Promise<void> {
    if (stopping) return Promise.reject(new HostStoppedError());
    return lanes[chunk.partition % lanes.length]!.submit(chunk);
  }

  async function commitGroup(group: Submission[]): Promise<void> {
    let pending = group;
    let failures = 0;
    while (pending.length > 0) {
      try {
        await commit(pending);
        outage.succeeded();
        for (const s of pending) s.resolve();
        return;
      } catch (error) {
        if (error instanceof OwnershipLostError) {
          for (const s of pending.filter((s) => error.partitions.has(s.partition))) s.reject(error);
          pending = pending.filter((s) => !error.partitions.has(s.partition));
          continue;
        }
        if (isRetryableConflict(error)) {
          for (const s of pending) cache.drop(s.partition);
          if (++failures < 5) continue;
        }
        if (stopping) {
          for (const s of pending) s.reject(new HostStoppedError());
          return;
        }
        if (!isRetryableConflict(error) && (await databaseHealthy())) {
          log.error(
            { err: error, messages: count(pending) },
            'a batch failed with the database up; isolating the message that fails',
          );
          try {
            for (const s of pending) await isolate(s);
            for (const s of pending) s.resolve();
          } catch (isolationError) {
            for (const s of pending) s.reject(isolationError);
          }
          return;
        }
        const delayMs = backoff(++failures);
        outage.failed(error, 'could not commit; retrying', { messages: count(pending), delayMs });
        await pause(delayMs);
      }
    }
  }

  /** Commits `chunks` in one database transaction, then answers, settles and caches. */
  async function commit(chunks: readonly Chunk[]): Promise<void> {
    const started = performance.now();
    const deliveries = chunks.flatMap((c) => c.deliveries);
    const outcome = await db.transaction().execute(async (trx) => {
      const applied = await applyAll(trx, deliveries);
      if (bus.durable) {
        const moves = chunks.map((c) => ({
          partition: c.partition,
          from: c.from,
          to: c.deliveries.at(-1)!.position,
        }));
        const moved = await moveOffsets(trx, { stream: bus.stream, epoch: bus.epoch, moves, now: clock() });
        if (moved.size !== moves.length) {
          throw new OwnershipLostError(new Set(moves.map((m) => m.partition).filter((p) => !moved.has(p))));
        }
      }
      crashPoint('actors.committing');
      return applied;
    });
    for (const [id, state] of outcome.states) cache.set(id, state);
    deliveries.forEach((delivery, index) => {
      if (delivery.replyTo !== null) bus.reply(delivery.replyTo, outcome.answers[index]);
    });
    for (const kind of outcome.effectKinds) bus.signal(`outbox.${kind}`);
    options.onCommit?.({
      messages: deliveries.length,
      partitions: chunks.length,
      ms: performance.now() - started,
      deliveries,
      answers: outcome.answers,
    });
  }

  /** Finds the message that fails by bisection; commits everything else, refuses that one alone. */
  async function isolate(chunk: Chunk): Promise<void> {
    try {
      await commit([chunk]);
      return;
    } catch (error) {
      if (error instanceof OwnershipLostError || !(await databaseHealthy())) throw error;
      if (chunk.deliveries.length === 1) {
        await refuseAlone(chunk, error);
        return;
      }
      const half = Math.ceil(chunk.deliveries.length / 2);
      const head = chunk.deliveries.slice(0, half);
      await isolate({ ...chunk, deliveries: head });
      await isolate({
        partition: chunk.partition,
        from: head.at(-1)!.position,
        deliveries: chunk.deliveries.slice(half),
      });
    }
  }

  async function refuseAlone(chunk: Chunk, error: unknown): Promise<void> {
    const delivery = chunk.deliveries[0]!;
    const reason = `applying it failed: ${error instanceof Error ? error.message : String(error)}`;
    log.error(
      { messageId: delivery.message.id, to: delivery.message.to, reason },
      'message refused: it fails alone',
    );
    await db.transaction().execute(async (trx) => {
      await recordRefusedMessages(trx, [
        {
          actor: delivery.message.to,
          messageId: delivery.message.id,
          kind: 'unknown',
          code: 'failed',
          reason,
          payload: delivery.message.body,
        },
      ]);
      if (bus.durable) {
        const moves = [{ partition: chunk.partition, from: chunk.from, to: delivery.position }];
        const moved = await moveOffsets(trx, { stream: bus.stream, epoch: bus.epoch, moves, now: clock() });
        if (moved.size !== 1) throw new OwnershipLostError(new Set([chunk.partition]));
      }
    });
    if (delivery.replyTo !== null) {
      bus.reply(delivery.replyTo, { outcome: 'refused', code: 'failed', reason, status: null, accepts: [] });
    }
  }

  /** Dispatches each delivery to its kind of actor; answers come back in delivery order. */
  async function applyAll(trx: Transaction<Database>, deliveries: readonly Delivery[]) {
    const answers: unknown[] = new Array(deliveries.length);
    const effectKinds = new Set<string>();
    const transactions: { index: number; item: TransactionItem }[] = [];
    const customers: { index: number; delivery: Delivery; address: string }[] = [];
    const quotes: { index: number; delivery: Delivery; address: string }[] = [];
    const refused: { index: number; delivery: Delivery; reason: string }[] = [];
    deliveries.forEach((delivery, index) => {
      if (delivery.malformed !== undefined) {
        refused.push({ index, delivery, reason: `malformed message: ${delivery.malformed}` });
        return;
      }
      const address = parseAddress(delivery.message.to);
      if (address?.kind === 'transaction') {
        transactions.push({
          index,
          item: {
            messageId: delivery.message.id,
            transactionId: address.id,
            body: delivery.message.body,
            replyTo: delivery.replyTo,
          },
        });
      } else if (address?.kind === 'customer' && options.customers) {
        customers.push({ index, delivery, address: delivery.message.to });
      } else if (address?.kind === 'quote') {
        quotes.push({ index, delivery, address: delivery.message.to });
      } else {
        refused.push({ index, delivery, reason: `no actor at ${delivery.message.to}` });
      }
    });
    let states = new Map<string, CachedTransaction>();
    if (transactions.length > 0) {
      const result = await applyTransactionBatch(
        trx,
        transactions.map((t) => t.item),
        { ...options.transactions, clock, cached: (id) => cache.get(id) },
      );
      transactions.forEach((t, i) => (answers[t.index] = result.answers[i]));
      for (const kind of result.effectKinds) effectKinds.add(kind);
      states = result.states;
    }
    if (customers.length > 0) {
      const result = await options.customers!.apply(trx, customers);
      customers.forEach((c, i) => (answers[c.index] = result.answers[i]));
      for (const kind of result.effectKinds) effectKinds.add(kind);
    }
    if (quotes.length > 0) {
      const result = await quoteActors.apply(trx, quotes);
      quotes.forEach((q, i) => (answers[q.index] = result.answers[i]));
      for (const kind of result.effectKinds) effectKinds.add(kind);
    }
    if (refused.length > 0) {
      await recordRefusedMessages(
        trx,
        refused.map(({ delivery, reason }) => ({
          actor: delivery.message.to,
          messageId: delivery.message.id,
          kind: 'unknown',
          code: 'malformed',
          reason,
          payload: delivery.message.body,
        })),
      );
      for (const { index, reason } of refused) {
        answers[index] = { outcome: 'refused', code: 'malformed', reason, status: null, accepts: [] };
      }
    }
    return { answers, effectKinds, states };
  }

  async function databaseHealthy(): Promise<boolean> {
    try {
      await withTimeout(sql`select 1`.execute(db), 2_000);
      return true;
    } catch {
      return false;
    }
  }

  function backoff(failures: number): number {
    return Math.min(retry.maxMs, retry.initialMs * 2 ** Math.max(0, failures - 1));
  }

  // ---------------------------------------------------------------------------------------------------
  // Start

  let ownership: Ownership | null = null;
  if (bus.durable) {
    ownership = startOwnership({
      db,
      stream: bus.stream,
      partitions: bus.partitions,
      holder,
      leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
      onGain: startPartition,
      onLose: stopPartition,
      log,
      clock,
    });
  } else {
    for (let partition = 0; partition < bus.partitions; partition++) startPartition(partition);
  }

  return {
    partitions: () => [...loops.keys()].sort((a, b) => a - b),
    async stop() {
      if (ownership) await ownership.stop();
      stopping = true;
      await Promise.all([...loops.keys()].map(stopPartition));
      await Promise.all(lanes.map((lane) => lane.idle()));
    },
  };
}

/** Hot transactions, an LRU per partition so a lost partition's actors are dropped in one go. */
class HotActors {
  readonly #parts: Map<string, CachedTransaction>[];
  readonly #perPartition: number;
  readonly #partitions: number;

  constructor(partitions: number, capacity: number) {
    this.#partitions = partitions;
    this.#perPartition = Math.max(1, Math.ceil(capacity / partitions));
    this.#parts = Array.from({ length: partitions }, () => new Map());
  }

  get(id: string): CachedTransaction | undefined {
    const part = this.#part(id);
    const hit = part.get(id);
    if (hit !== undefined) {
      part.delete(id);
      part.set(id, hit);
    }
    return hit;
  }

  set(id: string, value: CachedTransaction): void {
    const part = this.#part(id);
    part.delete(id);
    part.set(id, value);
    if (part.size > this.#perPartition) part.delete(part.keys().next().value!);
  }

  drop(partition: number): void {
    this.#parts[partition]?.clear();
  }

  #part(id: string): Map<string, CachedTransaction> {
    return this.#parts[partitionOf(transactionAddress(id), this.#partitions)]!;
  }
}

function count(chunks: readonly Chunk[]): number {
  return chunks.reduce((sum, c) => sum + c.deliveries.length, 0);
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
