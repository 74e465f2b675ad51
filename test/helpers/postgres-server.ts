/**
 * A private PostgreSQL cluster for tests that stop and restart the server (chaos tests): never the shared
 * one of `DATABASE_URL`, which other tests use at the same time.
 *
 * The cluster lives in a temporary folder owned by the `postgres` user: `initdb` and `pg_ctl` refuse to
 * run as root, so when the tests run as root they are run through `runuser -u postgres --`. Trust auth,
 * listening on 127.0.0.1 at a free port, its socket in its own folder.
 *
 * Locally, without the binaries, `postgresServerBinaries()` returns undefined (the tests skip); on CI
 * (`CI=true`) it throws, so CI never skips the chaos tests silently.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../../src/net/free-port.ts';

const run = promisify(execFile);
const ROOTS = ['/usr/lib/postgresql'];

/** The folder holding `initdb`, `pg_ctl` and `postgres`: `POSTGRES_BIN_DIR`, else the newest Debian one. */
export function postgresServerBinaries(): string | undefined {
  const fromEnv = process.env.POSTGRES_BIN_DIR;
  const candidates = fromEnv
    ? [fromEnv]
    : ROOTS.filter(existsSync).flatMap((root) =>
        readdirSync(root)
          .sort((a, b) => Number(b) - Number(a))
          .map((version) => join(root, version, 'bin')),
      );
  const found = candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
  if (found) return found;
  if (process.env.CI === 'true') {
    throw new Error(
      'PostgreSQL server binaries (initdb, pg_ctl) not found, and CI must not skip the chaos tests: ' +
        'install postgresql or set POSTGRES_BIN_DIR',
    );
  }
  return undefined;
}

export interface PrivatePostgresServer {
  /** Connection string of the `postgres` database, e.g. `postgres://postgres@127.0.0.1:54321/postgres`. */
  readonly url: string;
  readonly port: number;
  /** `pg_ctl stop`: `fast` (clients disconnected, a clean shutdown) or `immediate` (a crash). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and removes its folder. */
  dispose(): Promise<void>;
}

/**
 * initdb into a fresh folder and start the server. Always `dispose()` it (e.g. in `afterAll`).
 *
 * @example
 * const server = await startPrivatePostgres(bin);
 * await server.stop(); await server.start(); // a restart, same data
 */
export async function startPrivatePostgres(binDir: string): Promise<PrivatePostgresServer> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'mooring-pg-'));
  const dataDir = join(dir, 'data');
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const { uid, gid } = await postgresUser();
    await chown(dir, uid, gid);
  }
  // As root, every server command runs as the postgres user, which owns the folder.
  const pgCommand = (name: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(binDir, name), ...args])
      : run(join(binDir, name), args);
  let running = false;
  const killOnExit = () => {
    if (running) void pgCommand('pg_ctl', ['stop', '-D', dataDir, '-m', 'immediate']).catch(() => undefined);
  };
  process.once('exit', killOnExit);

  await pgCommand('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const server: PrivatePostgresServer = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      if (running) return;
      // fsync off: the tests crash processes, not the machine.
      const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
      await pgCommand('pg_ctl', [
        'start',
        '-D',
        dataDir,
        '-w',
        '-t',
        '30',
        '-l',
        join(dir, 'log'),
        '-o',
        options,
      ]);
      running = true;
      await untilAccepting(server.url);
    },
    async stop(mode = 'fast') {
      if (!running) return;
      await pgCommand('pg_ctl', ['stop', '-D', dataDir, '-w', '-m', mode]);
      running = false;
    },
    async dispose() {
      await server.stop('immediate').catch(() => undefined);
      process.removeListener('exit', killOnExit);
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await server.start();
  } catch (error) {
    await server.dispose();
    throw error;
  }
  return server;
}

async function postgresUser(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all(
    ['-u', '-g'].map(async (flag) => Number((await run('id', [flag, 'postgres'])).stdout.trim())),
  );
  return { uid: uid!, gid: gid! };
}

/** pg_ctl -w returns once the server accepts connections on its socket; wait for TCP as well. */
async function untilAccepting(url: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
