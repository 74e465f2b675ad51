/**
 * `npm run bench`: Mooring's throughput and latency on the embedded defaults (PGlite + in-process bus) and
 * on PostgreSQL + NATS, each figure as a ratio to a baseline measured in the same run on the same database
 * (a bare Fastify server doing one single-row INSERT per POST), plus the raw numbers and the machine.
 *
 * A benchmark, not a test: nothing here runs in `npm test`. Sizes can be lowered for a quick look with
 * BENCH_POSTS, BENCH_ROUNDS, BENCH_CONCURRENCY, BENCH_BACKLOG and BENCH_LATENCY_SAMPLES.
 * PostgreSQL and NATS come from DATABASE_URL and NATS_URL (defaults: local servers); when one cannot be
 * reached, that section is printed as skipped, with the reason.
 */
import { performance } from 'node:perf_hooks';
import {
  openEmbedded,
  openPostgresNats,
  type BenchEnvironment,
  type OpenedEnvironment,
} from './environments.ts';
import { describeMachine, machineLine } from './machine.ts';
import { benchPostTransactions, type PostBenchResult, type PostBenchSettings } from './post-transactions.ts';
import { fixed } from './stats.ts';
import { benchWatcher, type WatcherBenchResult, type WatcherBenchSettings } from './watcher.ts';

const numberFromEnv = (name: string, fallback: number) => {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
};

const posts: PostBenchSettings = {
  count: numberFromEnv('BENCH_POSTS', 2_000),
  concurrency: numberFromEnv('BENCH_CONCURRENCY', 16),
  warmup: 200,
  rounds: numberFromEnv('BENCH_ROUNDS', 2),
  serialCount: 500,
};
const watcher: WatcherBenchSettings = {
  backlog: numberFromEnv('BENCH_BACKLOG', 10_000),
  latencySamples: numberFromEnv('BENCH_LATENCY_SAMPLES', 200),
  createConcurrency: 8,
  stallMs: 60_000,
};

type Section =
  | { name: string; label: string; skipped: string }
  | {
      name: string;
      label: string;
      note: string;
      post: PostBenchResult;
      watcher: WatcherBenchResult;
      seconds: number;
    };

async function section(open: () => Promise<OpenedEnvironment>): Promise<Section> {
  const opened = await open();
  if ('skipped' in opened) return { name: opened.name, label: opened.label, skipped: opened.skipped };
  const env: BenchEnvironment = opened.opened;
  current = env;
  const started = performance.now();
  try {
    progress(`${env.name}: POST /sep31/transactions vs baseline (${posts.rounds} × ${posts.count} each)`);
    const post = await benchPostTransactions(env, posts);
    progress(`${env.name}: watcher catch-up (${watcher.backlog}) and latency (${watcher.latencySamples})`);
    const watched = await benchWatcher(env, watcher);
    return {
      name: env.name,
      label: env.label,
      note: env.note,
      post,
      watcher: watched,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    current = null;
    await env.close();
  }
}

/** The environment being measured: on Ctrl-C its database and stream are still removed. */
let current: BenchEnvironment | null = null;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: cleaning up\n`);
    void (current?.close() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

function progress(message: string): void {
  process.stderr.write(`… ${message}\n`);
}

const rate = (perSecond: number, unit: string) => `${Math.round(perSecond).toLocaleString('en-US')} ${unit}`;
const times = (ratio: number) => `${ratio >= 10 ? fixed(ratio, 0) : fixed(ratio, 2)}×`;

/** The compact table: one column per environment, each cell `ratio (raw)`. */
function table(sections: Section[]): string {
  const measured = sections.filter((s): s is Exclude<Section, { skipped: string }> => !('skipped' in s));
  const rows: [string, (s: (typeof measured)[number]) => string][] = [
    [
      `POST /sep31/transactions, ${posts.concurrency} in flight`,
      (s) =>
        `${times(s.post.app.perSecond / s.post.baseline.perSecond)} (${rate(s.post.app.perSecond, 'req/s')})`,
    ],
    [
      `  baseline: bare Fastify + 1 INSERT, ${posts.concurrency} in flight`,
      (s) => `1× (${rate(s.post.baseline.perSecond, 'req/s')})`,
    ],
    [
      `Watcher catch-up, ${watcher.backlog.toLocaleString('en-US')} payments`,
      (s) =>
        `${times(s.watcher.catchUp.perSecond / s.post.baselineSerial.perSecond)} (${rate(s.watcher.catchUp.perSecond, 'payments/s')})`,
    ],
    [
      '  baseline: bare Fastify + 1 INSERT, 1 in flight',
      (s) => `1× (${rate(s.post.baselineSerial.perSecond, 'req/s')})`,
    ],
    [
      'Payment in stream → pending_receiver, median',
      (s) =>
        `${times(s.watcher.latency.polledMedianMs / s.post.baselineSerial.medianMs)} (${fixed(s.watcher.latency.polledMedianMs)} ms)`,
    ],
    [
      'Payment in stream → pending_receiver, p99',
      (s) =>
        `${times(s.watcher.latency.polledP99Ms / s.post.baselineSerial.medianMs)} (${fixed(s.watcher.latency.polledP99Ms)} ms)`,
    ],
    [
      '  baseline: one bare POST + INSERT round trip, median',
      (s) => `1× (${fixed(s.post.baselineSerial.medianMs, 2)} ms)`,
    ],
  ];
  const header = ['Figure (ratio to baseline, raw)', ...measured.map((s) => s.label)];
  const body = rows.map(([name, cell]) => [name, ...measured.map(cell)]);
  const widths = header.map((_, i) => Math.max(...[header, ...body].map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

function details(s: Exclude<Section, { skipped: string }>): string {
  const ms = (r: { medianMs: number; p99Ms: number }) =>
    `median ${fixed(r.medianMs, 1)} ms, p99 ${fixed(r.p99Ms, 1)} ms`;
  const rounds = (rs: { perSecond: number }[]) => rs.map((r) => Math.round(r.perSecond)).join(', ');
  const w = s.watcher;
  return [
    `${s.label} (${fixed(s.seconds, 0)} s; ${s.note}):`,
    `  POST /sep31/transactions: rounds ${rounds(s.post.appRounds)} req/s; per request ${ms(s.post.app)}`,
    `  baseline POST + INSERT:   rounds ${rounds(s.post.baselineRounds)} req/s; per request ${ms(s.post.baseline)}`,
    `  baseline, 1 in flight:    ${fixed(s.post.baselineSerial.perSecond, 0)} req/s over ${s.post.baselineSerial.count}; ${ms(s.post.baselineSerial)}`,
    `  watcher set-up (untimed): ${w.setup.transactions} × host.create in ${fixed(w.setup.createSeconds)} s ` +
      `(${fixed(w.setup.transactions / w.setup.createSeconds, 0)}/s); ${w.catchUp.payments} payments seeded in ${fixed(w.setup.seedSeconds)} s; then ANALYZE`,
    `  watcher catch-up: ${w.catchUp.payments} payments in ${fixed(w.catchUp.seconds, 2)} s = ${fixed(w.catchUp.perSecond, 0)} payments/s`,
    `  latency over ${w.latency.samples} payments: polled (2 ms) median ${fixed(w.latency.polledMedianMs, 2)} ms, ` +
      `p99 ${fixed(w.latency.polledP99Ms, 2)} ms; at commit (onOutcome) median ${fixed(w.latency.committedMedianMs, 2)} ms, ` +
      `p99 ${fixed(w.latency.committedP99Ms, 2)} ms; of which the fake's append ${fixed(w.latency.appendMedianMs, 2)} ms`,
    ...(w.trouble.length > 0
      ? [`  watcher logged ${w.trouble.length} warnings/errors, first: ${w.trouble.slice(0, 3).join(' | ')}`]
      : []),
  ].join('\n');
}

async function main(): Promise<void> {
  const machine = describeMachine();
  console.log(`Mooring benchmark — ${new Date().toISOString()}`);
  console.log(`Machine: ${machineLine(machine)}`);
  console.log(
    `Settings: ${posts.rounds} rounds × ${posts.count} POSTs (${posts.concurrency} in flight, best round kept, ` +
      `${posts.warmup} warm-up), watcher backlog ${watcher.backlog}, ${watcher.latencySamples} latency samples\n`,
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
    '\nRatios: throughput ÷ baseline throughput (higher is faster); latency ÷ baseline round trip (lower is better).' +
      '\nThe catch-up is serial per account, so it is compared with the serial baseline.' +
      '\nThe load driver and the fake Horizon run in this process, sharing the CPU with the server under test.',
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error('benchmark failed:', error);
    process.exit(1);
  },
);
