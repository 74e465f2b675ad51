import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Asset, Memo, Networks, TransactionBuilder, type Transaction } from '@stellar/stellar-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, type RunningBusinessServer } from '../../examples/business-server/server.ts';
import { startFakeHorizon, type FakeHorizon } from '../fakes/fake-horizon.ts';
import { KEYS, testConfigFile } from '../helpers/app.ts';
import { freePort, startMooringProcess, waitForHttp, type RunningProcess } from '../helpers/process.ts';
import type { OpenTestDatabase } from '../helpers/database.ts';
import { postgresForTests, waitUntil } from './support.ts';

const postgres = postgresForTests();

/**
 * `mooring serve` with every integration hook on the example business server (examples/business-server):
 * SEP-12 reviews, SEP-31 decisions and SEP-38 rates come from it over HTTP (docs/business-http.md). Then the
 * server goes away: the SEP endpoints that need it answer 503 with Retry-After (never 500, nothing lost),
 * and once it is back the same requests succeed and the review it missed is given.
 */
describe('mooring serve with the example business server', () => {
  const { acme, issuer, server: signing } = KEYS;
  const TOKEN = 'example-business-token-0123';
  const EUR = 'iso4217:EUR';
  const USDC = `stellar:USDC:${issuer.publicKey()}`;
  const businessOptions = {
    token: TOKEN,
    // Mooring signs with its SIGNING_KEY: the example refuses anything unsigned.
    signingKey: signing.publicKey(),
    sendingAnchors: [acme.publicKey()],
    prices: { [EUR]: '1.08' },
    fee: '0.5',
    maxAmount: '1000',
  };
  let business: RunningBusinessServer;
  let businessPort: number;
  let dir: string;
  let horizon: FakeHorizon;
  let mooring: RunningProcess;
  let database: OpenTestDatabase | undefined;
  let base: string;
  let token: string;

  beforeAll(async () => {
    businessPort = await freePort();
    business = await start({ ...businessOptions, port: businessPort });
    dir = await mkdtemp(join(tmpdir(), 'mooring-business-'));
    horizon = await startFakeHorizon();
    horizon.addAccount(acme.publicKey());
    const port = await freePort();
    base = `http://localhost:${port}`;
    const defaults = testConfigFile();
    const { jwtSecret: _generated, ...file } = testConfigFile({
      homeDomain: `localhost:${port}`,
      horizonUrl: horizon.url,
      assets: [{ ...defaults.assets![0]!, sep31: { ...defaults.assets![0]!.sep31!, quotesSupported: true } }],
      sep38: {
        offChainAssets: [
          {
            asset: EUR,
            significantDecimals: 2,
            countryCodes: ['DE'],
            buyDeliveryMethods: [{ name: 'SEPA', description: 'bank transfer' }],
          },
        ],
      },
      integrations: { business: { url: business.url, token: TOKEN, retries: 1 } },
      workers: { expireIntervalSeconds: 1 },
    });
    await writeFile(join(dir, 'mooring.json'), JSON.stringify(file));
    // PostgreSQL when there is one (CI): it starts faster than the embedded database on a busy machine.
    database = await postgres?.open();
    mooring = startMooringProcess(['serve'], {
      ...(database?.url && { DATABASE_URL: database.url }),
      EXECUTE_OUTGOING_INTERVAL: '1',
      POLL_OUTGOING_INTERVAL: '1',
      BUSINESS_SERVER_TIMEOUT: '2',
      PORT: `${port}`,
      MOORING_CONFIG: join(dir, 'mooring.json'),
      MOORING_DATA_DIR: join(dir, 'data'),
    });
    await waitForHttp(`${base}/ready`, mooring, 100_000);
    token = await signIn();
  }, 150_000);
  afterAll(async () => {
    await mooring?.stop();
    await business?.close();
    await horizon?.close();
    await database?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function signIn(): Promise<string> {
    const challenge = await fetch(`${base}/auth?account=${acme.publicKey()}`);
    const { transaction } = (await challenge.json()) as Record<string, string>;
    const signed = TransactionBuilder.fromXDR(transaction!, Networks.TESTNET) as Transaction;
    signed.sign(acme);
    const response = await fetch(`${base}/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ transaction: signed.toXDR() }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { token: string }).token;
  }

  /** Every response of this suite, so none can hide a 500. */
  const statuses: number[] = [];
  async function call(method: string, path: string, body?: unknown) {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    statuses.push(response.status);
    const text = await response.text();
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies of several SEP shapes
      body: text ? (JSON.parse(text) as Record<string, any>) : null,
    };
  }
  /** Pays a created transaction its amount (100 USDC) on the fake Horizon, with its memo. */
  function payExactly(created: Record<string, string>) {
    horizon.appendPayment({
      from: acme,
      destination: created.stellar_account_id!,
      asset: new Asset('USDC', issuer.publicKey()),
      amount: '100',
      memo: Memo.hash(Buffer.from(created.stellar_memo!, 'base64').toString('hex')),
    });
  }
  /** The transaction once `completed`, as the sending anchor reads it. */
  const completed = (id: string) =>
    waitUntil(`transaction ${id} to complete`, async () => {
      const read = await call('GET', `/sep31/transactions/${id}`);
      return read.body!.transaction.status === 'completed' && read.body!.transaction;
    });
  const seen = (route: string) => business.requests.filter((r) => `${r.method} ${r.path}` === route);

  const sender = { memo: '1', type: 'sep31-sender', first_name: 'Ada', last_name: 'Lovelace' };
  const receiver = {
    memo: '2',
    type: 'sep31-receiver',
    first_name: 'Grace',
    last_name: 'Hopper',
    bank_account_number: '12345678',
    bank_number: '021000021',
  };
  const transaction = (amount: string, ids: { sender_id: string; receiver_id: string }) => ({
    amount,
    asset_code: 'USDC',
    asset_issuer: issuer.publicKey(),
    funding_method: 'SEPA',
    ...ids,
  });
  const firmQuote = { sell_asset: USDC, buy_asset: EUR, sell_amount: '100', context: 'sep31' };
  let ids: { sender_id: string; receiver_id: string };

  it('SEP-12: the business server reviews each PUT; its field verdicts and errors reach the sending anchor', async () => {
    const s = await call('PUT', '/sep12/customer', sender);
    const r = await call('PUT', '/sep12/customer', receiver);
    ids = { sender_id: s.body!.id, receiver_id: r.body!.id };
    expect(
      (await call('GET', `/sep12/customer?id=${ids.receiver_id}&type=sep31-receiver`)).body,
    ).toMatchObject({
      status: 'ACCEPTED',
    });
    expect(business.verdicts.get(`${ids.receiver_id}:sep31-receiver`)?.status).toBe('ACCEPTED');

    const bad = await call('PUT', '/sep12/customer', { ...receiver, memo: '3', bank_account_number: '12ab' });
    const judged = await call('GET', `/sep12/customer?id=${bad.body!.id}&type=sep31-receiver`);
    expect(judged.body).toMatchObject({
      status: 'NEEDS_INFO',
      provided_fields: {
        bank_account_number: { status: 'REJECTED', error: 'bank_account_number must be digits only' },
      },
    });
    // Authenticated and signed: the example refuses anything else with 401.
    expect(seen('PUT /customer').length).toBeGreaterThanOrEqual(3);
    expect(business.requests.every((request) => request.authorized && request.signed)).toBe(true);
  });

  it('SEP-31: /info carries the server info, and a POST it refuses is the SEP error body', async () => {
    const info = await call('GET', '/sep31/info');
    expect(info.body!.receive.USDC).toMatchObject({
      enabled: true,
      fields: { transaction: { purpose: { description: 'why the money is sent', optional: true } } },
    });
    const refused = await call('POST', '/sep31/transactions', transaction('2000', ids));
    expect(refused).toMatchObject({ status: 400, body: { error: 'amounts over 1000 need a manual review' } });
    expect(seen('POST /process_post_request').length).toBe(1);
  });

  it('SEP-38: a firm quote is priced by GET /rate, exactly', async () => {
    const quote = await call('POST', '/sep38/quote', firmQuote);
    expect(quote.status, JSON.stringify(quote.body)).toBe(201);
    // (100 − 0.5) / 1.08 = 92.129…, down to EUR's 2 decimals.
    expect(quote.body).toMatchObject({
      sell_asset: USDC,
      sell_amount: '100',
      buy_asset: EUR,
      buy_amount: '92.12',
      price: '1.08',
      fee: { total: '0.5', asset: USDC },
    });
    const asked = seen('GET /rate');
    expect(asked.length).toBeGreaterThanOrEqual(1);
  });

  it('SEP-31: a transaction accepted by the server is paid and completed', async () => {
    const created = await call('POST', '/sep31/transactions', transaction('100', ids));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    payExactly(created.body!);
    const done = await completed(created.body!.id);
    expect(done).toMatchObject({ amount_in: '100', amount_out: '98.5' });
  });

  it('SEP-31 on a firm quote priced by the server: paid and completed with the quote’s amounts', async () => {
    const quote = await call('POST', '/sep38/quote', { ...firmQuote, buy_delivery_method: 'SEPA' });
    expect(quote.status, JSON.stringify(quote.body)).toBe(201);
    const created = await call('POST', '/sep31/transactions', {
      ...transaction('100', ids),
      quote_id: quote.body!.id,
      destination_asset: EUR,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    // The server's last word saw the quote it is asked to accept.
    expect(seen('POST /process_post_request').at(-1)!.body).toMatchObject({
      quote_id: quote.body!.id,
      destination_asset: EUR,
      amount_out: '92.12',
      amount_out_asset: EUR,
    });
    payExactly(created.body!);
    const done = await completed(created.body!.id);
    expect(done).toMatchObject({
      quote_id: quote.body!.id,
      amount_in: '100',
      amount_in_asset: USDC,
      amount_out: '92.12',
      amount_out_asset: EUR,
      fee_details: { total: '0.5', asset: USDC },
    });
  });

  it('the server goes away: 503 with Retry-After where it is needed, nothing lost; back, the same requests succeed', async () => {
    await business.close();
    const down = [
      await call('GET', '/sep31/info'),
      await call('POST', '/sep31/transactions', transaction('100', ids)),
      await call('POST', '/sep38/quote', firmQuote),
      await call('GET', `/sep38/price?sell_asset=${USDC}&buy_asset=${EUR}&sell_amount=100&context=sep31`),
    ];
    for (const answer of down) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(503);
      expect(answer.retryAfter).not.toBeNull();
      expect(answer.body).toEqual({
        error: "the anchor's business server did not answer; try again shortly",
      });
    }
    // A SEP-12 PUT is stored all the same: its fields wait for the review (PROCESSING).
    const waiting = await call('PUT', '/sep12/customer', { ...sender, memo: '9', first_name: 'Edsger' });
    expect(waiting.status).toBe(202);
    const pending = await call('GET', `/sep12/customer?id=${waiting.body!.id}&type=sep31-sender`);
    expect(pending.body).toMatchObject({ status: 'PROCESSING' });

    business = await start({ ...businessOptions, port: businessPort });
    expect((await call('GET', '/sep31/info')).status).toBe(200);
    expect((await call('POST', '/sep31/transactions', transaction('100', ids))).status).toBe(201);
    expect((await call('POST', '/sep38/quote', firmQuote)).status).toBe(201);
    // The review worker asks again (recheck: the new server does not know the customer, so it is PUT).
    await waitUntil(
      'the missed review',
      async () =>
        (await call('GET', `/sep12/customer?id=${waiting.body!.id}&type=sep31-sender`)).body!.status ===
        'ACCEPTED',
      { timeoutMs: 30_000, everyMs: 500 },
    );
    expect(seen('GET /customer').length + seen('PUT /customer').length).toBeGreaterThanOrEqual(1);
    expect(statuses.filter((status) => status >= 500 && status !== 503)).toEqual([]);
  });
});
