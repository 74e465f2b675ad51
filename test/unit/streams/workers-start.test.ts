import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type QueryResult,
} from 'kysely';
import { Subject } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BusMessage, EventBus } from '../../../src/bus/index.ts';
import type { Database } from '../../../src/db/database.ts';
import { startOutboxRelay, type OutboxRelay } from '../../../src/effects/relay.ts';
import { startWorker, type WorkerLog } from '../../../src/workers/index.ts';

/** A database with no I/O: every query finds nothing, fails, or waits, as the test says. */
function scriptedDatabase() {
  const script = {
    fail: false,
    gate: Promise.resolve(),
    queries: 0,
    /** Called as each query runs (before it waits for the gate). */
    onQuery: (): void => {},
  };
  const connection: DatabaseConnection = {
    async executeQuery<R>(): Promise<QueryResult<R>> {
      script.queries++;
      script.onQuery();
      await script.gate;
      if (script.fail) throw new Error('connection refused');
      return { rows: [] };
    },
    // eslint-disable-next-line require-yield
    async *streamQuery() {
      throw new Error('not used');
    },
  };
  class Driver extends DummyDriver {
    override async acquireConnection() {
      return connection;
    }
  }
  const db = new Kysely<Database>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new Driver(),
      createIntrospector: (kysely) => new PostgresIntrospector(kysely),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
  return { db, script };
}

/** The sink of the passes: records what they publish (nothing is due in these tests). */
function recordingBus() {
  const published: BusMessage[] = [];
  const bus: Pick<EventBus, 'publishMany'> = {
    publishMany: async (messages) => void published.push(...messages),
  };
  return { bus, published };
}

function captureLog() {
  const entries: { level: string; obj: Record<string, unknown>; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) =>
    void entries.push({ level, obj: obj as Record<string, unknown>, msg });
  const log: WorkerLog = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { log, entries };
}

describe('startWorker (the loop behind `mooring <worker> --loop --interval N`)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('passes at once and every interval; a failed pass is logged and the next one runs', async () => {
    const { db, script } = scriptedDatabase();
    const { log, entries } = captureLog();
    const passes: Record<string, number>[] = [];
    const { bus, published } = recordingBus();
    const worker = startWorker('expire', {
      db,
      bus,
      intervalMs: 10_000,
      log,
      onPass: (c) => passes.push(c),
    });

    await vi.advanceTimersByTimeAsync(0);
    expect(passes).toEqual([{ due: 0 }]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(passes).toHaveLength(2);

    script.fail = true;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(passes).toHaveLength(2);
    expect(entries.filter((e) => e.level === 'error')).toMatchObject([
      { obj: { worker: 'expire' }, msg: 'expire: pass failed' },
    ]);

    script.fail = false;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(passes).toHaveLength(3);
    expect(entries.filter((e) => e.level === 'debug')).toHaveLength(3); // nothing to do: quiet

    await worker.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(passes).toHaveLength(3);
    expect(published).toEqual([]);
  });

  it('stop() waits for the pass in flight', async () => {
    const { db, script } = scriptedDatabase();
    let release!: () => void;
    script.gate = new Promise<void>((resolve) => (release = resolve));
    const passes: unknown[] = [];
    const worker = startWorker('poll-outgoing', {
      db,
      bus: recordingBus().bus,
      rails: {
        executeOutgoingTransaction: () => Promise.reject(new Error('not used')),
        pollOutgoingTransactions: async () => [],
      },
      intervalMs: 1_000,
      log: captureLog().log,
      onPass: (counts) => passes.push(counts),
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(script.queries).toBe(1);

    let stopped = false;
    const stopping = worker.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(stopped).toBe(false);
    expect(script.queries).toBe(1); // no new pass while one runs, nor after stop

    release();
    await stopping;
    expect(stopped).toBe(true);
  });
});

/** What `startOutboxRelay` needs besides the database; no handler is ever called (no row is ever due). */
const RELAY = {
  handlers: { execute_payout: () => Promise.reject(new Error('no row is due in these tests')) },
  workerId: 'relay-under-test',
  batchSize: 10,
  leaseMs: 60_000,
  handlerTimeoutMs: 10_000,
  maxAttempts: 3,
  log: { warn: () => {}, error: () => {} },
};

describe('the outbox relay woken by signals (`wake`)', () => {
  const relays: OutboxRelay[] = [];
  afterEach(async () => {
    for (const relay of relays.splice(0)) await relay.stop();
  });
  /** Lets every pending callback and timer of this moment run (no claim about time is made). */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

  it('a signal runs a pass although the interval is long; one during a pass runs exactly one more', async () => {
    const { db, script } = scriptedDatabase();
    const wake = new Subject<void>();
    relays.push(startOutboxRelay({ db, ...RELAY, intervalMs: 3_600_000, wake }));
    await settle();
    expect(script.queries).toBe(1); // the first pass, at once (one claim that found nothing)

    wake.next();
    await settle();
    expect(script.queries).toBe(2);

    // A pass held in its claim; three signals meanwhile ask for one more pass, not three.
    let release!: () => void;
    script.gate = new Promise<void>((resolve) => (release = resolve));
    wake.next();
    await settle();
    expect(script.queries).toBe(3);
    wake.next();
    wake.next();
    wake.next();
    script.gate = Promise.resolve();
    release();
    await settle();
    expect(script.queries).toBe(4);
  });

  it('no signal is lost at the end of a pass, whenever in it it arrives', async () => {
    // The signal arrives `depth` microtasks after the pass's claim ran; each depth is another moment of the
    // pass's end. Every one must lead to another claim (one more pass, or a new one).
    const lost: number[] = [];
    for (let depth = 0; depth < 40; depth++) {
      const { db, script } = scriptedDatabase();
      const wake = new Subject<void>();
      const relay = startOutboxRelay({ db, ...RELAY, intervalMs: 3_600_000, wake });
      await settle();
      const before = script.queries;
      script.onQuery = () => {
        script.onQuery = () => {};
        let later = Promise.resolve();
        for (let i = 0; i < depth; i++) later = later.then(() => undefined);
        void later.then(() => wake.next());
      };
      wake.next();
      await settle();
      if (script.queries - before < 2) lost.push(depth);
      await relay.stop();
    }
    expect(lost).toEqual([]);
  });

  it('stop() ends the loop: later signals run nothing', async () => {
    const { db, script } = scriptedDatabase();
    const wake = new Subject<void>();
    const relay = startOutboxRelay({ db, ...RELAY, intervalMs: 3_600_000, wake });
    await settle();
    await relay.stop();
    const queries = script.queries;
    wake.next();
    await settle();
    expect(script.queries).toBe(queries);
  });
});
