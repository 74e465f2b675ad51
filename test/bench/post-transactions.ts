/**
 * Figure 1: `POST /sep31/transactions` as a sending anchor sees it, against Mooring started with every
 * role of `mooring serve` in this process (the relays, the watcher and the workers run beside it). Each
 * POST carries a real SEP-10 JWT and names a sender and a receiver ACCEPTED through SEP-12, so Mooring
 * verifies the token, validates the body, looks both customers up, prices the transfer and sends the
 * create to the transaction's actor, answered after its group commit.
 *
 * Baseline, same run, same database handle, same load driver over real HTTP: `fair-baseline.ts` (the same
 * JWT verification, the same body schema, one INSERT). Each round runs, from a quiet outbox each time:
 * - the baseline and Mooring at `concurrency` in flight (throughput, best round of each kept);
 * - Mooring at `concurrency` with the machine viewer open (an SSE client on its live endpoint), in the
 *   other order every second round so that neither always meets the larger table;
 * - the baseline and Mooring at `wideConcurrency` in flight (latency, every request of every round pooled).
 * The process's largest event-loop stall is taken over each run, its peak RSS over all of them; after
 * each Mooring run the benchmark waits for the relays to empty the outbox and keeps the largest backlog.
 * Last, the serial baseline (1 in flight): the round trip figure 3 is compared with.
 */
import type { BenchEnvironment } from './environments.ts';
import { startFairBaseline } from './fair-baseline.ts';
import { drive, type LoadResult } from './http-load.ts';
import { waitForQuietOutbox, type Quieted } from './outbox-quiet.ts';
import { rssMiB, watchProcess } from './process-watch.ts';
import { postBody, sep10Token } from './sending-anchor.ts';
import { median, percentile } from './stats.ts';
import { openViewer } from './viewer-client.ts';

export interface PostBenchSettings {
  /** POSTs per measured run. */
  count: number;
  /** In flight for the throughput runs. */
  concurrency: number;
  /** In flight for the latency runs (the 50). */
  wideConcurrency: number;
  /** POSTs sent to each server before measuring (JIT, connection pools, caches). */
  warmup: number;
  /** Measured rounds; the best throughput of each kind is reported. */
  rounds: number;
  /** Sequential (concurrency 1) baseline POSTs: the round trip figure 3 is compared with. */
  serialCount: number;
}

export interface Rounds {
  best: LoadResult;
  rounds: LoadResult[];
}

/** Every request of every round at one concurrency. */
export interface Pooled {
  count: number;
  p50: number;
  p99: number;
  max: number;
  /** The load average at the end of the last round. */
  load1: number;
}

export interface PostBenchResult {
  startSeconds: number;
  app: Rounds;
  baseline: Rounds;
  /** Mooring with the machine viewer open; compared with `app`. */
  viewer: Rounds & { events: number };
  wide: { app: Pooled; baseline: Pooled };
  baselineSerial: LoadResult;
  /** Largest event-loop stall (ms) during each kind of run; RSS (MiB) idle after start and at peak. */
  process: {
    stallMs: Record<RunKind, number>;
    idleRssMiB: number;
    peakRssMiB: number;
  };
  /** The largest outbox backlog a run left behind, and how long the relays took to clear it. */
  relay: Quieted;
  /** Effects parked over all runs (the relays could not clear them within RUN_QUIET_TIMEOUT_MS). */
  parked: number;
}

type RunKind = 'baseline' | 'app' | 'viewer' | 'wideBaseline' | 'wideApp';

/** How long the relays get to clear what one run left, before it is parked. */
const RUN_QUIET_TIMEOUT_MS = 60_000;

export async function benchPostTransactions(
  env: BenchEnvironment,
  settings: PostBenchSettings,
): Promise<PostBenchResult> {
  const started = await env.start('POST');
  const idleRssMiB = rssMiB();
  const baseline = await startFairBaseline(started.db, env.config);
  try {
    const mooringBase = started.mooring.url!;
    const urls = { mooring: `${mooringBase}/sep31/transactions`, baseline: baseline.url };
    const headers = { authorization: `Bearer ${await sep10Token(env.config)}` };
    const body = postBody(env.customers);
    const post = (url: string, count: number, concurrency: number) =>
      drive({ url, count, concurrency, body, headers, expectStatus: 201 });

    const stallMs: Record<RunKind, number> = {
      baseline: 0,
      app: 0,
      viewer: 0,
      wideBaseline: 0,
      wideApp: 0,
    };
    let peakRssMiB = idleRssMiB;
    let relay: Quieted = { owed: 0, seconds: 0, parked: 0 };
    let parked = 0;
    let viewerEvents = 0;
    const runs: Record<RunKind, LoadResult[]> = {
      baseline: [],
      app: [],
      viewer: [],
      wideBaseline: [],
      wideApp: [],
    };

    const measure = async (kind: RunKind) => {
      const wide = kind === 'wideBaseline' || kind === 'wideApp';
      const url = kind === 'baseline' || kind === 'wideBaseline' ? urls.baseline : urls.mooring;
      const viewer = kind === 'viewer' ? await openViewer(mooringBase, env.operatorToken) : null;
      const watch = watchProcess();
      try {
        runs[kind].push(
          await post(url, settings.count, wide ? settings.wideConcurrency : settings.concurrency),
        );
      } finally {
        watch.stop();
        viewer?.close();
      }
      stallMs[kind] = Math.max(stallMs[kind], watch.maxStallMs());
      peakRssMiB = Math.max(peakRssMiB, watch.peakRssMiB());
      viewerEvents += viewer?.events() ?? 0;
      const quieted = await waitForQuietOutbox(started.db, RUN_QUIET_TIMEOUT_MS);
      if (quieted.owed > relay.owed) relay = quieted;
      parked += quieted.parked;
    };

    await post(urls.baseline, settings.warmup, settings.concurrency);
    await post(urls.mooring, settings.warmup, settings.concurrency);
    await waitForQuietOutbox(started.db);
    for (let round = 0; round < settings.rounds; round++) {
      await measure('baseline');
      for (const kind of round % 2 === 0 ? (['app', 'viewer'] as const) : (['viewer', 'app'] as const)) {
        await measure(kind);
      }
      await measure('wideBaseline');
      await measure('wideApp');
    }
    const baselineSerial = await post(urls.baseline, settings.serialCount, 1);
    return {
      startSeconds: started.startSeconds,
      app: rounds(runs.app),
      baseline: rounds(runs.baseline),
      viewer: { ...rounds(runs.viewer), events: viewerEvents },
      wide: { app: pooled(runs.wideApp), baseline: pooled(runs.wideBaseline) },
      baselineSerial,
      process: { stallMs, idleRssMiB, peakRssMiB },
      relay,
      parked,
    };
  } finally {
    await baseline.close();
    await started.stop();
  }
}

export const best = (runs: LoadResult[]) => runs.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));

const rounds = (runs: LoadResult[]): Rounds => ({ best: best(runs), rounds: runs });

function pooled(runs: LoadResult[]): Pooled {
  const latencies = runs.flatMap((r) => r.latenciesMs);
  return {
    count: latencies.length,
    p50: median(latencies),
    p99: percentile(latencies, 99),
    max: percentile(latencies, 100),
    load1: runs.at(-1)?.load1 ?? 0,
  };
}
