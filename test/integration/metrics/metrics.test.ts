import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Asset, Keypair, Memo, Networks } from '@stellar/stellar-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';
import { startDemoHorizon, type DemoHorizon } from '../../../src/demo/fake-horizon.ts';
import { connectSendingAnchor, registerExampleCustomers } from '../../../src/demo/sending-anchor.ts';
import { demoConfigFile } from '../../../src/demo/setup.ts';
import { followTransaction } from '../../../src/demo/trace.ts';
import { createLogger, startMooring, type Mooring } from '../../../src/main.ts';
import { freePort } from '../../../src/net/free-port.ts';

const OPERATOR_TOKEN = 'metrics-test-operator-token-0123456789';
const keys = { issuer: Keypair.random(), distribution: Keypair.random(), sender: Keypair.random() };

let dir: string;
let horizon: DemoHorizon;
let mooring: Mooring;
let metricsPort: number;
let homeDomain: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mooring-metrics-'));
  horizon = await startDemoHorizon(Networks.TESTNET);
  horizon.addAccount(keys.sender.publicKey());
  horizon.addAccount(keys.distribution.publicKey());
  const port = await freePort();
  metricsPort = await freePort();
  const file = {
    ...demoConfigFile({ port, horizonUrl: horizon.url, keys, assetCode: 'USDC' }),
    operatorToken: OPERATOR_TOKEN,
    metrics: { port: metricsPort, host: '127.0.0.1' },
  };
  await writeFile(join(dir, 'mooring.json'), JSON.stringify(file));
  const config = await loadConfig({
    env: {
      MOORING_CONFIG: join(dir, 'mooring.json'),
      MOORING_DATA_DIR: join(dir, 'data'),
      EXECUTE_OUTGOING_INTERVAL: '1',
      POLL_OUTGOING_INTERVAL: '1',
    },
    cwd: dir,
  });
  homeDomain = config.homeDomain;
  mooring = await startMooring(config, { log: createLogger('silent') });
});

afterAll(async () => {
  await mooring?.close();
  await horizon?.close();
  await rm(dir, { recursive: true, force: true });
});

async function scrape(url: string, token?: string): Promise<Response> {
  return fetch(url, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
}

/** The value of the sample `name{labels}` (labels in any order), or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

describe('GET /metrics', () => {
  it('is for the operator only on the public port, and hidden from the OpenAPI document', async () => {
    const anonymous = await scrape(`${mooring.url}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ error: 'operator token required' });
    expect((await scrape(`${mooring.url}/metrics`, 'not-the-token')).status).toBe(401);
    const operator = await scrape(`${mooring.url}/metrics`, OPERATOR_TOKEN);
    expect(operator.status).toBe(200);
    expect(operator.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const openapi = (await (await fetch(`${mooring.url}/openapi.json`)).json()) as { paths: object };
    expect(Object.keys(openapi.paths)).not.toContain('/metrics');
  });

  it('moves as a transaction goes from creation to completed', async () => {
    const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    const before = await (await scrape(metricsUrl)).text();
    expect(sample(before, 'mooring_transactions', { status: 'completed' })).toBeUndefined();

    const anchor = await connectSendingAnchor(homeDomain, keys.sender);
    const { senderId, receiverId } = await registerExampleCustomers(anchor);
    const created = await anchor.createTransaction({
      amount: '100',
      asset_code: 'USDC',
      asset_issuer: keys.issuer.publicKey(),
      funding_method: 'SEPA',
      sender_id: senderId,
      receiver_id: receiverId,
    });
    const following = followTransaction(mooring.database.db, created.id!, () => {}, {
      deadline: Date.now() + 30_000,
    });
    await horizon.streaming(created.stellar_account_id!);
    horizon.pay({
      from: keys.sender,
      destination: created.stellar_account_id!,
      asset: new Asset('USDC', keys.issuer.publicKey()),
      amount: '100',
      memo: Memo.hash(Buffer.from(created.stellar_memo!, 'base64').toString('hex')),
    });
    expect(await following).toBe('completed');

    // The separate listener needs no token; it serves the same registry as the public port.
    const after = await (await scrape(metricsUrl)).text();
    expect(sample(after, 'mooring_transactions', { status: 'completed' })).toBe(1);
    expect(
      sample(after, 'mooring_http_request_duration_seconds_count', {
        route: '/sep31/transactions',
        method: 'POST',
        status: '201',
      }),
    ).toBe(1);
    expect(
      sample(after, 'mooring_transitions_total', {
        actor: 'transaction',
        outcome: 'applied',
        status: 'completed',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'mooring_bus_lag_seconds_count')).toBeGreaterThan(0);
    expect(
      sample(after, 'mooring_rails_call_duration_seconds_count', {
        operation: 'execute_outgoing',
        outcome: 'ok',
      }),
    ).toBeGreaterThanOrEqual(1);
    const account = keys.distribution.publicKey();
    expect(sample(after, 'mooring_watcher_last_record_ledger_time_seconds', { account })).toBeGreaterThan(0);
    const cursor = (
      await mooring.database.db
        .selectFrom('horizon_cursors')
        .select('cursor')
        .where('account', '=', account)
        .executeTakeFirstOrThrow()
    ).cursor;
    expect(sample(after, 'mooring_watcher_cursor_info', { account, paging_token: cursor })).toBe(1);
    // Read from the database at scrape time: present whatever role this process runs.
    expect(after).toMatch(/^# TYPE mooring_outbox_effects gauge$/m);
    expect(after).toMatch(/^# TYPE mooring_watcher_reconnects_total counter$/m);
    expect(after).toMatch(/^# TYPE mooring_rails_call_failures_total counter$/m);
  });
});
