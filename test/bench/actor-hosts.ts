/**
 * Figure 4 (PostgreSQL + NATS only): does a second actor-host process raise POST throughput?
 *
 * This process runs Mooring with every role of `mooring serve` but the actors (with NATS, `http` hosts no
 * actors: every create goes to JetStream and waits for the owning host's answer); the actors run in child
 * processes, `node bin/mooring.js actors`, each with this environment's DATABASE_URL, NATS_URL,
 * NATS_PREFIX, OPERATOR_TOKEN, MOORING_CONFIG (explicit signing and JWT secrets) and MOORING_DATA_DIR. With one child, then two, the
 * benchmark waits until the children own all partitions (leases `actors:<prefix>_events:<p>`, each child
 * its fair share) and the outbox is quiet, and drives POST /sep31/transactions as in figure 1 (the same
 * token and body naming ACCEPTED customers, warm-up, rounds, best kept).
 * The children are killed afterwards, whatever happens (also on Ctrl-C, and on exit).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { Kysely } from 'kysely';
import { partitionLease } from '../../src/actors/ownership.ts';
import type { Database } from '../../src/db/index.ts';
import { ROLES_BUT_ACTORS, type BenchEnvironment } from './environments.ts';
import { drive, type LoadResult } from './http-load.ts';
import { waitForQuietOutbox } from './outbox-quiet.ts';
import { best, type PostBenchSettings } from './post-transactions.ts';
import { postBody, sep10Token } from './sending-anchor.ts';
import { pause } from './stats.ts';

export interface HostsResult {
  /** req/s with the actors in one child process, then in two. */
  one: HostsRun;
  two: HostsRun;
}

export interface HostsRun {
  best: LoadResult;
  rounds: LoadResult[];
  /** From spawning the (last) child until the partitions were shared as expected. */
  ownSeconds: number;
  /** Partitions each child owned while measuring. */
  owned: number[];
  /** Effects parked before the rounds (the relays could not clear them in time). */
  parked: number;
}

const MOORING_BIN = fileURLToPath(new URL('../../bin/mooring.js', import.meta.url));
const OWN_TIMEOUT_MS = 60_000;
/** Lines of a child's output kept for error messages. */
const OUTPUT_KEPT = 20;

/** Every child still running: killed on exit, whatever ends the benchmark. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface ActorsChild {
  process: ChildProcess;
  /** The start of its partition leases' holder (`host:pid:`). */
  holderPrefix: string;
  output: string[];
  stop(): Promise<void>;
}

export async function benchActorHosts(
  env: BenchEnvironment,
  settings: PostBenchSettings,
): Promise<HostsResult> {
  const http = await env.start('every role but actors, with child actor hosts', ROLES_BUT_ACTORS);
  const children: ActorsChild[] = [];
  try {
    const url = `${http.mooring.url!}/sep31/transactions`;
    const headers = { authorization: `Bearer ${await sep10Token(env.config)}` };
    const body = postBody(env.customers);
    const stream = http.mooring.bus.stream;
    const partitions = http.mooring.bus.partitions;
    const measure = async (): Promise<HostsRun> => {
      const spawned = performance.now();
      children.push(spawnActors(env));
      const owned = await waitForOwners(http.db, stream, partitions, children);
      const ownSeconds = (performance.now() - spawned) / 1000;
      const run = (count: number) =>
        drive({ url, count, concurrency: settings.concurrency, body, headers, expectStatus: 201 });
      await run(settings.warmup);
      const rounds: LoadResult[] = [];
      let parked = 0;
      for (let round = 0; round < settings.rounds; round++) {
        parked += (await waitForQuietOutbox(http.db)).parked;
        rounds.push(await run(settings.count));
      }
      return { best: best(rounds), rounds, ownSeconds, owned, parked };
    };
    const one = await measure();
    const two = await measure();
    return { one, two };
  } catch (error) {
    const said = children.flatMap((child, i) => child.output.map((line) => `child ${i + 1}: ${line}`));
    if (said.length > 0)
      throw new Error(`${(error as Error).message}\n    ${said.join('\n    ')}`, { cause: error });
    throw error;
  } finally {
    for (const child of children.reverse()) await child.stop();
    await http.stop();
  }
}

export function spawnActors(env: BenchEnvironment): ActorsChild {
  const child = spawn(process.execPath, [MOORING_BIN, 'actors'], {
    // Only what `mooring` reads, so nothing from the caller's environment changes the children's config.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (line.trim() !== '' && output.length < OUTPUT_KEPT) output.push(line.slice(0, 300));
    }
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => running.delete(child));
  const stop = env.teardown.add(`actors child ${child.pid}`, async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const gone = await Promise.race([exited.then(() => true), pause(10_000).then(() => false)]);
    if (!gone) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return { process: child, holderPrefix: `${hostname()}:${child.pid}:`, output, stop };
}

/**
 * Waits until the children hold every partition's lease, each its fair share (`ceil(partitions / n)` at
 * most): the rebalancing is over. Returns how many each holds.
 */
export async function waitForOwners(
  db: Kysely<Database>,
  stream: string,
  partitions: number,
  children: readonly ActorsChild[],
): Promise<number[]> {
  const names = Array.from({ length: partitions }, (_, p) => partitionLease(stream, p));
  const fairShare = Math.ceil(partitions / children.length);
  const deadline = performance.now() + OWN_TIMEOUT_MS;
  for (;;) {
    for (const child of children) {
      if (child.process.exitCode !== null) {
        throw new Error(`the actors child ${child.process.pid} exited with ${child.process.exitCode}`);
      }
    }
    const leases = await db
      .selectFrom('leases')
      .select('holder')
      .where('name', 'in', names)
      .where('expires_at', '>', new Date())
      .execute();
    const owned = children.map(
      (child) => leases.filter((l) => l.holder.startsWith(child.holderPrefix)).length,
    );
    const total = owned.reduce((a, b) => a + b, 0);
    if (total === partitions && owned.every((n) => n > 0 && n <= fairShare)) return owned;
    if (performance.now() > deadline) {
      throw new Error(
        `the actors children did not share the ${partitions} partitions within ${OWN_TIMEOUT_MS / 1000} s ` +
          `(they own ${owned.join(' + ')}, ${leases.length} leases held in all)`,
      );
    }
    await pause(50);
  }
}
