import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Memo, StellarToml, TransactionBuilder, type Transaction } from '@stellar/stellar-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS } from '../helpers/app.ts';
import { signatureIsValid, startCallbackReceiver } from '../helpers/callback-receiver.ts';
import { freePort, waitForHttp } from '../helpers/process.ts';
import {
  USDC,
  natsUrlForTests,
  outputs,
  postgresForTests,
  startWorld,
  waitUntil,
  type World,
  type WorldProcess,
} from './support.ts';

const postgres = postgresForTests();
const natsUrl = natsUrlForTests();

/**
 * A production-like deployment: every role in its own OS process (two HTTP instances behind no load
 * balancer, the watcher, the payout and poll workers, the callback relay and the actor host), sharing one
 * PostgreSQL database and NATS. A sending anchor drives a transaction from POST to `completed`, talking
 * to one HTTP instance and reading from the other; the signed callbacks come from the relay process.
 */
describe.skipIf(!postgres || !natsUrl)('Mooring as separate processes (Postgres + NATS)', () => {
  let world: World;
  let sandboxJson: string | undefined;
  let http1: WorldProcess;
  let http2: WorldProcess;
  let base1: string;
  let base2: string;
  let domain: string;

  let receiver: Awaited<ReturnType<typeof startCallbackReceiver>>;

  beforeAll(async () => {
    receiver = await startCallbackReceiver();

    const [port1, port2] = [await freePort(), await freePort()];
    domain = `localhost:${port1}`;
    base1 = `http://127.0.0.1:${port1}`;
    base2 = `http://127.0.0.1:${port2}`;
    world = await startWorld({
      database: postgres!,
      natsUrl: natsUrl!,
      config: { homeDomain: domain },
      sandboxJson: () => sandboxJson,
    });
    // The first HTTP instance migrates the database and creates the sandbox secrets (the generated JWT
    // secret); every other process gets a copy in its own data folder, as a deployment shares its secrets.
    http1 = await world.start('http1', ['serve', '--only', 'http'], { PORT: `${port1}` });
    await waitForHttp(`${base1}/ready`, http1);
    sandboxJson = readFileSync(join(http1.dataDir, 'sandbox.json'), 'utf8');
    http2 = await world.start('http2', ['serve', '--only', 'http'], { PORT: `${port2}` });
    await world.start('watcher', ['watch-transactions']);
    await world.start('execute-outgoing', ['execute-outgoing', '--loop', '--interval', '1']);
    await world.start('poll-outgoing', ['poll-outgoing', '--loop', '--interval', '1']);
    await world.start('relay', ['serve', '--only', 'relay']);
    await world.start('actors', ['actors']);
    await waitForHttp(`${base2}/ready`, http2);
    for (const p of world.processes) {
      await waitUntil(`${p.name} to start`, () => p.output().includes('mooring started'), {
        timeoutMs: 30_000,
        diagnostics: () => outputs(world.processes),
      });
    }
    // The watcher stores its starting cursor before it follows the stream: pay only after that.
    await waitUntil(
      'the watcher to store its starting cursor',
      () =>
        world.db
          .selectFrom('horizon_cursors')
          .select('cursor')
          .where('account', '=', KEYS.distribution.publicKey())
          .executeTakeFirst(),
      { diagnostics: () => outputs(world.processes) },
    );
  }, 90_000);

  afterAll(async () => {
    await world?.close(); // SIGKILLs whatever the last test did not stop
    await receiver?.close();
  });

  let token: string;
  async function call(base: string, method: string, path: string, body?: unknown) {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies of several SEP shapes
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : null };
  }

  let toml: StellarToml.Api.StellarToml;
  it('authenticates with SEP-10 at one HTTP instance; the token works at the other', async () => {
    toml = await StellarToml.Resolver.resolve(domain, { allowHttp: true });
    const challenge = await fetch(`${base1}/auth?account=${KEYS.acme.publicKey()}`);
    expect(challenge.status).toBe(200);
    const { transaction, network_passphrase } = (await challenge.json()) as Record<string, string>;
    const signed = TransactionBuilder.fromXDR(transaction!, network_passphrase!) as Transaction;
    expect(signed.source).toBe(toml.SIGNING_KEY);
    signed.sign(KEYS.acme);
    const response = await fetch(`${base1}/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ transaction: signed.toXDR() }),
    });
    expect(response.status).toBe(200);
    token = ((await response.json()) as { token: string }).token;
    expect((await call(base2, 'GET', '/sep31/info')).status).toBe(200);
  });

  let transactionId: string;
  let memoHex: string;
  it('registers customers and creates a transaction at instance 1; instance 2 reads it', async () => {
    const sender = await call(base1, 'PUT', '/sep12/customer', {
      memo: '1',
      type: 'sep31-sender',
      first_name: 'Ada',
      last_name: 'Lovelace',
    });
    expect([200, 202]).toContain(sender.status);
    const receiverCustomer = await call(base1, 'PUT', '/sep12/customer', {
      memo: '2',
      type: 'sep31-receiver',
      first_name: 'Grace',
      last_name: 'Hopper',
      bank_account_number: '12345678',
      bank_number: '021000021',
    });
    expect([200, 202]).toContain(receiverCustomer.status);
    const accepted = await call(
      base2,
      'GET',
      `/sep12/customer?id=${receiverCustomer.body!.id}&type=sep31-receiver`,
    );
    expect(accepted.body).toMatchObject({ status: 'ACCEPTED' });

    const created = await call(base1, 'POST', '/sep31/transactions', {
      amount: '100',
      asset_code: 'USDC',
      asset_issuer: KEYS.issuer.publicKey(),
      funding_method: 'SEPA',
      sender_id: sender.body!.id,
      receiver_id: receiverCustomer.body!.id,
    });
    expect(created.status).toBe(201);
    transactionId = created.body!.id;
    memoHex = Buffer.from(created.body!.stellar_memo, 'base64').toString('hex');
    const read = await call(base2, 'GET', `/sep31/transactions/${transactionId}`);
    expect(read.status).toBe(200);
    expect(read.body!.transaction).toMatchObject({
      id: transactionId,
      status: 'pending_sender',
      amount_in: '100',
    });

    const registered = await call(base1, 'PUT', `/sep31/transactions/${transactionId}/callback`, {
      url: receiver.url,
    });
    expect(registered.status).toBe(204);
  });

  it('is paid on Stellar and completes, with signed callbacks from the relay process', async () => {
    const payment = world.horizon.appendPayment({
      from: KEYS.acme,
      destination: KEYS.distribution.publicKey(),
      asset: USDC(),
      amount: '100',
      memo: Memo.hash(memoHex),
    });
    const transaction = await waitUntil(
      'the transaction to complete',
      async () => {
        const read = await call(base2, 'GET', `/sep31/transactions/${transactionId}`);
        const t = read.body?.transaction as Record<string, string> | undefined;
        return t?.status === 'completed' ? t : undefined;
      },
      { timeoutMs: 45_000, everyMs: 200, diagnostics: () => outputs(world.processes) },
    );
    expect(transaction).toMatchObject({
      status: 'completed',
      amount_in: '100',
      amount_out: '98.5',
      stellar_transaction_id: payment.transaction.hash,
    });
    expect(transaction.external_transaction_id).toBeTruthy();

    await waitUntil(
      'the completed callback',
      () => receiver.received.some((c) => c.body.includes('"completed"')),
      {
        timeoutMs: 30_000,
        diagnostics: () => outputs(world.processes),
      },
    );
    const statuses = receiver.statuses();
    expect(statuses).toEqual(expect.arrayContaining(['pending_receiver', 'completed']));
    expect(statuses.indexOf('pending_receiver')).toBeLessThan(statuses.indexOf('completed'));
    for (const callback of receiver.received) {
      expect(callback.host).toBe(new URL(receiver.url).host);
      expect(signatureIsValid(callback, toml.SIGNING_KEY!), callback.signature).toBe(true);
    }
    // Paid out once at the simulated bank.
    const payouts = await world.db
      .selectFrom('reference_rails_payouts')
      .select('idempotency_key')
      .where('transaction_id', '=', transactionId)
      .execute();
    expect(payouts).toHaveLength(1);
  }, 90_000);

  it('every process exits 0 on SIGTERM', async () => {
    const codes = await Promise.all(world.processes.map(async (p) => [p.name, await p.stop('SIGTERM')]));
    expect(Object.fromEntries(codes), outputs(world.processes)).toEqual({
      http1: 0,
      http2: 0,
      watcher: 0,
      'execute-outgoing': 0,
      'poll-outgoing': 0,
      relay: 0,
      actors: 0,
    });
  }, 30_000);
});
