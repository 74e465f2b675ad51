import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Memo, TransactionBuilder, type Transaction } from '@stellar/stellar-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS, testConfigFile } from '../helpers/app.ts';
import { freePort, waitForHttp } from '../helpers/process.ts';
import {
  USDC,
  natsUrlForTests,
  outputs,
  postgresForTests,
  startWorld,
  waitUntil,
  type World,
} from './support.ts';

const postgres = postgresForTests();
const natsUrl = natsUrlForTests();

const USDC_ID = `stellar:USDC:${KEYS.issuer.publicKey()}`;
const BRL = 'iso4217:BRL';

/**
 * A sending anchor pays out in Brazilian reais on a firm SEP-38 quote, against two `mooring` processes that
 * share PostgreSQL and NATS (each serves HTTP and hosts actors): it asks one for a quote, sends the same
 * quote to both at once (one transaction, one 400), pays exactly the quote's `sell_amount` on Stellar and
 * sees the transaction `completed` with the quote's amounts; the rails paid the quote's `buy_amount`.
 */
describe.skipIf(!postgres || !natsUrl)('a transaction on a firm quote, end to end (Postgres + NATS)', () => {
  let world: World;
  let sandboxJson: string | undefined;
  let base1: string;
  let base2: string;
  let token: string;

  beforeAll(async () => {
    const [port1, port2] = [await freePort(), await freePort()];
    base1 = `http://127.0.0.1:${port1}`;
    base2 = `http://127.0.0.1:${port2}`;
    const usdc = testConfigFile().assets![0]!;
    world = await startWorld({
      database: postgres!,
      natsUrl: natsUrl!,
      config: {
        homeDomain: `localhost:${port1}`,
        assets: [{ ...usdc, sep31: { ...usdc.sep31, quotesSupported: true, fundingMethods: ['PIX'] } }],
        sep12: { types: {} },
        sep38: {
          offChainAssets: [
            { asset: BRL, significantDecimals: 2, buyDeliveryMethods: [{ name: 'PIX', description: 'PIX' }] },
          ],
          rates: [{ sellAsset: USDC_ID, buyAsset: BRL, price: '0.18', feeFixed: '0.5', feePercent: '1' }],
        },
      },
      sandboxJson: () => sandboxJson,
    });
    // The first process migrates and creates the sandbox secrets; the second gets a copy (shared JWT secret).
    const first = await world.start('all', ['serve'], { PORT: `${port1}` });
    await waitForHttp(`${base1}/ready`, first);
    sandboxJson = readFileSync(join(first.dataDir, 'sandbox.json'), 'utf8');
    const second = await world.start('http-actors', ['serve', '--only', 'http', 'actors'], {
      PORT: `${port2}`,
    });
    await waitForHttp(`${base2}/ready`, second);
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
    await world?.close();
  });

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

  it('signs in with SEP-10 and sees USDC quoted for BRL', async () => {
    const challenge = await fetch(`${base1}/auth?account=${KEYS.acme.publicKey()}`);
    const { transaction, network_passphrase } = (await challenge.json()) as Record<string, string>;
    const signed = TransactionBuilder.fromXDR(transaction!, network_passphrase!) as Transaction;
    signed.sign(KEYS.acme);
    const response = await fetch(`${base1}/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ transaction: signed.toXDR() }),
    });
    expect(response.status).toBe(200);
    token = ((await response.json()) as { token: string }).token;
    const info = await call(base2, 'GET', '/sep31/info');
    expect(info.body!.receive.USDC).toMatchObject({ quotes_supported: true, quotes_required: false });
    const prices = await call(base2, 'GET', `/sep38/prices?sell_asset=${USDC_ID}&sell_amount=100`);
    expect(prices.body!.buy_assets).toEqual([{ asset: BRL, price: '0.18', decimals: 2 }]);
  });

  it('creates, pays and completes a transaction on a firm quote, with the quote’s amounts', async () => {
    const quote = await call(base1, 'POST', '/sep38/quote', {
      sell_asset: USDC_ID,
      buy_asset: BRL,
      sell_amount: '100',
      context: 'sep31',
    });
    expect(quote.status, JSON.stringify(quote.body)).toBe(201);
    const q = quote.body!;
    expect(q).toMatchObject({
      sell_amount: '100',
      buy_amount: '547.22',
      fee: { total: '1.5', asset: USDC_ID },
    });

    // The same quote at both processes at once: their actors race for it in the database.
    const request = { asset_code: 'USDC', amount: '100', destination_asset: BRL, quote_id: q.id };
    const answers = await Promise.all([
      call(base1, 'POST', '/sep31/transactions', request),
      call(base2, 'POST', '/sep31/transactions', request),
    ]);
    expect(answers.map((a) => a.status).sort(), JSON.stringify(answers)).toEqual([201, 400]);
    expect(answers.find((a) => a.status === 400)!.body).toEqual({
      error: `quote ${q.id} has already been used`,
    });
    const created = answers.find((a) => a.status === 201)!.body!;

    const payment = world.horizon.appendPayment({
      from: KEYS.acme,
      destination: created.stellar_account_id,
      asset: USDC(),
      amount: q.sell_amount,
      memo: Memo.hash(Buffer.from(created.stellar_memo, 'base64').toString('hex')),
    });
    const completed = await waitUntil(
      'the quoted transaction to complete',
      async () => {
        const read = await call(base2, 'GET', `/sep31/transactions/${created.id}`);
        const transaction = read.body!.transaction as Record<string, unknown>;
        return transaction.status === 'completed' ? transaction : undefined;
      },
      { timeoutMs: 45_000, diagnostics: () => outputs(world.processes) },
    );
    expect(completed).toMatchObject({
      quote_id: q.id,
      amount_in: q.sell_amount,
      amount_in_asset: USDC_ID,
      amount_out: q.buy_amount,
      amount_out_asset: q.buy_asset,
      amount_fee: q.fee.total,
      fee_details: q.fee,
      stellar_transaction_id: payment.transaction.hash,
    });
    const payouts = await world.db
      .selectFrom('reference_rails_payouts')
      .select(['amount', 'asset', 'funding_method'])
      .where('transaction_id', '=', created.id)
      .execute();
    expect(payouts).toEqual([{ amount: '547.2200000', asset: BRL, funding_method: 'PIX' }]);
    const transactions = await world.db
      .selectFrom('transactions')
      .select('id')
      .where('quote_id', '=', q.id)
      .execute();
    expect(transactions).toEqual([{ id: created.id }]);
  });
});
