import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRANSACTION_STATUSES } from '../../machines/index.ts';
import { nodeVersionProblem } from '../../bin/require-node.js';
import { ENV_VARS } from '../../src/config/index.ts';
import { testDatabases } from '../helpers/database.ts';
import { natsUrlForTests } from '../helpers/nats.ts';
import { BIN, freePort, runMooring, startMooringProcess, waitForHttp } from '../helpers/process.ts';

const ROOT = join(import.meta.dirname, '..', '..');

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mooring-e2e-'));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

describe('mooring serve', () => {
  it('serves /health and /ready on the embedded defaults, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const run = startMooringProcess(['serve'], {
      PORT: `${port}`,
      MOORING_DATA_DIR: join(dataDir, 'embedded'),
    });
    try {
      const health = await waitForHttp(`http://127.0.0.1:${port}/health`, run);
      expect(await health.json()).toEqual({ status: 'ok' });
      const ready = await fetch(`http://127.0.0.1:${port}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready' });
      expect(run.output()).toMatch(/SANDBOX/);
      const unknown = await fetch(`http://127.0.0.1:${port}/nope`);
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual({ error: 'not found' });
    } finally {
      expect(await run.stop()).toBe(0);
    }
  });

  it('closes cleanly when SIGTERM arrives while it is still starting', async () => {
    const port = await freePort();
    const run = startMooringProcess(['serve'], { PORT: `${port}`, MOORING_DATA_DIR: join(dataDir, 'early') });
    // The sandbox warnings come right before start-up (database, migrations, bus, listen) begins.
    for (const deadline = Date.now() + 20_000; !/SANDBOX/.test(run.output()) && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await run.stop()).toBe(0);
    expect(run.output()).toMatch(/SIGTERM: shutting down/);
  });

  const postgres = testDatabases().find((d) => d.name === 'postgres');
  const natsUrl = natsUrlForTests();
  it.skipIf(!postgres || !natsUrl)('serves on PostgreSQL and NATS JetStream', async () => {
    const database = await postgres!.open();
    const port = await freePort();
    const run = startMooringProcess(['serve'], {
      PORT: `${port}`,
      MOORING_DATA_DIR: join(dataDir, 'production'),
      DATABASE_URL: database.url!,
      NATS_URL: natsUrl!,
    });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/ready`, run);
      expect(run.output()).toMatch(/"database":"postgres"/);
      expect(run.output()).toMatch(/"bus":"nats"/);
    } finally {
      expect(await run.stop()).toBe(0);
      await database.close();
    }
  });

  it('refuses a bad config file with one line naming the key', async () => {
    const file = join(dataDir, 'bad.json');
    await writeFile(file, JSON.stringify({ assets: [{ code: 'USDC', issuer: 'not-a-key' }] }));
    const { code, output } = await runMooring(['serve'], {
      MOORING_CONFIG: file,
      MOORING_DATA_DIR: join(dataDir, 'bad'),
    });
    expect(code).toBe(1);
    expect(output.trim().split('\n')).toHaveLength(1);
    expect(output).toMatch(/assets\[0\]/);
  });

  it('refuses a bad environment value with one line naming the variable', async () => {
    const { code, output } = await runMooring(['serve'], {
      PORT: 'eighty',
      MOORING_DATA_DIR: join(dataDir, 'env'),
    });
    expect(code).toBe(1);
    expect(output.trim().split('\n')).toHaveLength(1);
    expect(output).toMatch(/PORT/);
  });
});

describe('mooring migrate', () => {
  it('migrates the embedded database and exits', async () => {
    const { code, output } = await runMooring(['migrate'], { MOORING_DATA_DIR: join(dataDir, 'migrate') });
    expect(output).toMatch(/migrated \(pglite\)/);
    expect(code).toBe(0);
  });
});

describe('mooring machines export', () => {
  it('prints the transaction machine as Mermaid with every SEP-31 status', async () => {
    const { code, output } = await runMooring(['machines', 'export', '--format', 'mermaid'], {});
    expect(code).toBe(0);
    expect(output).toMatch(/^stateDiagram-v2/);
    for (const status of TRANSACTION_STATUSES) expect(output).toContain(status);
  });

  it('prints the machine graph as JSON', async () => {
    const { code, output } = await runMooring(['machines', 'export', '--format', 'json'], {});
    expect(code).toBe(0);
    const graph = JSON.parse(output) as { states: { key: string }[] };
    expect(graph.states.map((s) => s.key)).toEqual(expect.arrayContaining([...TRANSACTION_STATUSES]));
  });

  it('names the known machines when asked for an unknown one', async () => {
    const { code, output } = await runMooring(['machines', 'export', '--machine', 'nope'], {});
    expect(code).toBe(1);
    expect(output).toMatch(/unknown machine "nope"; known: transaction/);
    expect(output.trim().split('\n')).toHaveLength(1);
  });
});

describe('mooring --version and --help', () => {
  it('prints the package version', async () => {
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const { code, output } = await runMooring(['--version'], {});
    expect(code).toBe(0);
    expect(output.trim()).toBe(version);
  });

  it('names the commands, the config file and every environment variable the config reads', async () => {
    const { code, output } = await runMooring(['--help'], {});
    expect(code).toBe(0);
    for (const command of ['serve', 'watch-transactions', 'actors', 'execute-outgoing', 'migrate']) {
      expect(output).toContain(command);
    }
    expect(output).toMatch(/--config <file>/);
    expect(output).toMatch(/mooring\.config\.json/);
    for (const variable of ENV_VARS) expect(output).toMatch(new RegExp(`^ +${variable} `, 'm'));
  });
});

describe('one-line start-up errors', () => {
  // Sandbox warnings off: the error is then all the output.
  const quiet = (name: string) => ({ MOORING_DATA_DIR: join(dataDir, name), LOG_LEVEL: 'error' });

  it('a DATABASE_URL nobody answers at: one line naming it, without the password', async () => {
    const port = await freePort();
    const { code, output } = await runMooring(['serve'], {
      ...quiet('bad-database'),
      DATABASE_URL: `postgres://mooring:hunter2@127.0.0.1:${port}/mooring`,
    });
    expect(code).toBe(1);
    expect(output.trim().split('\n')).toEqual([
      `DATABASE_URL: cannot connect to postgres://mooring:***@127.0.0.1:${port}/mooring (connect ECONNREFUSED 127.0.0.1:${port})`,
    ]);
  }, 120_000);

  it('a NATS_URL nobody answers at: one line naming it', async () => {
    const port = await freePort();
    const { code, output } = await runMooring(['serve'], {
      ...quiet('bad-nats'),
      NATS_URL: `nats://127.0.0.1:${port}`,
    });
    expect(code).toBe(1);
    expect(output.trim().split('\n')).toEqual([
      `NATS_URL: cannot connect to nats://127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port})`,
    ]);
  }, 120_000);

  it('a Horizon that cannot be reached: one warning per outage, no stack, and /ready names the watcher', async () => {
    const [port, horizonPort] = [await freePort(), await freePort()];
    const file = join(dataDir, 'unreachable-horizon.json');
    await writeFile(
      file,
      JSON.stringify({ watcher: { silenceTimeoutSeconds: 1, unreachableReadySeconds: 2 } }),
    );
    const run = startMooringProcess(['serve'], {
      PORT: `${port}`,
      MOORING_CONFIG: file,
      MOORING_DATA_DIR: join(dataDir, 'unreachable-horizon'),
      HORIZON_URL: `http://127.0.0.1:${horizonPort}`,
    });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/health`, run, 90_000);
      let ready: Response;
      do {
        await new Promise((resolve) => setTimeout(resolve, 200));
        ready = await fetch(`http://127.0.0.1:${port}/ready`);
      } while (ready.status === 200);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ error: 'not ready: watcher unavailable', status: 'unavailable' });
      // Several attempts failed by now (backoff from 1 s), yet one line says so.
      const lines = run.output().split('\n');
      expect(lines.filter((line) => line.includes('Horizon unreachable'))).toHaveLength(1);
      expect(lines.filter((line) => /^\s+at /.test(line) || line.includes('"stack"'))).toEqual([]);
    } finally {
      expect(await run.stop()).toBe(0);
    }
  }, 120_000);
});

describe('an old Node.js', () => {
  it('is refused with one line naming the version', () => {
    expect(nodeVersionProblem('v22.18.0')).toBeNull();
    expect(nodeVersionProblem('v24.0.0')).toBeNull();
    expect(nodeVersionProblem('v22.17.1')).toBe(
      'mooring needs Node.js 22.18 or newer (24 recommended); this is v22.17.1.',
    );
    expect(nodeVersionProblem('v20.20.2')).toMatch(/this is v20\.20\.2\.$/);
  });

  // The machine's own Node, when it is too old to run Mooring (as on the development machines).
  const oldNode = ['/usr/bin/node', '/usr/local/bin/node'].find((path) => {
    const version = spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout?.trim();
    return version !== undefined && version !== '' && nodeVersionProblem(version) !== null;
  });
  it.skipIf(!oldNode)('gets the same line from `mooring` and from `npm test`', () => {
    const env = { PATH: `${dirname(oldNode!)}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? '' };
    const mooring = spawnSync(oldNode!, [BIN, '--version'], { encoding: 'utf8', env });
    expect(mooring.status).toBe(1);
    const line = mooring.stderr.trim();
    expect(line).toMatch(/^mooring needs Node\.js 22\.18 or newer/);
    const npm = spawnSync('npm', ['test'], { cwd: ROOT, env, encoding: 'utf8' });
    expect(npm.status).not.toBe(0);
    expect(`${npm.stdout}${npm.stderr}`.split('\n')).toContain(line);
    // The check ran before vitest could start.
    expect(`${npm.stdout}${npm.stderr}`).not.toMatch(/vitest|RUN/);
  });
});
