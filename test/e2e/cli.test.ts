import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRANSACTION_STATUSES } from '../../machines/index.ts';
import { testDatabases } from '../helpers/database.ts';
import { natsUrlForTests } from '../helpers/nats.ts';
import { freePort, runMooring, startMooringProcess, waitForHttp } from '../helpers/process.ts';

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
  });
});
