import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type QueryResult,
} from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TransactionHost } from '../../../src/actors/transaction-host.ts';
import type { Database } from '../../../src/db/database.ts';
import { startWorker, type WorkerLog } from '../../../src/workers/index.ts';

/** A database with no I/O: every query finds nothing, fails, or waits, as the test says. */
function scriptedDatabase() {
  const script = { fail: false, gate: Promise.resolve(), queries: 0 };
  const connection: DatabaseConnection = {
    async executeQuery<R>(): Promise<QueryResult<R>> {
      script.queries++;
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

const host: Pick<TransactionHost, 'apply'> = {
  apply: () => Promise.reject(new Error('no transaction is due in these tests')),
};

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
    const worker = startWorker('expire', {
      db,
      host,
      intervalMs: 10_000,
      log,
      onPass: (c) => passes.push(c),
    });

    await vi.advanceTimersByTimeAsync(0);
    expect(passes).toEqual([{ due: 0, expired: 0, movedOn: 0, errors: 0 }]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(passes).toHaveLength(2);

    script.fail = true;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(passes).toHaveLength(2);
    expect(entries.filter((e) => e.level === 'error')).toMatchObject([
      { obj: { worker: 'expire' }, msg: 'expire pass failed: connection refused' },
    ]);

    script.fail = false;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(passes).toHaveLength(3);
    expect(entries.filter((e) => e.level === 'debug')).toHaveLength(3); // nothing to do: quiet

    await worker.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(passes).toHaveLength(3);
  });

  it('stop() waits for the pass in flight', async () => {
    const { db, script } = scriptedDatabase();
    let release!: () => void;
    script.gate = new Promise<void>((resolve) => (release = resolve));
    const passes: unknown[] = [];
    const worker = startWorker('poll-outgoing', {
      db,
      host,
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
