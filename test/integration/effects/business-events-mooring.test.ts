/**
 * Business events from a whole Mooring (`startMooring`) on PostgreSQL and NATS: a transaction driven
 * through HTTP and a Stellar payment shows up, change by change and in order, on a durable JetStream
 * consumer and at the business server's webhook, with the customers it registered.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Asset, Keypair, Memo, Networks } from '@stellar/stellar-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumeEvents, type MooringEvent } from '../../../examples/events-consumer/consume.ts';
import { loadConfig } from '../../../src/config/index.ts';
import { startDemoHorizon, type DemoHorizon } from '../../../src/demo/fake-horizon.ts';
import { connectSendingAnchor, registerExampleCustomers } from '../../../src/demo/sending-anchor.ts';
import { demoConfigFile } from '../../../src/demo/setup.ts';
import { followTransaction } from '../../../src/demo/trace.ts';
import { verifyCallbackSignature } from '../../../src/effects/index.ts';
import { createLogger, startMooring, type Mooring } from '../../../src/main.ts';
import { freePort } from '../../../src/net/free-port.ts';
import { eventually } from '../../helpers/app.ts';
import { testDatabases, type OpenTestDatabase } from '../../helpers/database.ts';
import { deleteDeploymentStreams, natsUrlForTests, uniqueTestName } from '../../helpers/nats.ts';

const natsUrl = natsUrlForTests();
const postgres = testDatabases().find((database) => database.name === 'postgres');
const keys = { issuer: Keypair.random(), distribution: Keypair.random(), sender: Keypair.random() };

describe.skipIf(natsUrl === undefined || postgres === undefined)('business events from Mooring', () => {
  let dir: string;
  let database: OpenTestDatabase;
  let horizon: DemoHorizon;
  let mooring: Mooring;
  let prefix: string;
  let homeDomain: string;
  let signingKey: string;
  const hooks: { signature: string; body: string }[] = [];
  const webhook = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      hooks.push({ signature: String(req.headers.signature), body });
      res.writeHead(204).end();
    });
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mooring-events-'));
    database = await postgres!.open();
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    horizon = await startDemoHorizon(Networks.TESTNET);
    horizon.addAccount(keys.sender.publicKey());
    horizon.addAccount(keys.distribution.publicKey());
    prefix = uniqueTestName('mev');
    const file = demoConfigFile({ port: await freePort(), horizonUrl: horizon.url, keys, assetCode: 'USDC' });
    await writeFile(join(dir, 'mooring.json'), JSON.stringify(file));
    const config = await loadConfig({
      env: {
        MOORING_CONFIG: join(dir, 'mooring.json'),
        MOORING_DATA_DIR: join(dir, 'data'),
        DATABASE_URL: database.url!,
        NATS_URL: natsUrl!,
        NATS_PREFIX: prefix,
        EVENTS_WEBHOOK_URL: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/events`,
        EXECUTE_OUTGOING_INTERVAL: '1',
        POLL_OUTGOING_INTERVAL: '1',
      },
      cwd: dir,
    });
    expect(config.events).toMatchObject({ nats: true, webhookUrl: expect.stringMatching(/\/events$/) });
    homeDomain = config.homeDomain;
    signingKey = config.signingKey;
    mooring = await startMooring(config, { log: createLogger('silent') });
  }, 60_000);

  afterAll(async () => {
    await mooring?.close();
    await horizon?.close();
    webhook.closeAllConnections();
    await new Promise<void>((resolve) => webhook.close(() => resolve()));
    await database?.close();
    if (natsUrl !== undefined && prefix !== undefined) {
      await deleteDeploymentStreams(natsUrl, prefix);
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('publishes every change of a paid transaction in order on NATS and at the webhook', async () => {
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
    const id = created.id!;
    const following = followTransaction(mooring.database.db, id, () => {}, { deadline: Date.now() + 30_000 });
    await horizon.streaming(created.stellar_account_id!);
    horizon.pay({
      from: keys.sender,
      destination: created.stellar_account_id!,
      asset: new Asset('USDC', keys.issuer.publicKey()),
      amount: '100',
      memo: Memo.hash(Buffer.from(created.stellar_memo!, 'base64').toString('hex')),
    });
    expect(await following).toBe('completed');

    const statuses = (events: readonly MooringEvent[]) =>
      events
        .filter((e) => (e.payload.transaction as { id?: string } | undefined)?.id === id)
        .map((e) => [e.type, (e.payload.transaction as { status: string }).status]);
    const ofTransaction = (events: readonly MooringEvent[]) => {
      const seen = statuses(events);
      return seen.length > 0 && seen.at(-1)![1] === 'completed';
    };

    await eventually('the webhook got the completed event', () =>
      ofTransaction(hooks.map((h) => JSON.parse(h.body) as MooringEvent)),
    );
    const viaWebhook = hooks.map((h) => JSON.parse(h.body) as MooringEvent);
    const sequence = statuses(viaWebhook);
    expect(sequence[0]).toEqual(['transaction_created', 'pending_sender']);
    expect(sequence.map(([, status]) => status)).toEqual(
      expect.arrayContaining(['pending_sender', 'pending_receiver', 'completed']),
    );
    expect(sequence.filter(([type]) => type === 'transaction_created')).toHaveLength(1);
    expect(viaWebhook.filter((e) => e.type === 'customer_updated').length).toBeGreaterThanOrEqual(2);
    for (const hook of hooks) {
      const check = verifyCallbackSignature({
        header: hook.signature,
        url: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}`,
        body: hook.body,
        signingKey,
        now: new Date(),
      });
      expect(check.ok).toBe(true);
    }

    // NATS has the same events, in the same order, each once.
    const viaNats: MooringEvent[] = [];
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), 20_000);
    await consumeEvents({
      servers: natsUrl!,
      prefix,
      durable: 'business',
      signal: controller.signal,
      handle(event) {
        viaNats.push(event);
        if (ofTransaction(viaNats) && viaNats.length >= viaWebhook.length) controller.abort();
      },
    });
    clearTimeout(timeout);
    expect(statuses(viaNats)).toEqual(sequence);
    expect(new Set(viaNats.map((e) => e.id)).size).toBe(viaNats.length);
    expect(new Set(viaNats.map((e) => e.id))).toEqual(new Set(viaWebhook.map((e) => e.id)));
  }, 60_000);
});
