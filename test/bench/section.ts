/**
 * One environment's figures, in order (1, 3, 2, 2b, 4: the catch-up leaves a payout per payment behind),
 * each caught on its own: a figure that fails is reported as failed and the next one still runs. The
 * environment is closed at the end, and on Ctrl-C its children, database, stream and folders still go.
 */
import { performance } from 'node:perf_hooks';
import { benchActorHosts, type HostsResult } from './actor-hosts.ts';
import type { BenchEnvironment, OpenedEnvironment } from './environments.ts';
import { benchPayoutLatency } from './payout-latency.ts';
import { benchPostTransactions } from './post-transactions.ts';
import type { Outcome, Section, Settings } from './report.ts';
import { errorMessage } from './teardown.ts';
import { benchCatchUp, type CatchUpResult } from './watcher.ts';

const needsNats = { skipped: 'needs NATS: the in-process bus reaches no other process' };

export async function measureSection(
  open: () => Promise<OpenedEnvironment>,
  settings: Settings,
): Promise<Section> {
  const { posts, latency, catchUp } = settings;
  const opened = await open();
  if ('skipped' in opened) return { name: opened.name, label: opened.label, skipped: opened.skipped };
  const env = opened.opened;
  current = env;
  const started = performance.now();
  try {
    const post = await attempt(
      `${env.name}: 1. POST /sep31/transactions vs baseline (${posts.rounds} × ${posts.count} per kind)`,
      () => benchPostTransactions(env, posts),
    );
    const paid = await attempt(`${env.name}: 3. payment → rails, ${latency.samples} payments`, () =>
      benchPayoutLatency(env, latency),
    );
    const caught = await attempt(`${env.name}: 2. watcher catch-up of ${catchUp.backlog} payments`, () =>
      benchCatchUp(env, catchUp),
    );
    const caughtSplit: Outcome<CatchUpResult> =
      env.name === 'postgres+nats'
        ? await attempt(`${env.name}: 2b. catch-up, actors in a separate process`, () =>
            benchCatchUp(env, catchUp, { split: true }),
          )
        : needsNats;
    const hosts: Outcome<HostsResult> =
      env.name === 'postgres+nats'
        ? await attempt(`${env.name}: 4. POST with actors in 1 then 2 child processes`, () =>
            benchActorHosts(env, posts),
          )
        : needsNats;
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

/** The environment being measured. */
let current: BenchEnvironment | null = null;

/** On SIGINT/SIGTERM: close the environment being measured, then exit 130. */
export function cleanUpOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: cleaning up (again to quit at once)\n`);
      void (current?.close() ?? Promise.resolve()).finally(() => process.exit(130));
    });
  }
}

export function progress(message: string): void {
  process.stderr.write(`… ${message}\n`);
}

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
