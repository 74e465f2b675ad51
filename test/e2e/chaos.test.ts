import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MooringEvent } from '../../examples/events-consumer/consume.ts';
import { businessEventsStreamName } from '../../src/bus/index.ts';
import { KEYS, testConfig, testConfigFile, tokenFor } from '../helpers/app.ts';
import { startCallbackReceiver } from '../helpers/callback-receiver.ts';
import { postgresDatabase } from '../helpers/database.ts';
import {
  natsServerBinary,
  readStream,
  startPrivateNatsServer,
  type PrivateNatsServer,
} from '../helpers/nats.ts';
import {
  postgresServerBinaries,
  startPrivatePostgres,
  type PrivatePostgresServer,
} from '../helpers/postgres-server.ts';
import { freePort, waitForHttp } from '../helpers/process.ts';
import {
  countWithStatus,
  createAwaitingTransactions,
  eventCounts,
  outputs,
  pause,
  pay,
  railsBookings,
  startWorld,
  waitUntil,
  type AwaitingTransaction,
  type World,
  type WorldProcess,
} from './support.ts';

const postgresBin = postgresServerBinaries();
const natsBin = natsBinaryForTests();

/** The nats-server binary, or undefined locally without one (skip); on CI a missing one throws. */
function natsBinaryForTests(): string | undefined {
  try {
    return natsServerBinary();
  } catch (error) {
    if (process.env.CI === 'true') throw error;
    return undefined;
  }
}

/** The JWT secret of every process (no sandbox), so the test signs the sending anchor's token itself. */
const JWT_SECRET = testConfigFile().jwtSecret!;
/** No SEP-12 types: a POST needs no customers, and a funded transaction is paid out at once. */
const NO_KYC = { sep12: { types: {} }, rails: { kind: 'reference' as const, payoutDelaySeconds: 0 } };

/**
 * Outages and crashes against real `mooring` processes, on a PostgreSQL cluster and a NATS server of
 * this file's own (never the shared ones: these are stopped and started). Each scenario checks the
 * processes stay up, `/ready` says when a part is away and recovers, and nothing is lost or done twice.
 */
describe.skipIf(!postgresBin || !natsBin)('chaos: database and bus outages, crashes of each role', () => {
  let pg: PrivatePostgresServer;
  let nats: PrivateNatsServer;
  let world: World | undefined;

  beforeAll(async () => {
    [pg, nats] = await Promise.all([startPrivatePostgres(postgresBin!), startPrivateNatsServer()]);
  });
  afterAll(async () => {
    await Promise.all([pg?.dispose(), nats?.dispose()]);
  });
  afterEach(async () => {
    // A scenario that failed mid-outage leaves the server stopped: the next one needs it.
    await Promise.all([pg.start().catch(() => undefined), nats.start().catch(() => undefined)]);
    await world?.close();
    world = undefined;
  });

  /** The sending anchor's SEP-10 token, signed with `jwtSecret` (default the processes' JWT_SECRET). */
  async function sendingAnchorToken(jwtSecret = JWT_SECRET): Promise<string> {
    const { config, cleanup } = await testConfig(testConfigFile({ jwtSecret }));
    try {
      return await tokenFor(config, KEYS.acme.publicKey());
    } finally {
      await cleanup();
    }
  }

  /** `mooring <args>` with an HTTP port, waiting until `/ready` answers 200. */
  async function startHttp(
    w: World,
    name: string,
    args: string[],
    options: { port?: number; env?: Record<string, string> } = { env: { JWT_SECRET } },
  ) {
    const port = options.port ?? (await freePort());
    const base = `http://127.0.0.1:${port}`;
    const process_ = await w.start(name, args, { PORT: `${port}`, ...options.env });
    await waitForHttp(`${base}/ready`, process_);
    return { process: process_, base };
  }

  interface Answer {
    status: number;
    body: string;
    retryAfter: string | null;
    idempotencyKey: string;
  }

  /**
   * `count` POSTs /sep31/transactions, `concurrency` in flight, each with its own Idempotency-Key; calls
   * `midway` (once) when `after` answers are in. A lane that gets a 503 waits a moment, as a client told
   * to retry later would, so the burst outlasts the outage. A refused connection counts as status 0.
   */
  async function postBurst(
    base: string,
    token: string,
    options: {
      count: number;
      concurrency: number;
      after?: number;
      midway?: () => Promise<void>;
      onCreated?: (id: string) => void;
    },
  ): Promise<{ answers: Answer[]; midway: Promise<void> }> {
    const answers: Answer[] = [];
    let next = 0;
    let midway: Promise<void> | undefined;
    const lane = async () => {
      while (next < options.count) {
        next += 1;
        const answer = await postTransaction(base, token, randomUUID());
        answers.push(answer);
        if (answer.status === 201) options.onCreated?.(createdId(answer));
        if (answers.length === options.after) midway ??= options.midway?.();
        // Told to come back later, or nobody listening (a restarting process): wait a moment.
        if (answer.status === 503 || answer.status === 0) await pause(1_000);
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, lane));
    return { answers, midway: midway ?? Promise.resolve() };
  }

  /** One POST /sep31/transactions with this Idempotency-Key (the same body every time). */
  async function postTransaction(base: string, token: string, idempotencyKey: string): Promise<Answer> {
    try {
      const response = await fetch(`${base}/sep31/transactions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'idempotency-key': idempotencyKey,
        },
        body: JSON.stringify({ asset_code: 'USDC', amount: '100', funding_method: 'SEPA' }),
        signal: AbortSignal.timeout(30_000),
      });
      const body = await response.text();
      return {
        status: response.status,
        body,
        retryAfter: response.headers.get('retry-after'),
        idempotencyKey,
      };
    } catch (error) {
      return { status: 0, body: String(error), retryAfter: null, idempotencyKey };
    }
  }

  /**
   * What a sending anchor does with an answer it did not get: sends the same request with the same key
   * until it gets its 201. Replaces each such answer in place; a POST that was committed is re-found.
   */
  async function retryUnanswered(base: string, token: string, answers: Answer[]): Promise<number> {
    let retried = 0;
    for (const [index, first] of answers.entries()) {
      let answer = first;
      for (let attempt = 0; answer.status !== 201 && attempt < 20; attempt++) {
        if (attempt > 0) await pause(500);
        answer = await postTransaction(base, token, first.idempotencyKey);
      }
      if (answer !== first) retried += 1;
      answers[index] = answer;
    }
    return retried;
  }

  /** Every request has its 201 (after retries), and the rows are exactly the transactions those name. */
  function expectOneRowPerRequest(answers: readonly Answer[], rows: readonly { id: string }[]) {
    expect(answers.filter((a) => a.status !== 201)).toEqual([]);
    const created = answers.map((a) => createdId(a));
    expect(new Set(created).size).toBe(answers.length);
    expect(rows.map((r) => r.id).sort()).toEqual([...created].sort());
  }

  function createdId(answer: Answer): string {
    return (JSON.parse(answer.body) as { id: string }).id;
  }

  async function get(base: string, token: string, path: string): Promise<Answer> {
    const response = await fetch(`${base}${path}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(10_000),
    });
    const body = await response.text();
    return {
      status: response.status,
      body,
      retryAfter: response.headers.get('retry-after'),
      idempotencyKey: '',
    };
  }

  async function readyStatus(base: string): Promise<number> {
    try {
      return (await fetch(`${base}/ready`, { signal: AbortSignal.timeout(10_000) })).status;
    } catch {
      return 0;
    }
  }

  /** Lines logged at error level or above about the database or the bus being away. */
  function outageErrors(p: WorldProcess): string[] {
    return p
      .output()
      .split('\n')
      .filter((line) => /"level":(50|60)/.test(line))
      .filter((line) =>
        /ECONNREFUSED|ECONNRESET|shutting down|terminat|not queryable|NATS|TIMEOUT|disconnect/i.test(line),
      );
  }

  function expectAlive(processes: readonly WorldProcess[]) {
    for (const p of processes) {
      expect(p.child.exitCode, `${p.name} exited:\n${outputs(processes, 40)}`).toBeNull();
      expect(p.child.signalCode, `${p.name} was killed:\n${outputs(processes, 40)}`).toBeNull();
    }
  }

  it('PostgreSQL restarted under a POST burst: stays up, 503 + Retry-After while down, every 201 has its row', async () => {
    // Commands wait 2 s for their actor: a POST caught by the outage answers 503 rather than wait it out.
    world = await startWorld({
      database: postgresDatabase(pg.url),
      natsUrl: nats.url,
      config: { ...NO_KYC, actors: { commandTimeoutSeconds: 2 } },
    });
    const w = world;
    const { process: serve, base } = await startHttp(w, 'serve', ['serve']);
    const token = await sendingAnchorToken();

    const readyWhileDown: number[] = [];
    const readsWhileDown: Answer[] = [];
    let firstId: string | undefined;
    const burst = await postBurst(base, token, {
      count: 300,
      concurrency: 20,
      after: 100,
      onCreated: (id) => (firstId ??= id),
      midway: async () => {
        await pg.stop('fast');
        // Down for a few seconds: /ready says so (and answers, not hangs); a read answers 503, not 500.
        for (let i = 0; i < 4; i++) {
          readyWhileDown.push(await readyStatus(base));
          readsWhileDown.push(await get(base, token, `/sep31/transactions/${firstId}`));
          await pause(1_000);
        }
        await pg.start();
      },
    });
    await burst.midway;
    expectAlive(w.processes);

    const unexpected = burst.answers.filter((a) => a.status !== 201 && a.status !== 503);
    expect(unexpected, outputs(w.processes, 40)).toEqual([]);
    expect(burst.answers.map((a) => a.status)).toContain(503);
    for (const a of [...burst.answers.filter((a) => a.status === 503), ...readsWhileDown]) {
      expect(a.status).toBe(503);
      expect(a.retryAfter).not.toBeNull();
      expect(JSON.parse(a.body)).toEqual({ error: expect.any(String) });
    }
    expect(readyWhileDown).toEqual([503, 503, 503, 503]);
    await waitUntil('/ready to answer 200 again', async () => (await readyStatus(base)) === 200, {
      timeoutMs: 20_000,
      diagnostics: () => outputs(w.processes),
    });

    // Every 201 has its row, and there are no more rows than requests (a POST answered 503 may still
    // have been applied once the database was back).
    const created = burst.answers.filter((a) => a.status === 201).map((a) => createdId(a));
    expect(created.length).toBeGreaterThan(100);
    const rows = await w.db.selectFrom('transactions').select('id').execute();
    const stored = new Set(rows.map((r) => r.id));
    expect(created.filter((id) => !stored.has(id))).toEqual([]);
    expect(rows.length).toBeLessThanOrEqual(burst.answers.length);
    // Then no row lacks its 201: each unanswered request, sent again with its key, finds its transaction
    // (or makes it, if the first never committed).
    expect(await retryUnanswered(base, token, burst.answers)).toBeGreaterThan(0);
    expectOneRowPerRequest(burst.answers, await w.db.selectFrom('transactions').select('id').execute());

    // And it serves as before, without a restart.
    const after = await postBurst(base, token, { count: 5, concurrency: 5 });
    expect(after.answers.map((a) => a.status)).toEqual([201, 201, 201, 201, 201]);
    expectAlive([serve]);
    // The outage is a line per loop, not an error with a stack per retry.
    expect(outageErrors(serve)).toEqual([]);
  }, 120_000);

  /** Each payment credited once, each transaction paid out once, all completed, nothing unmatched. */
  async function expectPaidOutOnce(w: World, ids: readonly string[]) {
    const credits = await eventCounts(w.db, 'PAYMENT_RECEIVED');
    expect(ids.map((id) => credits.get(id) ?? 0)).toEqual(ids.map(() => 1));
    const bookings = await railsBookings(w.db);
    expect(ids.map((id) => bookings.byTransaction.get(id)?.length ?? 0)).toEqual(ids.map(() => 1));
    const completions = await eventCounts(w.db, 'PAYOUT_COMPLETED');
    expect(ids.map((id) => completions.get(id) ?? 0)).toEqual(ids.map(() => 1));
    expect(await w.db.selectFrom('unmatched_payments').select('id').execute()).toEqual([]);
  }

  /**
   * The business events of `ids` on NATS: once every event row of theirs is published, each transaction's
   * events (repeats dropped by id) are exactly its rows, in their order: none lost, none out of order.
   */
  async function expectBusinessEventsInOrder(w: World, ids: readonly string[]) {
    const rows = () =>
      w.db
        .selectFrom('outbox')
        .select(['transaction_id', 'payload', 'state'])
        .where('kind', '=', 'event_nats')
        .where('transaction_id', 'in', [...ids])
        .orderBy('id')
        .execute();
    await waitUntil(
      'every business event published',
      async () => (await rows()).every((r) => r.state === 'done'),
      {
        diagnostics: () => outputs(w.processes, 30),
      },
    );
    const written = new Map<string, string[]>();
    for (const row of await rows()) {
      const { event } = row.payload as { event: MooringEvent };
      written.set(row.transaction_id!, [...(written.get(row.transaction_id!) ?? []), event.id]);
    }
    const received = new Map<string, string[]>();
    for (const event of await readStream<MooringEvent>(nats.url, businessEventsStreamName(w.natsPrefix))) {
      const id = (event.payload.transaction as { id: string } | undefined)?.id;
      if (id === undefined || !ids.includes(id)) continue;
      const seen = received.get(id) ?? [];
      if (!seen.includes(event.id)) received.set(id, [...seen, event.id]);
    }
    // Each transaction changed after it was made (credited, paid out, completed): its events exist.
    expect(ids.filter((id) => (written.get(id)?.length ?? 0) < 3)).toEqual([]);
    expect(ids.map((id) => received.get(id) ?? [])).toEqual(ids.map((id) => written.get(id)));
  }

  async function waitAllCompleted(w: World, ids: readonly string[], timeoutMs = 60_000) {
    await waitUntil(
      `all ${ids.length} completed`,
      async () => (await countWithStatus(w.db, ids, 'completed')) === ids.length,
      { timeoutMs, everyMs: 250, diagnostics: () => outputs(w.processes, 30) },
    );
  }

  it('PostgreSQL restarted during watcher catch-up and payouts: each payment credited once, each payout made once', async () => {
    world = await startWorld({
      database: postgresDatabase(pg.url),
      natsUrl: nats.url,
      config: { ...NO_KYC, watcher: { startFrom: 'beginning' } },
    });
    const w = world;
    const transactions = await createAwaitingTransactions(w.host, 40);
    const ids = transactions.map((t) => t.id);
    for (const t of transactions) pay(w.horizon, t); // all on Horizon already: the watcher catches up
    const { process: serve } = await startHttp(w, 'serve', ['serve']);

    await waitUntil(
      'the catch-up under way',
      async () => ids.length - (await countWithStatus(w.db, ids, 'pending_sender')) >= 10,
      { everyMs: 20, diagnostics: () => outputs(w.processes) },
    );
    await pg.stop('fast');
    await pause(3_000);
    await pg.start();

    await waitAllCompleted(w, ids);
    await expectPaidOutOnce(w, ids);
    expectAlive([serve]);
    expect(outageErrors(serve)).toEqual([]);
  }, 120_000);

  it('NATS stopped for 30 s during a burst: processes stay up, /ready 503 then 200, every event applied once', async () => {
    world = await startWorld({
      database: postgresDatabase(pg.url),
      natsUrl: nats.url,
      config: { ...NO_KYC, watcher: { startFrom: 'beginning' } },
    });
    const w = world;
    const transactions = await createAwaitingTransactions(w.host, 30);
    const ids = transactions.map((t) => t.id);
    const { process: serve, base } = await startHttp(w, 'serve', ['serve']);
    const token = await sendingAnchorToken();

    for (const t of transactions.slice(0, 10)) pay(w.horizon, t);
    await waitUntil(
      'the first payments credited',
      async () => ids.length - (await countWithStatus(w.db, ids, 'pending_sender')) >= 5,
      { everyMs: 20, diagnostics: () => outputs(w.processes) },
    );
    const stoppedAt = Date.now();
    await nats.stop();
    for (const t of transactions.slice(10, 20)) pay(w.horizon, t);
    await waitUntil('/ready to say the bus is away', async () => (await readyStatus(base)) === 503, {
      timeoutMs: 15_000,
    });
    // A command cannot reach its actor: 503 with Retry-After, in bounded time.
    const during = await postBurst(base, token, { count: 1, concurrency: 1 });
    expect(during.answers.map((a) => [a.status, a.retryAfter !== null])).toEqual([[503, true]]);
    await pause(30_000 - (Date.now() - stoppedAt));
    await nats.start();
    for (const t of transactions.slice(20)) pay(w.horizon, t);

    await waitUntil('/ready to answer 200 again', async () => (await readyStatus(base)) === 200, {
      timeoutMs: 30_000,
      diagnostics: () => outputs(w.processes),
    });
    await waitAllCompleted(w, ids);
    await expectPaidOutOnce(w, ids);
    await expectBusinessEventsInOrder(w, ids);
    const after = await postBurst(base, token, { count: 3, concurrency: 3 });
    expect(after.answers.map((a) => a.status)).toEqual([201, 201, 201]);
    expectAlive([serve]);
    expect(outageErrors(serve)).toEqual([]);
  }, 150_000);

  it('kill -9 of the http, relay, poll-outgoing and expire roles, each restarted: nothing lost, nothing twice', async () => {
    // The watcher, the actor host and the payout worker have their kill tests in reliability.test.ts.
    let sandboxJson: string | undefined;
    world = await startWorld({
      database: postgresDatabase(pg.url),
      natsUrl: nats.url,
      config: {
        ...NO_KYC,
        rails: { kind: 'reference', payoutDelaySeconds: 2 }, // pending at the rails until a poll
        watcher: { startFrom: 'beginning' },
        workers: { expireIntervalSeconds: 1 },
      },
      sandboxJson: () => sandboxJson,
    });
    const w = world;
    const receiver = await startCallbackReceiver();
    try {
      // Sandbox mode (local callback URLs allowed): the first process makes the secrets, the rest share them.
      const port = await freePort();
      let http = (await startHttp(w, 'http', ['serve', '--only', 'http'], { port })).process;
      const base = `http://127.0.0.1:${port}`;
      sandboxJson = await readFile(join(http.dataDir, 'sandbox.json'), 'utf8');
      const token = await sendingAnchorToken((JSON.parse(sandboxJson) as { jwtSecret: string }).jwtSecret);
      const loop = ['--loop', '--interval', '1'];
      const roles: Record<string, string[]> = {
        actors: ['actors'],
        relay: ['serve', '--only', 'relay'],
        watcher: ['watch-transactions'],
        'execute-outgoing': ['execute-outgoing', ...loop],
        'poll-outgoing': ['poll-outgoing', ...loop],
        expire: ['serve', '--only', 'expire'],
      };
      const running: Record<string, WorldProcess> = {};
      const start = async (role: string, name = role) => {
        running[role] = await w.start(name, roles[role]!);
        await waitUntil(`${name} to start`, () => running[role]!.output().includes('mooring started'), {
          diagnostics: () => outputs(w.processes),
        });
      };
      const kill = async (role: string) => {
        running[role]!.child.kill('SIGKILL');
        expect(await running[role]!.stop()).toBeNull();
      };
      await Promise.all(Object.keys(roles).map((role) => start(role)));
      // Unpaid, due in a few seconds: the expire role ends them (it is killed before they are due).
      const expiring = await createAwaitingTransactions(w.host, 5, { expiresInMs: 4_000 });
      await kill('expire');

      // http: killed mid-burst, restarted on the same port; a lost answer is a refused connection (0).
      const burst = await postBurst(base, token, {
        count: 40,
        concurrency: 8,
        after: 15,
        midway: async () => {
          http.child.kill('SIGKILL');
          await http.stop();
          http = (await startHttp(w, 'http-2', ['serve', '--only', 'http'], { port })).process;
        },
      });
      await burst.midway;
      expect(burst.answers.filter((a) => a.status !== 201 && a.status !== 0)).toEqual([]);
      const created = burst.answers.filter((a) => a.status === 201).map((a) => createdId(a));
      const rows = await w.db
        .selectFrom('transactions')
        .select('id')
        .where(
          'id',
          'not in',
          expiring.map((t) => t.id),
        )
        .execute();
      expect(created.filter((id) => !rows.some((r) => r.id === id))).toEqual([]);
      expect(rows.length).toBeLessThanOrEqual(burst.answers.length);
      // The answers lost to the kill, asked again with their keys: one row per request, no orphan.
      await retryUnanswered(base, token, burst.answers);
      expectOneRowPerRequest(
        burst.answers,
        await w.db
          .selectFrom('transactions')
          .select('id')
          .where(
            'id',
            'not in',
            expiring.map((t) => t.id),
          )
          .execute(),
      );
      await start('expire', 'expire-2');

      // Callbacks for every created transaction, then each is paid as its 201 said.
      const paid: AwaitingTransaction[] = [];
      for (const answer of burst.answers.filter((a) => a.status === 201)) {
        const body = JSON.parse(answer.body) as { id: string; stellar_memo: string };
        const put = await fetch(`${base}/sep31/transactions/${body.id}/callback`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ url: receiver.url }),
        });
        expect(put.status).toBe(204);
        paid.push({
          id: body.id,
          memoHex: Buffer.from(body.stellar_memo, 'base64').toString('hex'),
          amountIn: '100',
        });
      }
      for (const t of paid) pay(w.horizon, t);
      const ids = paid.map((t) => t.id);

      // relay: killed once callbacks flow; the claims it held (callbacks, business events) are redone after
      // their lease (played here).
      await waitUntil('callbacks to flow', () => receiver.received.length >= 5, {
        diagnostics: () => outputs(w.processes),
      });
      await kill('relay');
      await w.db
        .updateTable('outbox')
        .set({ claim_expires_at: new Date(Date.now() - 1000) })
        .where('state', '=', 'in_flight')
        .where('kind', 'in', ['status_changed', 'event_nats'])
        .execute();
      await start('relay', 'relay-2');
      // poll-outgoing: killed while payouts wait at the rails.
      await waitUntil('a payout pending at the rails', async () => (await railsBookings(w.db)).count > 0, {
        diagnostics: () => outputs(w.processes),
      });
      await kill('poll-outgoing');
      await pause(1_000);
      await start('poll-outgoing', 'poll-outgoing-2');

      await waitAllCompleted(w, ids);
      await expectPaidOutOnce(w, ids);
      await expectBusinessEventsInOrder(w, ids);
      const expiringIds = expiring.map((t) => t.id);
      await waitUntil(
        'the unpaid ones expired',
        async () => (await countWithStatus(w.db, expiringIds, 'expired')) === 5,
        {
          diagnostics: () => outputs(w.processes),
        },
      );
      const expiries = await eventCounts(w.db, 'EXPIRE');
      expect(expiringIds.map((id) => expiries.get(id) ?? 0)).toEqual(expiringIds.map(() => 1));
      // Every completed transaction's callback delivered (at least once: a kill mid-delivery redoes it).
      await waitUntil(
        'every completed callback',
        () => {
          const completed = new Set(
            receiver.received
              .map((c) => JSON.parse(c.body) as { transaction: { id: string; status: string } })
              .filter((c) => c.transaction.status === 'completed')
              .map((c) => c.transaction.id),
          );
          return ids.every((id) => completed.has(id));
        },
        { diagnostics: () => outputs(w.processes) },
      );
      expectAlive(Object.values(running).concat(http));
    } finally {
      await receiver.close();
    }
  }, 180_000);
});
