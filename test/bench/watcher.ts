/**
 * Figure 2: the Horizon payment watcher catching up on a backlog, through the bus to the actors, with
 * every role of `mooring serve` running.
 *
 * Set-up (untimed): Mooring with every role but the watcher; `backlog` transactions created through its
 * bus (`waiting.ts`, naming the ACCEPTED sender and receiver), the outbox left quiet (whatever their
 * creation left for the relays carried out), ANALYZE, their payments appended to the fake Horizon after the account's stored
 * cursor (left there by figure 3's watcher, or the account's start), as if the watcher had been down
 * while they arrived.
 *
 * Baseline (same run, same database, same Horizon pages): the unavoidable work done by hand, serially:
 * fetch the pages from the stored cursor with the same SDK payment source the watcher uses
 * (`createHorizonPaymentSource`, 200 records per page, over HTTP from the fake) and write one row per
 * payment, one multi-row INSERT per page.
 *
 * Measured: Mooring started anew with every role (a restart after downtime); the clock runs from the
 * `startMooring` call (start-up included) until the database counts every payment of the backlog
 * credited to its transaction. Each credit reads the two customers and asks for its payout in the same
 * commit; the payout relay carries the payouts out meanwhile. After the clock, the relays get
 * AFTERWARDS_MS more (their rate is reported), then what is left is parked for the next figure.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { sql, type Kysely } from 'kysely';
import { firstValueFrom, from } from 'rxjs';
import { getCursor, type Database } from '../../src/db/index.ts';
import { createHorizonPaymentSource } from '../../src/stellar/horizon-payments-sdk.ts';
import { ROLES } from '../../src/main.ts';
import { spawnActors, waitForOwners, type ActorsChild } from './actor-hosts.ts';
import { ROLES_BUT_ACTORS, type BenchEnvironment } from './environments.ts';
import { waitForQuietOutbox, type Quieted } from './outbox-quiet.ts';
import { analyze, benchAsset, countCredited, createWaiting, seedPayments, waitForCount } from './waiting.ts';

export interface CatchUpSettings {
  /** Payments waiting in Horizon when the watcher starts. */
  backlog: number;
  /** Give up when the credited count has not moved for this long. */
  stallMs: number;
}

export interface CatchUpResult {
  setup: { transactions: number; createSeconds: number; seedSeconds: number; cursor: string; quiet: Quieted };
  baseline: { payments: number; pages: number; seconds: number; perSecond: number };
  watcher: {
    payments: number;
    seconds: number;
    perSecond: number;
    startSeconds: number;
    /** When the watcher's cursor reached the last payment (it had handed every credit to the bus). */
    cursorAtEndSeconds: number | null;
  };
  /** Payouts the actors requested while crediting (both customers ACCEPTED: in the same commit). */
  payoutsRequested: number;
  /** After the clock stopped: the effects still owed (mostly payouts) and how long the relays took. */
  afterwards: Quieted;
  /** The machine's 1-minute load average when the clock stopped. */
  load1: number;
}

const PAGE_LIMIT = 200;
/** Long enough to see the payout relay's pace, short enough not to wait for a 10,000-payout backlog. */
const AFTERWARDS_MS = 30_000;

/**
 * `split`: the actors in a child process (`mooring actors`, started and owning every partition before the
 * clock starts), every other role in this one, as a NATS deployment runs them; else every role here.
 */
export async function benchCatchUp(
  env: BenchEnvironment,
  settings: CatchUpSettings,
  options: { split?: boolean } = {},
): Promise<CatchUpResult> {
  const account = benchAsset(env.config).distributionAccount;
  const prepared = await prepareBacklog(env, account, settings);

  let actors: ActorsChild | undefined;
  if (options.split) {
    actors = spawnActors(env);
    const probe = await env.start('catch-up probe', []);
    try {
      await waitForOwners(probe.db, probe.mooring.bus.stream, probe.mooring.bus.partitions, [actors]);
    } finally {
      await probe.stop();
    }
  }
  const started = performance.now();
  const run = await env.start('catch-up', options.split ? ROLES_BUT_ACTORS : ROLES);
  try {
    const cursorAtEnd = await waitForAllCredited(run.db, {
      account,
      lastId: prepared.created.waiting.at(-1)!.id,
      lastPagingToken: prepared.seeded.lastPagingToken,
      expected: prepared.creditedBefore + settings.backlog,
      stallMs: settings.stallMs,
    });
    const seconds = (performance.now() - started) / 1000;
    const load1 = loadavg()[0] ?? 0;
    const payoutsRequested = (await countPayoutEffects(run.db)) - prepared.payoutsBefore;
    const afterwards = await waitForQuietOutbox(run.db, AFTERWARDS_MS);
    return {
      setup: {
        transactions: settings.backlog,
        createSeconds: prepared.created.seconds,
        seedSeconds: prepared.seeded.seconds,
        cursor: prepared.cursor,
        quiet: prepared.quiet,
      },
      baseline: prepared.baseline,
      watcher: {
        payments: settings.backlog,
        seconds,
        perSecond: settings.backlog / seconds,
        startSeconds: run.startSeconds,
        cursorAtEndSeconds: cursorAtEnd === null ? null : (cursorAtEnd - started) / 1000,
      },
      payoutsRequested,
      afterwards,
      load1,
    };
  } finally {
    await run.stop();
    await actors?.stop();
  }
}

/**
 * The untimed set-up and the baseline, in a Mooring with every role but the watcher (which would credit
 * the payments as they are seeded); stopped before the measured one starts: on PGlite only one may have
 * the data dir open.
 */
async function prepareBacklog(env: BenchEnvironment, account: string, settings: CatchUpSettings) {
  const setup = await env.start(
    'catch-up set-up',
    ROLES.filter((role) => role !== 'watcher'),
  );
  try {
    const created = await createWaiting(setup.db, setup.mooring.bus, env, settings.backlog, settings.stallMs);
    const quiet = await waitForQuietOutbox(setup.db);
    await analyze(setup.db);
    const seeded = seedPayments(env.horizon, env.config, created.waiting);
    const cursor = (await getCursor(setup.db, account)) ?? '0';
    const creditedBefore = await countCredited(setup.db, account);
    const payoutsBefore = await countPayoutEffects(setup.db);
    const baseline = await fetchAndInsert(setup.db, env.horizon.url, account, cursor);
    if (baseline.payments !== settings.backlog) {
      throw new Error(
        `the baseline read ${baseline.payments} payments after cursor ${cursor}, expected ${settings.backlog}`,
      );
    }
    return { created, seeded, cursor, quiet, creditedBefore, payoutsBefore, baseline };
  } finally {
    await setup.stop();
  }
}

/**
 * Polls cheaply while the watcher works (is the backlog's last transaction credited, has the watcher's
 * cursor reached the last payment? every 10 ms; the full count every 250 ms), then the full count every
 * 10 ms once the last one is in: the end is seen within a few milliseconds without the polling costing
 * the watcher much. Returns when the cursor was first seen at the end (performance.now()), if it was.
 */
async function waitForAllCredited(
  db: Kysely<Database>,
  target: { account: string; lastId: string; lastPagingToken: string; expected: number; stallMs: number },
): Promise<number | null> {
  const { account } = target;
  let lastSeen = false;
  let lastCount = 0;
  /** The latest full count (the stall check needs a real number every time). */
  let credited = 0;
  let cursorAtEnd: number | null = null;
  const count = async () => {
    if (cursorAtEnd === null && (await getCursor(db, account)) === target.lastPagingToken) {
      cursorAtEnd = performance.now();
    }
    if (!lastSeen) {
      const row = await db
        .selectFrom('transactions')
        .select('stellar_operation_id')
        .where('id', '=', target.lastId)
        .executeTakeFirst();
      lastSeen = row?.stellar_operation_id != null;
      if (!lastSeen && performance.now() - lastCount < 250) return credited;
      lastCount = performance.now();
    }
    credited = await countCredited(db, account);
    return credited;
  };
  const explain = async () => `credited: ${await countCredited(db, account)}`;
  await waitForCount(count, target.expected, target.stallMs, explain, 10);
  return cursorAtEnd;
}

/** The baseline: the same pages, serially, one multi-row INSERT per page. */
async function fetchAndInsert(
  db: Kysely<Database>,
  horizonUrl: string,
  account: string,
  startCursor: string,
): Promise<CatchUpResult['baseline']> {
  await sql`create table if not exists bench_payments (
    operation_id text primary key,
    transaction_hash text not null,
    from_account text,
    amount numeric not null,
    asset_code text,
    memo_type text,
    memo text,
    created_at timestamptz not null
  )`.execute(db);
  const source = createHorizonPaymentSource(horizonUrl, { appName: 'mooring-bench' });
  const started = performance.now();
  let cursor = startCursor;
  let payments = 0;
  let pages = 0;
  for (;;) {
    const { records } = await firstValueFrom(from(source.page(account, cursor, PAGE_LIMIT)));
    if (records.length === 0) break;
    pages += 1;
    const rows = records.map(
      (r) =>
        sql`(${r.id}, ${r.transaction_hash}, ${r.from ?? null}, ${r.amount ?? '0'}, ${r.asset_code ?? null},
          ${r.transaction_attr?.memo_type ?? null}, ${r.transaction_attr?.memo ?? null}, ${r.created_at})`,
    );
    await sql`insert into bench_payments values ${sql.join(rows)}`.execute(db);
    payments += records.length;
    cursor = records.at(-1)!.paging_token;
    // A short page is the end of the history.
    if (records.length < PAGE_LIMIT) break;
  }
  const seconds = (performance.now() - started) / 1000;
  return { payments, pages, seconds, perSecond: payments / seconds };
}

async function countPayoutEffects(db: Kysely<Database>): Promise<number> {
  const { n } = await db
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('kind', '=', 'execute_payout')
    .executeTakeFirstOrThrow();
  return Number(n);
}
