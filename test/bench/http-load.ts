/**
 * A closed-loop HTTP load driver: `count` POSTs over real sockets (keep-alive), at most `concurrency` in
 * flight. It runs in the benchmark's own process, so the server under test shares the CPU with it — the
 * same for the baseline and for Mooring, which is why figures are read as ratios.
 */
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { inParallel, median, percentile } from './stats.ts';

export interface LoadOptions {
  /** e.g. `http://127.0.0.1:43210/sep31/transactions` */
  url: string;
  count: number;
  concurrency: number;
  body: unknown;
  headers?: Record<string, string>;
  /** The status every response must have. */
  expectStatus: number;
}

export interface LoadResult {
  count: number;
  concurrency: number;
  seconds: number;
  perSecond: number;
  /** Per-request latency, milliseconds. */
  medianMs: number;
  p99Ms: number;
  /** Every request's latency, milliseconds, in completion order (to pool rounds). */
  latenciesMs: number[];
  /** The machine's 1-minute load average when the run ended. */
  load1: number;
}

export async function drive(options: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const payload = JSON.stringify(options.body);
  const headers = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(payload)),
    ...options.headers,
  };
  const latencies: number[] = [];
  try {
    const started = performance.now();
    await inParallel(options.count, options.concurrency, async () => {
      const t0 = performance.now();
      const { status, text } = await post(options.url, agent, headers, payload);
      latencies.push(performance.now() - t0);
      if (status !== options.expectStatus) {
        throw new Error(`POST ${options.url} answered ${status}, expected ${options.expectStatus}: ${text}`);
      }
    });
    const seconds = (performance.now() - started) / 1000;
    return {
      count: options.count,
      concurrency: options.concurrency,
      seconds,
      perSecond: options.count / seconds,
      medianMs: median(latencies),
      p99Ms: percentile(latencies, 99),
      latenciesMs: latencies,
      load1: loadavg()[0] ?? 0,
    };
  } finally {
    agent.destroy();
  }
}

function post(
  url: string,
  agent: Agent,
  headers: Record<string, string>,
  payload: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}
