/**
 * `npm run bench`: Mooring as a user sees it, composed by `startMooring` (src/main.ts) from a Config that
 * `loadConfig` reads, on the embedded defaults (PGlite on disk + in-process bus) and on PostgreSQL + NATS.
 * Every figure is a ratio to a baseline measured in the same run, on the same database and machine, with
 * the raw numbers beside it:
 * 1. POST /sep31/transactions throughput vs a bare Fastify server doing one INSERT per POST;
 * 2. watcher catch-up of a backlog through the bus vs fetching the same Horizon pages and inserting them;
 * 3. payment on the live stream → payout call at the rails (p50, p99) vs one bare POST + INSERT round trip;
 * 4. (PostgreSQL + NATS) POST throughput with the actors in two child processes vs one.
 *
 * A benchmark, not a test: nothing here runs in `npm test`. Smaller runs: BENCH_POSTS, BENCH_ROUNDS,
 * BENCH_CONCURRENCY, BENCH_BACKLOG, BENCH_LATENCY_SAMPLES. PostgreSQL and NATS come from DATABASE_URL
 * and NATS_URL (defaults: local servers); when one cannot be reached, that section is printed as skipped.
 */
import { performance } from 'node:perf_hooks';
import { benchActorHosts, type HostsResult } from './actor-hosts.ts';
import {
  openEmbedded,
  openPostgresNats,
  type BenchEnvironment,
  type OpenedEnvironment,
} from './environments.ts';
import { describeMachine, machineLine } from './machine.ts';
import { benchPayoutLatency, type LatencyResult, type LatencySettings } from './payout-latency.ts';
import { benchPostTransactions, type PostBenchResult, type PostBenchSettings } from './post-transactions.ts';
import { fixed } from './stats.ts';
import { errorMessage } from './teardown.ts';
import { benchCatchUp, type CatchUpResult, type CatchUpSettings } from './watcher.ts';

const numberFromEnv = (name: string, fallback: number) => {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
};

const posts: PostBenchSettings = {
  count: numberFromEnv('BENCH_POSTS', 2_000),
  concurrency: numberFromEnv('BENCH_CONCURRENCY', 16),
  warmup: Math.min(200, numberFromEnv('BENCH_POSTS', 2_000)),
  rounds: numberFromEnv('BENCH_ROUNDS', 2),
  serialCount: 500,
};
const catchUp: CatchUpSettings = { backlog: numberFromEnv('BENCH_BACKLOG', 10_000), stallMs: 60_000 };
const latency: LatencySettings = {
  samples: numberFromEnv('BENCH_LATENCY_SAMPLES', 200),
  warmup: 10,
  timeoutMs: 30_000,
};
/** The issue's targets, on PostgreSQL + NATS on a 2-core machine. */
const CATCH_UP_TARGET = 1_500;
const P99_TARGET_MS = 250;

type Outcome<T> = { ok: T; seconds: number } | { failed: string; seconds: number } | { skipped: string };

interface Measured {
  name: BenchEnvironment['name'];
  label: string;
  note: string;
  seconds: number;
  post: Outcome<PostBenchResult>;
  latency: Outcome<LatencyResult>;
  catchUp: Outcome<CatchUpResult>;
  /** The same catch-up with the watcher and the actors in separate processes (NATS only). */
  catchUpSplit: Outcome<CatchUpResult>;
  hosts: Outcome<HostsResult>;
  trouble: BenchEnvironment['trouble'];
}

type Section = Measured | { name: BenchEnvironment['name']; label: string; skipped: string };

async function attempt<T>(what: string, work: () => Promise<T>): Promise<Outcome<T>> {
  progress(what);
  const started = performance.now();
  try {
    return { ok: await work(), seconds: (performance.now() - started) / 1000 };
  } catch (error) {
    progress(`  failed: ${errorMessage(error)}`);
    return { failed: errorMessage(error), seconds: (performance.now() - started) / 1000 };
  }
}

async function section(open: () => Promise<OpenedEnvironment>): Promise<Section> {
  const opened = await open();
  if ('skipped' in opened) return { name: opened.name, label: opened.label, skipped: opened.skipped };
  const env = opened.opened;
  current = env;
  const started = performance.now();
  try {
    const post = await attempt(
      `${env.name}: 1. POST /sep31/transactions vs baseline (${posts.rounds} × ${posts.count} each)`,
      () => benchPostTransactions(env, posts),
    );
    // Before the catch-up: its payouts (one per credited payment) would keep this figure's payout relay busy.
    const paid = await attempt(`${env.name}: 3. payment → rails, ${latency.samples} payments`, () =>
      benchPayoutLatency(env, latency),
    );
    const caught = await attempt(`${env.name}: 2. watcher catch-up of ${catchUp.backlog} payments`, () =>
      benchCatchUp(env, catchUp),
    );
    const caughtSplit: Outcome<CatchUpResult> =
      env.name === 'postgres+nats'
        ? await attempt(`${env.name}: 2b. catch-up, watcher and actors in separate processes`, () =>
            benchCatchUp(env, catchUp, { split: true }),
          )
        : { skipped: 'needs NATS: the in-process bus reaches no other process' };
    const hosts: Outcome<HostsResult> =
      env.name === 'postgres+nats'
        ? await attempt(`${env.name}: 4. POST with actors in 1 then 2 child processes`, () =>
            benchActorHosts(env, posts),
          )
        : { skipped: 'needs NATS: the in-process bus reaches no other process' };
    return {
      name: env.name,
      label: env.label,
      note: env.note,
      seconds: (performance.now() - started) / 1000,
      post,
      latency: paid,
      catchUp: caught,
      catchUpSplit: caughtSplit,
      hosts,
      trouble: env.trouble,
    };
  } finally {
    current = null;
    await env.close();
  }
}

/** The environment being measured: on Ctrl-C its children, database, stream and folders still go. */
let current: BenchEnvironment | null = null;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: cleaning up (again to quit at once)\n`);
    void (current?.close() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

function progress(message: string): void {
  process.stderr.write(`… ${message}\n`);
}

const rate = (perSecond: number, unit: string) => `${Math.round(perSecond).toLocaleString('en-US')} ${unit}`;
const times = (ratio: number) => `${ratio >= 10 ? fixed(ratio, 0) : fixed(ratio, 2)}×`;
const count = (n: number) => n.toLocaleString('en-US');
const verdict = (met: boolean) => (met ? 'target met' : 'target MISSED');

function cell<T>(outcome: Outcome<T>, show: (value: T) => string): string {
  if ('ok' in outcome) return show(outcome.ok);
  if ('failed' in outcome) return 'failed (see below)';
  return '—';
}

/** Both outcomes there: the figure against its baseline. */
function pair<A, B>(a: Outcome<A>, b: Outcome<B>, show: (a: A, b: B) => string): string {
  if ('ok' in a && 'ok' in b) return show(a.ok, b.ok);
  if ('failed' in a || 'failed' in b) return 'failed (see below)';
  return '—';
}

/** The compact table: one column per environment, each cell `ratio (raw)`. */
function table(sections: Section[]): string {
  const measured = sections.filter((s): s is Measured => !('skipped' in s));
  const rows: [string, (s: Measured) => string][] = [
    [
      `1. POST /sep31/transactions, ${posts.concurrency} in flight`,
      (s) =>
        cell(
          s.post,
          (p) => `${times(p.app.perSecond / p.baseline.perSecond)} (${rate(p.app.perSecond, 'req/s')})`,
        ),
    ],
    [
      `   baseline: bare Fastify + 1 INSERT, ${posts.concurrency} in flight`,
      (s) => cell(s.post, (p) => `1× (${rate(p.baseline.perSecond, 'req/s')})`),
    ],
    [
      `2. Watcher catch-up, ${count(catchUp.backlog)} payments (target ≥ ${count(CATCH_UP_TARGET)}/s on PG + NATS)`,
      (s) =>
        cell(
          s.catchUp,
          (c) =>
            `${times(c.watcher.perSecond / c.baseline.perSecond)} (${rate(c.watcher.perSecond, 'payments/s')}` +
            `${s.name === 'postgres+nats' ? `, ${verdict(c.watcher.perSecond >= CATCH_UP_TARGET)}` : ''})`,
        ),
    ],
    [
      '   baseline: same Horizon pages, 1 multi-row INSERT per page',
      (s) => cell(s.catchUp, (c) => `1× (${rate(c.baseline.perSecond, 'payments/s')})`),
    ],
    [
      '2b. Catch-up, watcher and actors in two processes (as deployed on NATS)',
      (s) =>
        cell(
          s.catchUpSplit,
          (c) =>
            `${times(c.watcher.perSecond / c.baseline.perSecond)} (${rate(c.watcher.perSecond, 'payments/s')}, ` +
            `${verdict(c.watcher.perSecond >= CATCH_UP_TARGET)})`,
        ),
    ],
    [
      '   baseline: same Horizon pages, 1 multi-row INSERT per page',
      (s) => cell(s.catchUpSplit, (c) => `1× (${rate(c.baseline.perSecond, 'payments/s')})`),
    ],
    [
      '3. Payment on the live stream → rails payout call, p50',
      (s) =>
        pair(
          s.latency,
          s.post,
          (l, p) => `${times(l.toRails.p50 / p.baselineSerial.medianMs)} (${fixed(l.toRails.p50)} ms)`,
        ),
    ],
    [
      `3. Payment on the live stream → rails payout call, p99 (target < ${P99_TARGET_MS} ms)`,
      (s) =>
        pair(
          s.latency,
          s.post,
          (l, p) =>
            `${times(l.toRails.p99 / p.baselineSerial.p99Ms)} (${fixed(l.toRails.p99)} ms, ` +
            `${verdict(l.toRails.p99 < P99_TARGET_MS)})`,
        ),
    ],
    [
      '   baseline: bare POST + INSERT round trip, 1 in flight, p50 / p99',
      (s) =>
        cell(
          s.post,
          (p) => `1× (${fixed(p.baselineSerial.medianMs, 2)} / ${fixed(p.baselineSerial.p99Ms, 2)} ms)`,
        ),
    ],
    [
      `4. POST, actors in 2 processes ÷ 1 process (http in another), ${posts.concurrency} in flight`,
      (s) =>
        cell(
          s.hosts,
          (h) =>
            `${times(h.two.best.perSecond / h.one.best.perSecond)} (${rate(h.two.best.perSecond, 'req/s')} ` +
            `vs ${rate(h.one.best.perSecond, 'req/s')})`,
        ),
    ],
  ];
  const header = ['Figure (ratio to baseline, raw)', ...measured.map((s) => s.label)];
  const body = rows.map(([name, show]) => [name, ...measured.map(show)]);
  const widths = header.map((_, i) => Math.max(...[header, ...body].map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((text, i) => text.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

const ms = (r: { medianMs: number; p99Ms: number }) =>
  `median ${fixed(r.medianMs, 1)} ms, p99 ${fixed(r.p99Ms, 1)} ms`;
const rounds = (rs: { perSecond: number }[]) => rs.map((r) => Math.round(r.perSecond)).join(', ');

function figure<T>(title: string, outcome: Outcome<T>, lines: (value: T) => string[]): string[] {
  if ('skipped' in outcome) return [`  ${title}: skipped (${outcome.skipped})`];
  if ('failed' in outcome)
    return [`  ${title}: FAILED after ${fixed(outcome.seconds, 0)} s: ${outcome.failed}`];
  return [`  ${title} (${fixed(outcome.seconds, 0)} s):`, ...lines(outcome.ok).map((l) => `    ${l}`)];
}

function catchUpLines(c: CatchUpResult, running: string): string[] {
  return [
    running,
    `set-up (untimed): ${count(c.setup.transactions)} transactions created through the bus (publishMany of create ` +
      `messages, roles actors) in ${fixed(c.setup.createSeconds, 1)} s (${fixed(c.setup.transactions / c.setup.createSeconds, 0)}/s), ` +
      `then ANALYZE; ${count(c.watcher.payments)} payments seeded in the fake Horizon in ${fixed(c.setup.seedSeconds, 1)} s after cursor ${c.setup.cursor}`,
    `baseline: ${count(c.baseline.payments)} payments in ${c.baseline.pages} pages in ${fixed(c.baseline.seconds, 2)} s = ${fixed(c.baseline.perSecond, 0)} payments/s`,
    `watcher:  ${count(c.watcher.payments)} payments credited in ${fixed(c.watcher.seconds, 2)} s = ${fixed(c.watcher.perSecond, 0)} payments/s` +
      ` (target ≥ ${count(CATCH_UP_TARGET)}/s on PG + NATS); ${count(c.payoutsRequested)} payouts requested on the way (no KYC configured)`,
    c.watcher.cursorAtEndSeconds === null
      ? 'the watcher cursor was not seen at the last payment before everything was credited'
      : `the watcher's cursor reached the last payment after ${fixed(c.watcher.cursorAtEndSeconds, 2)} s ` +
        '(every credit handed to the bus; the rest is the actors catching up)',
  ];
}

function details(s: Measured): string {
  const inProcessActors = s.name === 'embedded' ? ' (actors: startMooring adds them to any role here)' : '';
  return [
    `${s.label} (${fixed(s.seconds, 0)} s; ${s.note}):`,
    ...figure('1. POST /sep31/transactions', s.post, (p) => [
      `running: Mooring roles http + actors in this process${inProcessActors}, started in ${fixed(p.startSeconds, 2)} s; ` +
        'the load driver and the baseline server share the process',
      `Mooring:  rounds ${rounds(p.appRounds)} req/s; per request ${ms(p.app)}`,
      `baseline: rounds ${rounds(p.baselineRounds)} req/s; per request ${ms(p.baseline)}`,
      `baseline, 1 in flight: ${fixed(p.baselineSerial.perSecond, 0)} req/s over ${p.baselineSerial.count}; ${ms(p.baselineSerial)}`,
    ]),
    ...figure('2. Watcher catch-up', s.catchUp, (c) =>
      catchUpLines(
        c,
        `running: Mooring roles watcher + actors in this process, started anew (startMooring took ${fixed(c.watcher.startSeconds, 2)} s, inside the time)`,
      ),
    ),
    ...figure('2b. Watcher catch-up, two processes', s.catchUpSplit, (c) =>
      catchUpLines(
        c,
        `running: Mooring role watcher in this process (started anew, ${fixed(c.watcher.startSeconds, 2)} s inside the time); ` +
          'role actors in a child process (node bin/mooring.js actors), running and owning every partition before the clock starts',
      ),
    ),
    ...figure('3. Payment on the live stream → rails payout call', s.latency, (l) => [
      'running: Mooring roles actors + watcher + execute-outgoing, default intervals (execute-outgoing 10 s, ' +
        'poll-outgoing 60 s; the payout relay wakes on outbox.execute_payout), reference rails, no KYC types',
      `${l.samples} payments one at a time after ${latency.warmup} warm-up (set-up ${fixed(l.setupSeconds, 1)} s), polled every 2 ms:`,
      `append → rails called:     p50 ${fixed(l.toRails.p50, 1)} ms, p99 ${fixed(l.toRails.p99, 1)} ms, max ${fixed(l.toRails.max, 1)} ms (target p99 < ${P99_TARGET_MS} ms)`,
      `append → watcher cursor:   p50 ${fixed(l.toCursor.p50, 1)} ms, p99 ${fixed(l.toCursor.p99, 1)} ms, max ${fixed(l.toCursor.max, 1)} ms ` +
        `(the bus held the credit: ${s.name === 'embedded' ? 'in-process, applied' : 'NATS, stored'})`,
      `append → credit committed: p50 ${fixed(l.toCredited.p50, 1)} ms, p99 ${fixed(l.toCredited.p99, 1)} ms, max ${fixed(l.toCredited.max, 1)} ms`,
      `of which the fake's append (build, sign, push): median ${fixed(l.appendMedianMs, 2)} ms`,
      ...(s.name === 'embedded'
        ? [
            'PGlite runs one statement at a time, on this thread: a poll waits behind the watcher, the actors and ' +
              'the relay, so it often sees the three moments at once',
          ]
        : []),
    ]),
    ...figure('4. POST with actors in child processes', s.hosts, (h) => [
      'running: Mooring role http in this process (with the load driver), role actors in 1 then 2 child processes ' +
        '(node bin/mooring.js actors)',
      `1 child:  rounds ${rounds(h.one.rounds)} req/s; best ${ms(h.one.best)}; partitions ${h.one.owned.join(' + ')}, owned ${fixed(h.one.ownSeconds, 1)} s after spawning`,
      `2 children: rounds ${rounds(h.two.rounds)} req/s; best ${ms(h.two.best)}; partitions ${h.two.owned.join(' + ')}, shared ${fixed(h.two.ownSeconds, 1)} s after spawning the second`,
    ]),
    s.trouble.count === 0
      ? '  Mooring logged no warnings or errors.'
      : `  Mooring logged ${s.trouble.count} warnings/errors; first: ${s.trouble.kept.slice(0, 5).join(' | ')}`,
  ].join('\n');
}

async function main(): Promise<void> {
  const machine = describeMachine();
  console.log(`Mooring benchmark — ${new Date().toISOString()}`);
  console.log(`Machine: ${machineLine(machine)}`);
  console.log(`Load average (1 min) at start: ${machine.load1}`);
  console.log(
    `Settings: ${posts.rounds} rounds × ${posts.count} POSTs (${posts.concurrency} in flight, best round kept, ` +
      `${posts.warmup} warm-up), watcher backlog ${catchUp.backlog}, ${latency.samples} latency samples\n`,
  );
  const sections: Section[] = [];
  for (const open of [openEmbedded, () => openPostgresNats()]) sections.push(await section(open));

  console.log(table(sections));
  console.log(`\nLoad average (1 min): ${machine.load1} at start, ${describeMachine().load1} at end.`);
  console.log('');
  for (const s of sections) {
    console.log('skipped' in s ? `${s.label}: SKIPPED — ${s.skipped}` : details(s));
  }
  console.log(
    '\nRatios: throughput ÷ baseline throughput (higher is faster); latency ÷ baseline round trip, p50 by p50 and ' +
      'p99 by p99 (lower is better); 4 is two hosts ÷ one.' +
      '\nOrder in each section: 1, 3, 2, 4 (the catch-up leaves a payout per payment behind).' +
      '\nThe load driver and the fake Horizon run in this process, sharing the CPU with the Mooring under test.',
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error('benchmark failed:', error);
    process.exit(1);
  },
);
