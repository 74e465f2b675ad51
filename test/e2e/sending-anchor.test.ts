import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Asset,
  Memo,
  Networks,
  StellarToml,
  TransactionBuilder,
  type Transaction,
} from '@stellar/stellar-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeHorizon, type FakeHorizon } from '../fakes/fake-horizon.ts';
import { startFakeStellarRpc, type FakeStellarRpc } from '../fakes/fake-stellar-rpc.ts';
import { KEYS, testConfigFile } from '../helpers/app.ts';
import { deleteDeploymentStreams, uniqueTestName } from '../helpers/nats.ts';
import type { OpenTestDatabase } from '../helpers/database.ts';
import { natsUrlForTests, postgresForTests } from './support.ts';
import { signatureIsValid, startCallbackReceiver } from '../helpers/callback-receiver.ts';
import { freePort, startMooringProcess, waitForHttp, type RunningProcess } from '../helpers/process.ts';

const postgres = postgresForTests();
const natsUrl = natsUrlForTests();

/**
 * A sending anchor completes the SEP-31 set-up against a real `mooring serve` process, using only the
 * Stellar SDK and the SEP texts: stellar.toml → SEP-10 → SEP-12 → /info → POST/GET transaction → callback.
 * Twice: Mooring watching Horizon (embedded database, in-process bus), and watching Stellar RPC on
 * PostgreSQL + NATS (`stellar.source: 'rpc'`; the payment reaches the fake RPC as its CAP-67 event).
 */
describe.each([{ source: 'horizon' as const }, ...(postgres && natsUrl ? [{ source: 'rpc' as const }] : [])])(
  'a sending anchor against `mooring serve` (payments through $source)',
  ({ source }) => {
    const { acme, issuer, distribution } = KEYS;
    let dir: string;
    let horizon: FakeHorizon;
    let rpc: FakeStellarRpc | undefined;
    let database: OpenTestDatabase | undefined;
    const natsPrefix = uniqueTestName('sa');
    let server: RunningProcess;
    let domain: string;
    let toml: StellarToml.Api.StellarToml;
    let token: string;

    // The sending anchor's callback endpoint: records each POST with its Signature header.
    let receiver: Awaited<ReturnType<typeof startCallbackReceiver>>;

    beforeAll(async () => {
      receiver = await startCallbackReceiver();
      dir = await mkdtemp(join(tmpdir(), 'mooring-sa-'));
      horizon = await startFakeHorizon();
      horizon.addAccount(acme.publicKey());
      const port = await freePort();
      domain = `localhost:${port}`;
      // The foundation issue's example config, without jwtSecret: Mooring runs in sandbox mode; the callback
      // receiver is on this machine, so loopback callbacks are switched on.
      const { jwtSecret: _generated, ...file } = testConfigFile({
        homeDomain: domain,
        horizonUrl: horizon.url,
        callbacks: { allowLoopback: true },
      });
      await writeFile(join(dir, 'mooring.json'), JSON.stringify(file));
      if (source === 'rpc') {
        rpc = await startFakeStellarRpc({
          networkPassphrase: Networks.TESTNET,
          latestLedger: horizon.latestLedger,
        });
        database = await postgres!.open();
      }
      server = startMooringProcess(['serve'], {
        ...(rpc && {
          STELLAR_PAYMENT_SOURCE: 'rpc',
          STELLAR_RPC_URL: rpc.url,
          DATABASE_URL: database!.url!,
          NATS_URL: natsUrl!,
          NATS_PREFIX: natsPrefix,
        }),
        EXECUTE_OUTGOING_INTERVAL: '1',
        POLL_OUTGOING_INTERVAL: '1',
        PORT: `${port}`,
        MOORING_CONFIG: join(dir, 'mooring.json'),
        MOORING_DATA_DIR: join(dir, 'data'),
      });
      await waitForHttp(`http://127.0.0.1:${port}/ready`, server);
    });
    afterAll(async () => {
      await server?.stop();
      await receiver?.close();
      await horizon?.close();
      await rpc?.close();
      await database?.close();
      if (rpc) await deleteDeploymentStreams(natsUrl!, natsPrefix).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    });

    async function call(method: string, url: string, body?: unknown, bearer = token) {
      const response = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${bearer}`,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies of several SEP shapes
      return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : null };
    }

    it('reads stellar.toml with the SDK', async () => {
      toml = await StellarToml.Resolver.resolve(domain, { allowHttp: true });
      expect(toml.NETWORK_PASSPHRASE).toBe(Networks.TESTNET);
      expect(toml.WEB_AUTH_ENDPOINT).toBe(`http://${domain}/auth`);
      expect(toml.DIRECT_PAYMENT_SERVER).toBe(`http://${domain}/sep31`);
      expect(toml.KYC_SERVER).toBe(`http://${domain}/sep12`);
      expect(toml.CURRENCIES?.[0]).toMatchObject({ code: 'USDC', issuer: issuer.publicKey() });
    });

    /** SEP-10 as a sending anchor's SDK does it: the challenge (for a memo, if given), signed, exchanged. */
    async function signIn(memo?: string): Promise<string> {
      const query = `account=${acme.publicKey()}${memo === undefined ? '' : `&memo=${memo}`}`;
      const challenge = await fetch(`${toml.WEB_AUTH_ENDPOINT}?${query}`);
      expect(challenge.status).toBe(200);
      const { transaction, network_passphrase } = (await challenge.json()) as Record<string, string>;
      expect(network_passphrase).toBe(Networks.TESTNET);
      const signed = TransactionBuilder.fromXDR(transaction!, network_passphrase!) as Transaction;
      expect(signed.source).toBe(toml.SIGNING_KEY);
      signed.sign(acme);
      const response = await fetch(toml.WEB_AUTH_ENDPOINT!, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ transaction: signed.toXDR() }),
      });
      expect(response.status).toBe(200);
      return ((await response.json()) as { token: string }).token;
    }

    function claimsOf(jwt: string) {
      return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    }

    it('authenticates with SEP-10, signing the challenge with the SDK', async () => {
      token = await signIn();
      expect(claimsOf(token)).toMatchObject({ sub: acme.publicKey(), iss: toml.WEB_AUTH_ENDPOINT });
    });

    let senderId: string;
    let receiverId: string;
    it('registers sender and receiver with SEP-12 until ACCEPTED', async () => {
      const kyc = toml.KYC_SERVER!;
      const needs = await call('GET', `${kyc}/customer?type=sep31-receiver&memo=2`);
      expect(needs.body).toMatchObject({ status: 'NEEDS_INFO' });
      expect(Object.keys(needs.body!.fields)).toEqual(
        expect.arrayContaining(['first_name', 'last_name', 'bank_account_number', 'bank_number']),
      );
      const sender = await call('PUT', `${kyc}/customer`, {
        memo: '1',
        type: 'sep31-sender',
        first_name: 'Ada',
        last_name: 'Lovelace',
      });
      expect([200, 202]).toContain(sender.status);
      senderId = sender.body!.id;
      const receiver = await call('PUT', `${kyc}/customer`, {
        memo: '2',
        type: 'sep31-receiver',
        first_name: 'Grace',
        last_name: 'Hopper',
        bank_account_number: '12345678',
        bank_number: '021000021',
      });
      receiverId = receiver.body!.id;
      const accepted = await call('GET', `${kyc}/customer?id=${receiverId}&type=sep31-receiver`);
      expect(accepted.body).toMatchObject({ id: receiverId, status: 'ACCEPTED' });
    });

    let transactionId: string;
    it('reads /info, creates a transaction and reads it back', async () => {
      const direct = toml.DIRECT_PAYMENT_SERVER!;
      const info = await call('GET', `${direct}/info`);
      expect(info.body!.receive.USDC).toMatchObject({ enabled: true, fee_fixed: 0.5, fee_percent: 1 });
      const created = await call('POST', `${direct}/transactions`, {
        amount: '100',
        asset_code: 'USDC',
        asset_issuer: issuer.publicKey(),
        funding_method: 'SEPA',
        sender_id: senderId,
        receiver_id: receiverId,
      });
      expect(created.status).toBe(201);
      expect(Object.keys(created.body!).sort()).toEqual([
        'id',
        'stellar_account_id',
        'stellar_memo',
        'stellar_memo_type',
      ]);
      expect(created.body).toMatchObject({
        stellar_account_id: distribution.publicKey(),
        stellar_memo_type: 'hash',
      });
      expect(Buffer.from(created.body!.stellar_memo, 'base64')).toHaveLength(32);
      transactionId = created.body!.id;

      const read = await call('GET', `${direct}/transactions/${transactionId}`);
      expect(read.status).toBe(200);
      expect(read.body!.transaction).toMatchObject({
        id: transactionId,
        status: 'pending_sender',
        amount_in: '100',
        amount_fee: '1.5',
        amount_out: '98.5',
        stellar_memo: created.body!.stellar_memo,
      });
    });

    it('registers a callback', async () => {
      const registered = await call(
        'PUT',
        `${toml.DIRECT_PAYMENT_SERVER}/transactions/${transactionId}/callback`,
        {
          url: receiver.url,
        },
      );
      expect(registered.status).toBe(204);
    });

    it('pays on Stellar with the memo; the transaction completes with signed callbacks for each status', async () => {
      const created = (await call('GET', `${toml.DIRECT_PAYMENT_SERVER}/transactions/${transactionId}`)).body!
        .transaction as Record<string, string>;
      const payment = horizon.appendPayment({
        from: acme,
        destination: created.stellar_account_id!,
        asset: new Asset('USDC', issuer.publicKey()),
        amount: '100',
        memo: Memo.hash(Buffer.from(created.stellar_memo!, 'base64').toString('hex')),
      });
      rpc?.addTransaction(payment);

      let transaction: Record<string, string> = {};
      for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
        transaction = (await call('GET', `${toml.DIRECT_PAYMENT_SERVER}/transactions/${transactionId}`)).body!
          .transaction as Record<string, string>;
        if (transaction.status === 'completed') break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(transaction).toMatchObject({
        status: 'completed',
        amount_in: '100',
        amount_out: '98.5',
        stellar_transaction_id: payment.transaction.hash,
      });
      expect(transaction.completed_at).toBeTruthy();
      expect(transaction.external_transaction_id).toBeTruthy();

      // Every status change after registration, in order, each signed with the SIGNING_KEY of stellar.toml.
      for (const deadline = Date.now() + 15_000; Date.now() < deadline;) {
        if (receiver.received.some((c) => c.body.includes('"completed"'))) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const statuses = receiver.statuses();
      expect(statuses).toEqual(expect.arrayContaining(['pending_receiver', 'completed']));
      expect(statuses.indexOf('pending_receiver')).toBeLessThan(statuses.indexOf('completed'));
      for (const callback of receiver.received) {
        expect(signatureIsValid(callback, toml.SIGNING_KEY!), callback.signature).toBe(true);
      }
    });

    it('a memo-bound token (sub G…:1) uses the customers its account registered under memos 1 and 2', async () => {
      // SDF's client tooling signs in for memo 1 and registered the receiver under memo 2 of the same account:
      // for SEP-31 the sending anchor is the account (SEP-12 itself stays memo-scoped).
      const memoToken = await signIn('1');
      expect(claimsOf(memoToken)).toMatchObject({ sub: `${acme.publicKey()}:1` });
      const direct = toml.DIRECT_PAYMENT_SERVER!;
      const created = await call(
        'POST',
        `${direct}/transactions`,
        {
          amount: '20',
          asset_code: 'USDC',
          asset_issuer: issuer.publicKey(),
          funding_method: 'SEPA',
          sender_id: senderId,
          receiver_id: receiverId,
        },
        memoToken,
      );
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const payment = horizon.appendPayment({
        from: acme,
        destination: created.body!.stellar_account_id,
        asset: new Asset('USDC', issuer.publicKey()),
        amount: '20',
        memo: Memo.hash(Buffer.from(created.body!.stellar_memo, 'base64').toString('hex')),
      });
      rpc?.addTransaction(payment);
      let status = '';
      for (const deadline = Date.now() + 30_000; Date.now() < deadline && status !== 'completed';) {
        const read = await call('GET', `${direct}/transactions/${created.body!.id}`, undefined, memoToken);
        status = (read.body!.transaction as Record<string, string>).status!;
        if (status !== 'completed') await new Promise((resolve) => setTimeout(resolve, 200));
      }
      // Paid out: the actor's own check of the customers (before the rails) agrees with the POST's.
      expect(status).toBe('completed');
    });

    it('answers bad input with a SEP error, never a 500', async () => {
      const direct = toml.DIRECT_PAYMENT_SERVER!;
      const bad = await call('POST', `${direct}/transactions`, { amount: 'NaN', asset_code: 'USDC' });
      expect(bad.status).toBe(400);
      expect(typeof bad.body!.error).toBe('string');
      const anonymous = await fetch(`${direct}/transactions`, { method: 'POST', body: '{}' });
      expect(anonymous.status).toBe(403);
    });
  },
);
