/**
 * `npm run bench`: Mooring as a user sees it, composed by `startMooring` (src/main.ts) from a Config that
 * `loadConfig` reads, on the embedded defaults (PGlite on disk + in-process bus) and on PostgreSQL + NATS.
 * Each is a KYC deployment (SEP-12 types sep31-sender and sep31-receiver, a sender and a receiver
 * ACCEPTED through SEP-12 first) with the machine viewer on, and every figure runs all roles of
 * `mooring serve` (http, actors, relay, watcher against the fake Horizon, execute-outgoing,
 * poll-outgoing, expire), in this process or, where a figure says so, split across processes.
 * Every figure is a ratio to a baseline measured in the same run, on the same database and machine, with
 * the raw numbers, the target and the machine's 1-minute load average beside it:
 * 1. POST /sep31/transactions throughput vs a fair baseline: bare Fastify + Mooring's own SEP-10 JWT
 *    verification + the route's own body schema + one INSERT, both driven over HTTP in the same rounds;
 *    1b. p50 / p99 at 50 in flight vs the baseline at 50; 1c. throughput with the machine viewer open (an
 *    SSE client on its live endpoint) vs without; 1d. the process's largest event-loop stall during
 *    Mooring's POST runs vs during the baseline's; 1e. peak RSS vs idle after start;
 * 2. watcher catch-up of a backlog through the bus vs fetching the same Horizon pages and inserting them;
 * 3. payment on the live stream → payout call at the rails (p50, p99) vs one baseline POST round trip;
 * 4. (PostgreSQL + NATS) POST throughput with the actors in two child processes vs one;
 * 5. (PostgreSQL) every periodic query of the relays, workers and viewer on 1,000,000 transactions
 *    (test/bench/periodic-queries.ts; BENCH_PERIODIC_TRANSACTIONS, 0 to skip): median and max ms.
 * Between runs the benchmark waits for the relays to empty the outbox, and reports what each left. Each
 * environment is measured in a child process of its own (this file with BENCH_SECTION), so that one's
 * heap, JIT and RSS do not carry over into the other's figures; this process prints the report.
 *
 * A benchmark, not a test: nothing here runs in `npm test`. Smaller runs: BENCH_POSTS, BENCH_ROUNDS,
 * BENCH_CONCURRENCY, BENCH_BACKLOG, BENCH_LATENCY_SAMPLES. PostgreSQL and NATS come from DATABASE_URL
 * and NATS_URL (defaults: local servers); when one cannot be reached, that section is printed as skipped.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openEmbedded, openPostgresNats, type BenchEnvironment } from './environments.ts';
import { describeMachine, machineLine } from './machine.ts';
import type { LatencySettings } from './payout-latency.ts';
import type { PostBenchSettings } from './post-transactions.ts';
import { benchPeriodicQueries, DEFAULT_DATABASE_URL, periodicTable } from './periodic-queries.ts';
import { details, table, type Section, type Settings } from './report.ts';
import { cleanUpOnSignals, measureSection } from './section.ts';
import type { CatchUpSettings } from './watcher.ts';

const numberFromEnv = (name: string, fallback: number) => {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
};

const posts: PostBenchSettings = {
  count: numberFromEnv('BENCH_POSTS', 2_000),
  concurrency: numberFromEnv('BENCH_CONCURRENCY', 16),
  // The latency target is stated at 50 in flight.
  wideConcurrency: 50,
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
const settings: Settings = { posts, catchUp, latency };

type EnvironmentName = BenchEnvironment['name'];
const OPEN: Record<EnvironmentName, () => ReturnType<typeof openEmbedded>> = {
  embedded: openEmbedded,
  'postgres+nats': () => openPostgresNats(),
};

/** Child mode: measure the one environment named and write its Section as JSON for the parent. */
async function measureOne(name: EnvironmentName, out: string): Promise<void> {
  cleanUpOnSignals();
  const section = await measureSection(OPEN[name], settings);
  await writeFile(out, JSON.stringify(section));
}

/** Runs this file for one environment in a child process (progress on the same stderr); its Section. */
async function inChildProcess(name: EnvironmentName): Promise<Section> {
  const dir = await mkdtemp(join(tmpdir(), 'mooring-bench-section-'));
  const out = join(dir, 'section.json');
  try {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
      env: { ...process.env, BENCH_SECTION: name, BENCH_SECTION_OUT: out },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    // A SIGTERM sent to this process alone is passed on (Ctrl-C reaches the child from the terminal).
    const forward = () => {
      interrupted = true;
      child.kill('SIGTERM');
    };
    process.on('SIGTERM', forward);
    const exit = await new Promise<string>((resolve) =>
      child.once('exit', (code, signal) => resolve(signal ?? String(code))),
    );
    process.off('SIGTERM', forward);
    if (interrupted) {
      await rm(dir, { recursive: true, force: true });
      process.exit(130);
    }
    try {
      return JSON.parse(await readFile(out, 'utf8')) as Section;
    } catch {
      return { name, label: name, skipped: `its process ended (${exit}) without figures: see stderr` };
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Figure 5: the periodic queries at scale, on PostgreSQL only (the planner production runs). */
async function periodicQueries(): Promise<void> {
  const transactions = Number(process.env.BENCH_PERIODIC_TRANSACTIONS ?? 1_000_000);
  if (!Number.isInteger(transactions) || transactions <= 0) return;
  const load = describeMachine().load1;
  try {
    const result = await benchPeriodicQueries({
      url: process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
      transactions,
      log: (line) => console.error(line),
    });
    const worst = Math.max(...result.timings.map((t) => t.medianMs));
    console.log(
      `\n5. Periodic queries on ${transactions.toLocaleString('en')} transactions (PostgreSQL; seeded in ` +
        `${result.seedSeconds.toFixed(0)} s by set-based INSERTs, see periodic-queries.ts). Target: each under ` +
        `10 ms. Slowest median ${worst.toFixed(2)} ms; load ${load} at start, ${describeMachine().load1} at end.\n`,
    );
    console.log(periodicTable(result));
  } catch (error) {
    console.log(`\n5. Periodic queries: SKIPPED — ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Set on SIGINT or SIGTERM: the child cleans up, then this process stops without a report. */
let interrupted = false;

async function main(): Promise<void> {
  // Ctrl-C reaches the child too (same process group), which cleans up: wait for that.
  process.on('SIGINT', () => {
    interrupted = true;
  });
  const machine = describeMachine();
  console.log(`Mooring benchmark — ${new Date().toISOString()}`);
  console.log(`Machine: ${machineLine(machine)}`);
  console.log(`Load average (1 min) at start: ${machine.load1}`);
  console.log(
    `Settings: ${posts.rounds} rounds × ${posts.count} POSTs per kind (${posts.concurrency} in flight, best round ` +
      `kept; ${posts.wideConcurrency} in flight for latency; ${posts.warmup} warm-up), watcher backlog ` +
      `${catchUp.backlog}, ${latency.samples} latency samples\n`,
  );
  const sections: Section[] = [];
  for (const name of Object.keys(OPEN) as EnvironmentName[]) sections.push(await inChildProcess(name));

  console.log(table(sections, settings));
  console.log(`\nLoad average (1 min): ${machine.load1} at start, ${describeMachine().load1} at end.`);
  console.log('');
  for (const s of sections) {
    console.log('skipped' in s ? `${s.label}: SKIPPED — ${s.skipped}` : details(s, settings));
  }
  await periodicQueries();
  console.log(
    '\nRatios: throughput ÷ baseline throughput (higher is faster); latency, stall and RSS ÷ their baseline ' +
      '(lower is better; 3 is p50 by p50 and p99 by p99); 1c is with the viewer ÷ without; 4 is two hosts ÷ one.' +
      '\nOrder in each section: 1, 3, 2, 2b, 4 (the catch-up leaves a payout per payment behind); each section ' +
      'in a process of its own.' +
      '\nThe load driver and the fake Horizon run in that process, sharing the CPU with the Mooring under test.',
  );
}

const section = process.env.BENCH_SECTION;
const out = process.env.BENCH_SECTION_OUT;
const isEnvironment = (name: string | undefined): name is EnvironmentName =>
  name !== undefined && name in OPEN;
(isEnvironment(section) && out ? measureOne(section, out) : main()).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error('benchmark failed:', error);
    process.exit(1);
  },
);
