/**
 * Parts 2 and 3: the Horizon payment watcher (`src/watcher/`) against the fake Horizon over real HTTP
 * (REST pages for catch-up, then SSE), crediting transactions through the real actor host.
 *
 * - Catch-up: `backlog` transactions wait in pending_sender with hash memos (created through
 *   `host.create` with ACCOUNT_ASSIGNED, as the POST does); the matching payments are seeded in Horizon;
 *   the watcher starts from the beginning of the account's history and is timed until the database
 *   counts every transaction in pending_receiver.
 * - Latency: with the watcher caught up and on the live stream, payments are appended one at a time; each
 *   is timed from the append to the moment a poll of the row (every 2 ms) sees pending_receiver, and to
 *   the watcher's `onOutcome` (called once the outcome committed, without polling).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Asset, Keypair, Memo } from '@stellar/stellar-sdk';
import { sql } from 'kysely';
import { createHorizonPaymentSource } from '../../src/stellar/horizon-payments-sdk.ts';
import { startPaymentWatcher, type PaymentWatcher } from '../../src/watcher/index.ts';
import { startFakeHorizon } from '../fakes/fake-horizon.ts';
import { ISSUER, transactionInput } from '../fixtures/transactions.ts';
import type { BenchEnvironment } from './environments.ts';
import { inParallel, median, pause, percentile } from './stats.ts';

export interface WatcherBenchSettings {
  /** Payments waiting in Horizon when the watcher starts. */
  backlog: number;
  /** Payments appended one at a time once caught up. */
  latencySamples: number;
  /** `host.create` calls in flight while setting up. */
  createConcurrency: number;
  /** Give up when the credited count has not moved for this long. */
  stallMs: number;
}

export interface WatcherBenchResult {
  /** Set-up, not timed in the figures: `host.create` calls, Horizon seeding, then ANALYZE. */
  setup: { transactions: number; createSeconds: number; seedSeconds: number };
  catchUp: { payments: number; seconds: number; perSecond: number };
  latency: {
    samples: number;
    /** Append → a poll of the row sees pending_receiver. */
    polledMedianMs: number;
    polledP99Ms: number;
    /** Append → the watcher's onOutcome (the commit is done). */
    committedMedianMs: number;
    committedP99Ms: number;
    /** The fake's own cost of building, signing and appending one payment (inside the figures above). */
    appendMedianMs: number;
  };
  /** Warnings and errors the watcher logged (should be none). */
  trouble: string[];
}

const USDC = new Asset('USDC', ISSUER);
const AMOUNT = '100'; // transactionInput(): 100 USDC in

interface Waiting {
  id: string;
  memo: Buffer;
}

export async function benchWatcher(
  env: BenchEnvironment,
  settings: WatcherBenchSettings,
): Promise<WatcherBenchResult> {
  const horizon = await startFakeHorizon();
  const account = Keypair.random().publicKey();
  const sender = Keypair.random();
  const trouble: string[] = [];
  const committedAt = new Map<string, number>();
  let watcher: PaymentWatcher | undefined;
  try {
    const total = settings.backlog + settings.latencySamples;
    const createStarted = performance.now();
    const waiting = await createWaiting(env, account, total, settings.createConcurrency);
    const createSeconds = (performance.now() - createStarted) / 1000;
    const backlog = waiting.slice(0, settings.backlog);
    const live = waiting.slice(settings.backlog);

    const seedStarted = performance.now();
    horizon.seedPayments(account, backlog.length, {
      from: sender,
      asset: USDC,
      amount: () => AMOUNT,
      memo: (i) => hashMemo(backlog[i]!.memo),
    });
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    // What autovacuum does in production soon after a bulk load. Without statistics (autovacuum off, as on
    // some test servers), PostgreSQL 15 plans the watcher's candidate lookup (account, memo type, memo IN
    // (base64, hex)) as a scan of every transaction of the account, which makes catch-up quadratic.
    await sql`analyze`.execute(env.db);

    // Catch-up.
    const started = performance.now();
    watcher = startPaymentWatcher({
      db: env.db,
      host: env.host,
      source: createHorizonPaymentSource(horizon.url),
      accounts: [account],
      log: {
        warn: (obj, msg) => void trouble.push(`warn: ${msg ?? ''} ${brief(obj)}`),
        error: (obj, msg) => void trouble.push(`error: ${msg ?? ''} ${brief(obj)}`),
      },
      silenceMs: 60_000,
      backoff: { initialMs: 100, maxMs: 2_000 },
      startFrom: 'beginning',
      pageLimit: 200,
      onOutcome: (_account, record, outcome) => {
        if (outcome.outcome === 'credited') committedAt.set(record.id, performance.now());
        else trouble.push(`outcome ${outcome.outcome}: ${JSON.stringify(outcome)}`);
      },
    });
    await waitForCredited(env, account, backlog.length, () => committedAt.size, settings.stallMs, trouble);
    const seconds = (performance.now() - started) / 1000;

    // Latency, on the live stream.
    await until(
      () => horizon.openStreams().some((s) => s.url.includes(account)),
      30_000,
      'an open SSE stream',
    );
    const polled: number[] = [];
    const committed: number[] = [];
    const appended: number[] = [];
    for (const tx of live) {
      const t0 = performance.now();
      const built = horizon.pay({
        from: sender,
        destination: account,
        asset: USDC,
        amount: AMOUNT,
        memo: hashMemo(tx.memo),
      });
      appended.push(performance.now() - t0);
      const operationId = built.operations[0]!.id;
      for (;;) {
        const row = await env.db
          .selectFrom('transactions')
          .select('status')
          .where('id', '=', tx.id)
          .executeTakeFirst();
        if (row?.status === 'pending_receiver') break;
        if (performance.now() - t0 > settings.stallMs)
          throw new Error(`payment ${operationId} never credited`);
        await pause(2);
      }
      polled.push(performance.now() - t0);
      await until(() => committedAt.has(operationId), 5_000, `onOutcome for ${operationId}`);
      committed.push(committedAt.get(operationId)! - t0);
    }
    return {
      setup: { transactions: total, createSeconds, seedSeconds },
      catchUp: { payments: backlog.length, seconds, perSecond: backlog.length / seconds },
      latency: {
        samples: live.length,
        polledMedianMs: median(polled),
        polledP99Ms: percentile(polled, 99),
        committedMedianMs: median(committed),
        committedP99Ms: percentile(committed, 99),
        appendMedianMs: median(appended),
      },
      trouble,
    };
  } finally {
    await watcher?.stop();
    await horizon.close();
  }
}

/** Transactions in pending_sender, each with a fresh hash memo on `account` (what POST /transactions makes). */
async function createWaiting(
  env: BenchEnvironment,
  account: string,
  count: number,
  concurrency: number,
): Promise<Waiting[]> {
  const waiting: Waiting[] = new Array<Waiting>(count);
  await inParallel(count, concurrency, async (i) => {
    const memo = randomBytes(32);
    const input = transactionInput();
    await env.host.create(input, {
      eventId: 'create',
      then: [
        {
          type: 'ACCOUNT_ASSIGNED',
          at: input.startedAt,
          stellarAccountId: account,
          stellarMemoType: 'hash',
          stellarMemo: memo.toString('base64'),
        },
      ],
    });
    waiting[i] = { id: input.id, memo };
  });
  return waiting;
}

const hashMemo = (memo: Buffer) => Memo.hash(memo.toString('hex'));

/**
 * Polls the database count of credited transactions on `account` until it reaches `expected`: every 200 ms,
 * and at once when the watcher reports the last outcome (so the poll costs the watcher little and the end
 * is seen within milliseconds).
 */
async function waitForCredited(
  env: BenchEnvironment,
  account: string,
  expected: number,
  reported: () => number,
  stallMs: number,
  trouble: string[],
): Promise<void> {
  let last = -1;
  let lastChange = performance.now();
  let lastPoll = 0;
  for (;;) {
    if (reported() >= expected || performance.now() - lastPoll >= 200) {
      lastPoll = performance.now();
      const { n } = await env.db
        .selectFrom('transactions')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('stellar_account_id', '=', account)
        .where('status', '=', 'pending_receiver')
        .executeTakeFirstOrThrow();
      const credited = Number(n);
      if (credited >= expected) return;
      if (credited !== last) {
        last = credited;
        lastChange = performance.now();
      } else if (performance.now() - lastChange > stallMs) {
        throw new Error(
          `watcher stalled at ${credited}/${expected} credited; it logged: ${trouble.slice(0, 5).join(' | ') || 'nothing'}`,
        );
      }
    }
    await pause(2);
  }
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await pause(2);
  }
}

function brief(obj: object): string {
  const { err, ...rest } = obj as { err?: unknown };
  const text = JSON.stringify(rest);
  return `${text.length > 300 ? `${text.slice(0, 300)}…` : text}${err ? ` err=${(err as Error).message ?? String(err)}` : ''}`;
}
