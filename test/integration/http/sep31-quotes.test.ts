/**
 * SEP-31 transactions on SEP-38 quotes, through the real app: every quote rule of `POST /transactions`,
 * what `GET /transactions/:id` shows, `/info`'s quotes_supported, the quote's expiry as the payment
 * deadline (the expire worker ends it), and a payment made after the quote expired (never credited).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { transactionEventMessage } from '../../../src/actors/messages.ts';
import type { TransactionEvent } from '../../../machines/index.ts';
import type { ConfigFile } from '../../../src/config/index.ts';
import { findQuote } from '../../../src/db/quotes.repository.ts';
import { findTransaction } from '../../../src/db/transactions.repository.ts';
import { runExpirePass } from '../../../src/workers/index.ts';
import { buildTestApp, eventually, KEYS, testConfigFile, tokenFor, type TestApp } from '../../helpers/app.ts';
import { testDatabases, type TestDatabase } from '../../helpers/database.ts';

const ISSUER = KEYS.issuer.publicKey();
const USDC = `stellar:USDC:${ISSUER}`;
const EURC = `stellar:EURC:${ISSUER}`;
const GBPC = `stellar:GBPC:${ISSUER}`;
const BRL = 'iso4217:BRL';
const START = new Date('2026-12-03T12:00:00.000Z');
const QUOTE_SECONDS = 300;

const base = testConfigFile();
const usdc = base.assets![0]!;
const asset = (code: string, sep31: object) => ({ ...usdc, code, sep31: { ...usdc.sep31, ...sep31 } });

/**
 * USDC and EURC quoted for BRL (EURC only on quotes); GBPC has a rate but is not configured for quotes;
 * JPYC is configured for quotes but the rates have none for it. Delivered by PIX (a SEP-31 funding method).
 */
const FILE = {
  ...base,
  assets: [
    asset('USDC', { quotesSupported: true, fundingMethods: ['PIX', 'SEPA'] }),
    asset('EURC', { quotesSupported: true, quotesRequired: true, fundingMethods: ['PIX'] }),
    asset('GBPC', { quotesSupported: false, fundingMethods: ['PIX'] }),
    asset('JPYC', { quotesSupported: true, fundingMethods: ['PIX'] }),
  ],
  sep12: { types: {} },
  sep38: {
    quoteExpirySeconds: QUOTE_SECONDS,
    offChainAssets: [
      {
        asset: BRL,
        significantDecimals: 2,
        countryCodes: ['BR'],
        buyDeliveryMethods: [
          { name: 'PIX', description: 'Instant payment' },
          { name: 'TED', description: 'Bank transfer' },
        ],
      },
    ],
    rates: [USDC, EURC, GBPC].map((sellAsset) => ({
      sellAsset,
      buyAsset: BRL,
      price: '0.18',
      feeFixed: '0.5',
      feePercent: '1',
    })),
  },
} as ConfigFile;

interface QuoteBody {
  id: string;
  expires_at: string;
  sell_amount: string;
  buy_amount: string;
  buy_asset: string;
  fee: { total: string; asset: string; details?: unknown[] };
}

describe.each(testDatabases())('SEP-31 on SEP-38 quotes on $name', (database: TestDatabase) => {
  let t: TestApp;
  let now = START;

  beforeAll(async () => {
    t = await buildTestApp({ file: FILE, database, clock: () => now });
  });
  afterAll(() => t.close());
  afterEach(() => {
    now = START;
  });

  const auth = async (key = KEYS.acme) => ({
    authorization: `Bearer ${await tokenFor(t.config, key.publicKey(), { now })}`,
  });

  async function quote(overrides: object = {}, key = KEYS.acme): Promise<QuoteBody> {
    const response = await t.app.inject({
      method: 'POST',
      url: '/sep38/quote',
      headers: await auth(key),
      payload: {
        sell_asset: USDC,
        buy_asset: BRL,
        sell_amount: '100',
        buy_delivery_method: 'PIX',
        context: 'sep31',
        ...overrides,
      },
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json();
  }

  const post = async (body: object, headers: Record<string, string> = {}) =>
    t.app.inject({
      method: 'POST',
      url: '/sep31/transactions',
      headers: { ...(await auth()), ...headers },
      payload: body,
    });
  const onQuote = (q: QuoteBody, overrides: object = {}) => ({
    asset_code: 'USDC',
    amount: q.sell_amount,
    destination_asset: BRL,
    quote_id: q.id,
    ...overrides,
  });
  const read = async (id: string) =>
    (await t.app.inject({ method: 'GET', url: `/sep31/transactions/${id}`, headers: await auth() })).json<{
      transaction: Record<string, unknown>;
    }>().transaction;
  const errorOf = async (body: object) => {
    const response = await post(body);
    expect(response.statusCode, response.body).toBe(400);
    return response.json<{ error: string }>().error;
  };

  it('/info: quotes_supported only where configured and the rates quote the asset', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/sep31/info' });
    const receive = response.json<{ receive: Record<string, Record<string, unknown>> }>().receive;
    expect(receive.USDC).toMatchObject({ quotes_supported: true, quotes_required: false });
    expect(receive.EURC).toMatchObject({ quotes_supported: true, quotes_required: true });
    expect(receive.GBPC).toMatchObject({ quotes_supported: false, quotes_required: false });
    expect(receive.JPYC).toMatchObject({ quotes_supported: false, quotes_required: false });
  });

  it('a transaction on a firm quote carries its amounts, takes it, and must be paid before it expires', async () => {
    now = new Date(START.getTime() + 10_000);
    const q = await quote();
    const response = await post(onQuote(q));
    expect(response.statusCode, response.body).toBe(201);
    const { id } = response.json<{ id: string }>();
    const transaction = await read(id);
    expect(transaction).toMatchObject({
      id,
      status: 'pending_sender',
      quote_id: q.id,
      amount_in: '100',
      amount_in_asset: USDC,
      amount_out: q.buy_amount,
      amount_out_asset: BRL,
      amount_fee: q.fee.total,
      amount_fee_asset: q.fee.asset,
      fee_details: q.fee,
    });
    // 0.18 USDC per BRL after a fee of 0.50 + 1 %: (100 − 1.5) / 0.18 = 547.22 BRL.
    expect(q).toMatchObject({ buy_amount: '547.22', fee: { total: '1.5', asset: USDC } });
    expect((await findQuote(t.db, q.id))?.transactionId).toBe(id);
    const row = await findTransaction(t.db, id);
    expect(new Date(row!.expires_at!).toISOString()).toBe(q.expires_at);
    expect(row?.funding_method).toBe('PIX');
  });

  it('destination_asset may be left out: the quote says what is delivered', async () => {
    const q = await quote();
    const response = await post(onQuote(q, { destination_asset: undefined, funding_method: 'PIX' }));
    expect(response.statusCode, response.body).toBe(201);
    expect(await read(response.json<{ id: string }>().id)).toMatchObject({
      amount_out_asset: BRL,
      amount_out: q.buy_amount,
    });
  });

  it('refuses a quote that is not the caller’s, unknown, or expired', async () => {
    const rivals = await quote({}, KEYS.rival);
    expect(await errorOf(onQuote(rivals))).toBe(`quote ${rivals.id} not found`);
    const unknown = randomUUID();
    expect(await errorOf({ ...onQuote(rivals), quote_id: unknown })).toBe(`quote ${unknown} not found`);
    const q = await quote();
    now = new Date(Date.parse(q.expires_at));
    expect(await errorOf(onQuote(q))).toBe(`quote ${q.id} expired at ${q.expires_at}`);
    expect((await findQuote(t.db, q.id))?.transactionId).toBeNull();
  });

  it('refuses a request that does not match its quote', async () => {
    const q = await quote();
    expect(await errorOf(onQuote(q, { asset_code: 'EURC' }))).toBe(
      `the quote's sell_asset ${USDC} is not the asset of this request (${EURC})`,
    );
    expect(await errorOf(onQuote(q, { destination_asset: 'iso4217:EUR' }))).toBe(
      `destination_asset iso4217:EUR does not match the quote's buy_asset ${BRL}`,
    );
    expect(await errorOf(onQuote(q, { amount: '99.99' }))).toBe(
      "amount 99.99 does not match the quote's sell_amount 100",
    );
    expect(await errorOf(onQuote(q, { funding_method: 'SEPA' }))).toBe(
      "funding_method SEPA does not match the quote's buy_delivery_method PIX",
    );
    // Nothing was taken: the quote still makes a transaction.
    expect((await post(onQuote(q))).statusCode).toBe(201);
  });

  it('an asset with quotes_required refuses a POST without a firm quote', async () => {
    expect(await errorOf({ asset_code: 'EURC', amount: '100' })).toBe('a quote_id is required for EURC');
    expect(await errorOf({ asset_code: 'EURC', amount: '100', destination_asset: BRL })).toBe(
      'a quote_id is required for EURC',
    );
    const q = await quote({ sell_asset: EURC });
    expect((await post(onQuote(q, { asset_code: 'EURC' }))).statusCode).toBe(201);
  });

  it('refuses quote_id and destination_asset for an asset whose quotes_supported is false', async () => {
    const q = await quote({ sell_asset: GBPC });
    for (const code of ['GBPC', 'JPYC']) {
      expect(await errorOf(onQuote(q, { asset_code: code }))).toBe(
        `quotes are not supported for ${code}: send neither quote_id nor destination_asset`,
      );
      expect(await errorOf({ asset_code: code, amount: '100', destination_asset: BRL })).toMatch(
        /quotes are not supported/,
      );
    }
    expect((await findQuote(t.db, q.id))?.transactionId).toBeNull();
  });

  it('a quote makes one transaction: used again it is a 400, never a second transaction', async () => {
    const q = await quote();
    expect((await post(onQuote(q))).statusCode).toBe(201);
    expect(await errorOf(onQuote(q))).toBe(`quote ${q.id} has already been used`);
    const on = await t.db.selectFrom('transactions').select('id').where('quote_id', '=', q.id).execute();
    expect(on).toHaveLength(1);
  });

  it('two POSTs racing for one quote: exactly one 201 and one 400', async () => {
    for (let round = 0; round < 5; round++) {
      const q = await quote();
      const answers = await Promise.all([post(onQuote(q)), post(onQuote(q)), post(onQuote(q))]);
      const statuses = answers.map((a) => a.statusCode).sort();
      expect(statuses, answers.map((a) => a.body).join('\n')).toEqual([201, 400, 400]);
      for (const refused of answers.filter((a) => a.statusCode === 400)) {
        expect(refused.json()).toEqual({ error: `quote ${q.id} has already been used` });
      }
      const on = await t.db.selectFrom('transactions').select('id').where('quote_id', '=', q.id).execute();
      expect(on.map((row) => row.id)).toEqual([answers.find((a) => a.statusCode === 201)!.json().id]);
    }
  });

  it('a keyed POST on a quote replays as the same 201, also when its twin races it', async () => {
    const q = await quote();
    const key = { 'idempotency-key': `quote-${q.id}` };
    const first = await post(onQuote(q), key);
    expect(first.statusCode, first.body).toBe(201);
    const again = await post(onQuote(q), key);
    expect(again.statusCode, again.body).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());

    const other = await quote();
    const twinKey = { 'idempotency-key': `twins-${other.id}` };
    const twins = await Promise.all([post(onQuote(other), twinKey), post(onQuote(other), twinKey)]);
    expect(twins.map((a) => a.statusCode)).toEqual([201, 201]);
    expect(twins[0]!.json()).toEqual(twins[1]!.json());
  });

  it('destination_asset alone: an indicative price, as GET /sep38/price gives it; no quote is stored', async () => {
    const price = await t.app.inject({
      method: 'GET',
      url: `/sep38/price?${new URLSearchParams({ sell_asset: USDC, buy_asset: BRL, sell_amount: '50', buy_delivery_method: 'PIX', context: 'sep31' })}`,
    });
    expect(price.statusCode, price.body).toBe(200);
    const quotesBefore = await t.db.selectFrom('quotes').select('id').execute();
    const response = await post({ asset_code: 'USDC', amount: '50', destination_asset: BRL });
    expect(response.statusCode, response.body).toBe(201);
    const transaction = await read(response.json<{ id: string }>().id);
    const priced = price.json<{ buy_amount: string; fee: object }>();
    expect(transaction).toMatchObject({
      amount_in: '50',
      amount_in_asset: USDC,
      amount_out: priced.buy_amount,
      amount_out_asset: BRL,
      fee_details: priced.fee,
    });
    expect(transaction.quote_id).toBeUndefined();
    expect(await t.db.selectFrom('quotes').select('id').execute()).toEqual(quotesBefore);
    expect(await errorOf({ asset_code: 'USDC', amount: '50', destination_asset: 'iso4217:EUR' })).toBe(
      'destination_asset iso4217:EUR is not an off-chain asset this anchor delivers',
    );
    expect(
      await errorOf({ asset_code: 'USDC', amount: '50', destination_asset: BRL, funding_method: 'SEPA' }),
    ).toBe(`funding_method SEPA is not a delivery method of ${BRL}`);
  });

  it('the quote’s expiry is the payment deadline: the expire worker ends the unpaid transaction', async () => {
    const q = await quote();
    const { id } = (await post(onQuote(q))).json<{ id: string }>();
    const expire = (at: Date) => runExpirePass({ db: t.db, bus: t.bus, clock: () => at });
    const deadline = Date.parse(q.expires_at);
    expect(await expire(new Date(deadline - 1))).toMatchObject({ due: 0 });
    expect((await read(id)).status).toBe('pending_sender');
    now = new Date(deadline);
    await expire(now);
    await eventually('the transaction to expire', async () => (await read(id)).status === 'expired');
  });

  it('a payment made after the quote expired is stored as unmatched (`expired`), never credited', async () => {
    const q = await quote();
    const { id } = (await post(onQuote(q))).json<{ id: string }>();
    const late = new Date(Date.parse(q.expires_at) + 1_000).toISOString();
    // Still pending_sender (the expire worker has not run): the actor refuses the late payment.
    await pay(id, 'late-1', late);
    expect((await read(id)).status).toBe('pending_sender');
    // Expired: a payment after that is refused the same way.
    await runExpirePass({ db: t.db, bus: t.bus, clock: () => new Date(late) });
    await eventually('the transaction to expire', async () => (await read(id)).status === 'expired');
    await pay(id, 'late-2', late);
    const rows = await t.db
      .selectFrom('unmatched_payments')
      .select(['operation_id', 'reason', 'transaction_id'])
      .where('transaction_id', '=', id)
      .orderBy('operation_id')
      .execute();
    expect(rows).toEqual([
      { operation_id: 'late-1', reason: 'expired', transaction_id: id },
      { operation_id: 'late-2', reason: 'expired', transaction_id: id },
    ]);
    expect(await read(id)).not.toHaveProperty('stellar_transaction_id');
  });

  it('a partial refund keeps the quote’s price: amount_out in BRL falls by the same share, to cents', async () => {
    const q = await quote();
    const { id } = (await post(onQuote(q))).json<{ id: string }>();
    await pay(id, 'paid-1', new Date(Date.parse(q.expires_at) - 1_000).toISOString());
    const at = new Date(Date.parse(q.expires_at) + 60_000).toISOString();
    const send = (eventId: string, event: TransactionEvent) =>
      t.bus.request(transactionEventMessage(id, eventId, event), { timeoutMs: 10_000 });
    // The credit asked for the payout at once: the rails' answer sends it back for the receiver's details.
    await send('info-needed', {
      type: 'CUSTOMER_INFO_NEEDED',
      at,
      message: 'the receiver’s bank account was closed',
    });
    await send('refund-asked', {
      type: 'REFUND_REQUESTED',
      at,
      refundId: `${id}:refund:1`,
      amount: '10',
      fee: '0',
      sentBy: 'business',
    });
    await send('refund-sent', {
      type: 'REFUND_SENT',
      at,
      refundId: `${id}:refund:1`,
      refund: { id: 'refund-1', amount: '10', fee: '0' },
    });
    // 88.5 of the 98.5 USDC net still held: 547.22 × 88.5 / 98.5 = 491.6646… BRL, rounded down to cents.
    await eventually('the refund to be applied', async () => (await read(id)).amount_out !== q.buy_amount);
    expect(await read(id)).toMatchObject({ amount_out: '491.66', amount_out_asset: BRL });
  });

  /** The watcher's credit of `operationId` to transaction `id`, made on the ledger at `createdAt`. */
  async function pay(id: string, operationId: string, createdAt: string) {
    const payment = {
      operationId,
      transactionHash: operationId.padEnd(64, '0'),
      amount: '100',
      assetCode: 'USDC',
      assetIssuer: ISSUER,
      createdAt,
    };
    const row = (await findTransaction(t.db, id))!;
    const [account, memoType, memo] = [row.stellar_account_id!, row.stellar_memo_type, row.stellar_memo];
    await t.bus.request(
      transactionEventMessage(
        id,
        operationId,
        { type: 'PAYMENT_RECEIVED', at: createdAt, payment },
        { ...payment, account, fromAccount: KEYS.acme.publicKey(), memoType, memo },
      ),
      { timeoutMs: 10_000 },
    );
  }
});
