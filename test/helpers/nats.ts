/**
 * NATS for tests: the shared server from `NATS_URL`, or a private `nats-server` this helper spawns
 * (for tests that stop and restart the server).
 *
 * Locally, without `NATS_URL`, NATS tests are skipped with one warning. In CI (`CI=true`) a missing
 * `NATS_URL` or `nats-server` binary is an error: CI must never skip NATS silently.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { businessEventsStreamName, streamName } from '../../src/bus/index.ts';

const ENABLE_HINT = 'NATS_URL=nats://127.0.0.1:4222';
let warned = false;

/**
 * The NATS server for integration tests, or `undefined` (tests skip) when `NATS_URL` is unset locally.
 *
 * @throws Error when `CI=true` and `NATS_URL` is unset.
 * @example
 * const natsUrl = natsUrlForTests();
 * describe.skipIf(natsUrl === undefined)('NATS bus', () => { ... });
 */
export function natsUrlForTests(): string | undefined {
  const url = process.env.NATS_URL;
  if (url) return url;
  if (process.env.CI === 'true') {
    throw new Error(`NATS_URL is not set, and CI must not skip the NATS tests. Set e.g. ${ENABLE_HINT}`);
  }
  if (!warned) {
    warned = true;
    console.warn(
      `NATS tests skipped: NATS_URL is not set. Run a nats-server with -js and set ${ENABLE_HINT}`,
    );
  }
  return undefined;
}

/** A unique, NATS-safe name for one test's streams and subjects. */
export function uniqueTestName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/** Deletes streams (ignoring ones that do not exist). */
export async function deleteStreams(url: string, names: string[]): Promise<void> {
  const nc = await connect({ servers: url, name: 'test-cleanup' });
  try {
    const jsm = await jetstreamManager(nc);
    for (const name of names) {
      await jsm.streams.delete(name).catch(() => false);
    }
  } finally {
    await nc.close();
  }
}

/** Deletes the streams a Mooring deployment under `prefix` makes: its bus and its business events. */
export async function deleteDeploymentStreams(url: string, prefix: string): Promise<void> {
  await deleteStreams(url, [streamName(prefix), businessEventsStreamName(prefix)]);
}

/** Every message a stream holds now, oldest first, as JSON (an ordered consumer; the stream is unchanged). */
export async function readStream<T>(url: string, stream: string, timeoutMs = 15_000): Promise<T[]> {
  const nc = await connect({ servers: url, name: 'test-read-stream' });
  try {
    const total = (await (await jetstreamManager(nc)).streams.info(stream)).state.messages;
    const consumer = await jetstream(nc).consumers.get(stream);
    const messages: T[] = [];
    const deadline = Date.now() + timeoutMs;
    while (messages.length < total) {
      if (Date.now() > deadline) throw new Error(`read ${messages.length} of ${total} messages of ${stream}`);
      const batch = await consumer.fetch({ max_messages: total - messages.length, expires: 2_000 });
      for await (const message of batch) messages.push(message.json<T>());
    }
    return messages;
  } finally {
    await nc.close();
  }
}

/** Path of the `nats-server` binary: `NATS_SERVER_BIN`, else `PATH`, else `/usr/sbin`. */
export function natsServerBinary(): string {
  const fromEnv = process.env.NATS_SERVER_BIN;
  if (fromEnv) return fromEnv;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/bin'];
  for (const dir of dirs) {
    const candidate = join(dir, 'nats-server');
    if (dir && existsSync(candidate)) return candidate;
  }
  throw new Error(
    'nats-server binary not found: install it (apt-get install nats-server) or set NATS_SERVER_BIN',
  );
}

/** A `nats-server -js` of this test's own, on a free port, with a store folder that survives restarts. */
export interface PrivateNatsServer {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** Stops the process (SIGTERM: a clean shutdown that flushes the store; SIGKILL: a crash). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and store. */
  start(): Promise<void>;
  /** Stops it and removes the store folder. */
  dispose(): Promise<void>;
}

const READY_TIMEOUT_MS = 10_000;

/**
 * Spawns a private JetStream server. Always `dispose()` it (e.g. in `afterAll`).
 *
 * @example
 * const server = await startPrivateNatsServer();
 * await server.stop(); await server.start(); // a restart, same data
 * await server.dispose();
 */
export async function startPrivateNatsServer(): Promise<PrivateNatsServer> {
  const binary = natsServerBinary();
  const port = await freePort();
  const storeDir = await mkdtemp(join(tmpdir(), 'mooring-nats-'));
  let child: ChildProcess | undefined;
  const killOnExit = (): void => {
    child?.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const server: PrivateNatsServer = {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    async start() {
      if (child) throw new Error('private nats-server already running');
      child = await spawnReady(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir]);
      child.once('exit', () => {
        child = undefined;
      });
    },
    async stop(signal = 'SIGTERM') {
      const running = child;
      if (!running) return;
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      running.kill(signal);
      await exited;
      child = undefined;
    },
    async dispose() {
      await server.stop('SIGKILL');
      process.removeListener('exit', killOnExit);
      await rm(storeDir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

/** Spawns nats-server and resolves once it logs "Server is ready". */
function spawnReady(binary: string, args: string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const timer = setTimeout(
      () => fail(new Error(`nats-server not ready after ${READY_TIMEOUT_MS} ms:\n${log}`)),
      READY_TIMEOUT_MS,
    );
    const onData = (chunk: Buffer): void => {
      log += chunk.toString();
      if (log.includes('Server is ready')) {
        clearTimeout(timer);
        child.stderr?.off('data', onData);
        child.stderr?.resume(); // keep draining so the server never blocks on a full pipe
        child.off('exit', onExit);
        resolve(child);
      }
    };
    const onExit = (code: number | null): void => fail(new Error(`nats-server exited (${code}):\n${log}`));
    function fail(error: Error): void {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    }
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', (error) => fail(error));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}
