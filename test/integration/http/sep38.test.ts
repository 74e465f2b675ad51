import { randomUUID } from 'node:crypto';
import { parse } from 'smol-toml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startActorHost } from '../../../src/actors/actor-host.ts';
import { createQuoteCommands, type NewQuote } from '../../../src/actors/quote-commands.ts';
import { createInProcessBus, createNatsBus, silentLogger, type EventBus } from '../../../src/bus/index.ts';
import { claimQuote, findQuote } from '../../../src/db/quotes.repository.ts';
import {
  buildTestApp,
  KEYS,
  quietLog,
  testConfig,
  testConfigFile,
  tokenFor,
  type TestApp,
} from '../../helpers/app.ts';
import { testDatabases, type TestDatabase } from '../../helpers/database.ts';
import { deleteStreams, natsUrlForTests, uniqueTestName } from '../../helpers/nats.ts';

const USDC = `stellar:USDC:${KEYS.issuer.publicKey()}`;
const BRL = 'iso4217:BRL';
const START = new Date('2026-12-03T12:00:00.000Z');

/** USDC (2 decimals, SEP-31 amounts 1..100000) sold for BRL at 0.18 USDC per BRL, fee 0.50 + 1 %. */
const FILE = testConfigFile({
  sep38: {
    quoteExpirySeconds: 300,
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
    rates: [{ sellAsset: USDC, buyAsset: BRL, price: '0.18', feeFixed: '0.5', feePercent: '1' }],
  },
});

const firmRequest = {
  sell_asset: USDC,
  buy_asset: BRL,
  sell_amount: '100',
  buy_delivery_method: 'PIX',
  country_code: 'BR',
  context: 'sep31',
};

describe.each(testDatabases())('SEP-38 on $name', (database: TestDatabase) => {
  let t: TestApp;
  let now = START;
  const auth = async (key = KEYS.acme) => ({
    authorization: `Bearer ${await tokenFor(t.config, key.publicKey(), { now })}`,
  });

  beforeAll(async () => {
    t = await buildTestApp({ file: FILE, database, clock: () => now });
  });
  afterAll(() => t.close());
  afterEach(() => {
    now = START;
  });

  const get = (url: string, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'GET', url, headers });
  const postQuote = async (body: object, headers?: Record<string, string>) =>
    t.app.inject({ method: 'POST', url: '/sep38/quote', headers: headers ?? (await auth()), payload: body });
  const query = (params: Record<string, string>) => new URLSearchParams(params).toString();

  it('announces the quote server in stellar.toml', async () => {
    const toml = parse((await get('/.well-known/stellar.toml')).body);
    expect(toml.ANCHOR_QUOTE_SERVER).toBe('http://localhost:8000/sep38');
  });

  it('GET /info lists the Stellar asset and the off-chain asset with its delivery methods and countries', async () => {
    const response = await get('/sep38/info');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      assets: [
        { asset: USDC },
        {
          asset: BRL,
          buy_delivery_methods: [
            { name: 'PIX', description: 'Instant payment' },
            { name: 'TED', description: 'Bank transfer' },
          ],
          country_codes: ['BR'],
        },
      ],
    });
  });

  it('GET /prices prices each asset the given one trades with, selling or buying', async () => {
    const selling = await get(`/sep38/prices?${query({ sell_asset: USDC, sell_amount: '100' })}`);
    expect(selling.statusCode).toBe(200);
    expect(selling.json()).toEqual({ buy_assets: [{ asset: BRL, price: '0.18', decimals: 2 }] });
    const buying = await get(`/sep38/prices?${query({ buy_asset: BRL, buy_amount: '500' })}`);
    expect(buying.json()).toEqual({ sell_assets: [{ asset: USDC, price: '0.18', decimals: 2 }] });
  });

  it.each([
    ['both assets', { sell_asset: USDC, buy_asset: BRL, sell_amount: '100' }],
    ['neither asset', { sell_amount: '100' }],
    ['no amount', { sell_asset: USDC }],
    ['the other side’s amount', { sell_asset: USDC, buy_amount: '100' }],
    ['an unknown asset', { sell_asset: 'iso4217:XYZ', sell_amount: '100' }],
  ])('GET /prices with %s is a 400', async (_name, params) => {
    const response = await get(`/sep38/prices?${query(params)}`);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: expect.any(String) });
  });

  it('GET /price for a sell amount: the fee comes off first, the buy amount is rounded down to its decimals', async () => {
    const response = await get(
      `/sep38/price?${query({ sell_asset: USDC, buy_asset: BRL, sell_amount: '100', context: 'sep31' })}`,
    );
    expect(response.statusCode).toBe(200);
    // fee = 0.50 + 1 % of 100 = 1.50; 98.50 / 0.18 = 547.2222… → 547.22; 100 / 547.22 = 0.18274185…
    expect(response.json()).toEqual({
      total_price: '0.1827419',
      price: '0.18',
      sell_amount: '100',
      buy_amount: '547.22',
      fee: {
        total: '1.5',
        asset: USDC,
        details: [
          { name: 'fixed', amount: '0.5' },
          { name: 'percent', amount: '1' },
        ],
      },
    });
  });

  it('GET /price for a buy amount: what it costs and the fee on top are rounded up to the sell decimals', async () => {
    const response = await get(
      `/sep38/price?${query({ sell_asset: USDC, buy_asset: BRL, buy_amount: '500', context: 'sep31' })}`,
    );
    expect(response.statusCode).toBe(200);
    // 500 × 0.18 = 90.00 net; (90 + 0.50) / 0.99 = 91.4141… → 91.42 sold; fee 1.42.
    expect(response.json()).toEqual({
      total_price: '0.18284',
      price: '0.18',
      sell_amount: '91.42',
      buy_amount: '500',
      fee: {
        total: '1.42',
        asset: USDC,
        details: [
          { name: 'fixed', amount: '0.5' },
          { name: 'percent', amount: '0.92' },
        ],
      },
    });
  });

  it.each([
    ['both amounts', { sell_amount: '100', buy_amount: '500' }],
    ['no amount', {}],
    ['another context', { sell_amount: '100', context: 'sep6' }],
    ['more decimals than the asset has', { sell_amount: '100.001' }],
    ['a malformed amount', { sell_amount: '1e3' }],
    ['an amount under the SEP-31 minimum', { sell_amount: '0.99' }],
    ['a delivery method not offered', { sell_amount: '100', buy_delivery_method: 'SWIFT' }],
    ['a country not served', { sell_amount: '100', country_code: 'US' }],
    ['the pair reversed', { sell_amount: '100', sell_asset: BRL, buy_asset: USDC }],
  ])('GET /price with %s is a 400', async (_name, params) => {
    const response = await get(
      `/sep38/price?${query({ sell_asset: USDC, buy_asset: BRL, context: 'sep31', ...params })}`,
    );
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: expect.any(String) });
  });

  it('indicative prices are not stored', async () => {
    const before = await t.db.selectFrom('quotes').select('id').execute();
    const price = `/sep38/price?${query({ sell_asset: USDC, buy_asset: BRL, sell_amount: '100', context: 'sep31' })}`;
    expect((await get(price)).statusCode).toBe(200);
    expect((await get(`/sep38/prices?${query({ sell_asset: USDC, sell_amount: '100' })}`)).statusCode).toBe(
      200,
    );
    expect(await t.db.selectFrom('quotes').select('id').execute()).toEqual(before);
  });

  it('POST /quote stores a firm quote through its actor and answers 201 with the SEP fields', async () => {
    const response = await postQuote(firmRequest);
    expect(response.statusCode).toBe(201);
    const quote = response.json<Record<string, unknown>>();
    expect(quote).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      expires_at: '2026-12-03T12:05:00.000Z',
      total_price: '0.1827419',
      price: '0.18',
      sell_asset: USDC,
      sell_amount: '100',
      buy_asset: BRL,
      buy_amount: '547.22',
      buy_delivery_method: 'PIX',
      fee: expect.objectContaining({ total: '1.5', asset: USDC }),
    });
    const stored = await findQuote(t.db, quote.id as string);
    expect(stored).toMatchObject({
      account: KEYS.acme.publicKey(),
      sellAmount: '100',
      buyAmount: '547.22',
      countryCode: 'BR',
      transactionId: null,
    });
  });

  it('POST /quote honours an expire_after it can meet and refuses a later one', async () => {
    const early = await postQuote({ ...firmRequest, expire_after: '2026-12-03T12:04:00Z' });
    expect(early.statusCode).toBe(201);
    expect(early.json()).toMatchObject({ expires_at: '2026-12-03T12:05:00.000Z' });
    const late = await postQuote({ ...firmRequest, expire_after: '2026-12-03T12:06:00Z' });
    expect(late.statusCode).toBe(400);
    expect(late.json()).toEqual({ error: expect.stringContaining('cannot be held past') });
    const garbage = await postQuote({ ...firmRequest, expire_after: 'tomorrow' });
    expect(garbage.statusCode).toBe(400);
  });

  it('POST /quote needs the delivery method when the asset offers more than one', async () => {
    const { buy_delivery_method: _method, ...withoutMethod } = firmRequest;
    const response = await postQuote(withoutMethod);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: expect.stringContaining('buy_delivery_method is required') });
  });

  it('POST /quote without a token, or from an account that is not a sending anchor, is a 403', async () => {
    const anonymous = await postQuote(firmRequest, {});
    expect(anonymous.statusCode).toBe(403);
    expect(anonymous.json()).toEqual({ error: expect.any(String) });
    const stranger = await postQuote(firmRequest, await auth(KEYS.stranger));
    expect(stranger.statusCode).toBe(403);
  });

  it('POST /quote with an invalid request is a 400 and stores nothing', async () => {
    const before = await t.db.selectFrom('quotes').select('id').execute();
    const response = await postQuote({ ...firmRequest, buy_amount: '10' });
    expect(response.statusCode).toBe(400);
    expect(await t.db.selectFrom('quotes').select('id').execute()).toEqual(before);
  });

  it('GET /quote/:id answers the owner with the POST body, even after expiry; anyone else gets a 404', async () => {
    const created = (await postQuote(firmRequest)).json<{ id: string }>();
    const own = await get(`/sep38/quote/${created.id}`, await auth());
    expect(own.statusCode).toBe(200);
    expect(own.json()).toEqual(created);

    now = new Date(START.getTime() + 3_600_000);
    const later = await get(`/sep38/quote/${created.id}`, await auth());
    expect(later.statusCode).toBe(200);
    expect(later.json()).toEqual(created);

    const rival = await get(`/sep38/quote/${created.id}`, await auth(KEYS.rival));
    expect(rival.statusCode).toBe(404);
    expect(rival.json()).toEqual({ error: 'quote not found' });
    expect((await get(`/sep38/quote/${randomUUID()}`, await auth())).statusCode).toBe(404);
    expect((await get(`/sep38/quote/${created.id}`)).statusCode).toBe(403);
  });

  it('a quote is taken by one transaction only, even when two race for it', async () => {
    const { id } = (await postQuote(firmRequest)).json<{ id: string }>();
    const [first, second] = await Promise.all([
      claimQuote(t.db, id, randomUUID()),
      claimQuote(t.db, id, randomUUID()),
    ]);
    expect([first, second].filter(Boolean)).toHaveLength(1);
    // And one transaction cannot take two quotes.
    const other = (await postQuote(firmRequest)).json<{ id: string }>().id;
    const taken = (await findQuote(t.db, id))!.transactionId!;
    await expect(claimQuote(t.db, other, taken)).rejects.toThrow();
  });
});

describe('quote actors', () => {
  const quote = (): NewQuote => ({
    account: KEYS.acme.publicKey(),
    memo: null,
    context: 'sep31',
    sellAsset: USDC,
    sellAmount: '100',
    sellDeliveryMethod: null,
    buyAsset: BRL,
    buyAmount: '547.22',
    buyDeliveryMethod: 'PIX',
    countryCode: 'BR',
    price: '0.18',
    totalPrice: '0.1827419',
    fee: { total: '1.5', asset: USDC },
    expiresAt: '2026-12-03T12:05:00.000Z',
    createdAt: '2026-12-03T12:00:00.000Z',
  });

  async function roundTrip(bus: EventBus, database: TestDatabase) {
    const handle = await database.open();
    const { config, cleanup } = await testConfig(FILE);
    const host = startActorHost({
      db: handle.db,
      bus,
      transactions: { payoutCustomerTypes: null, sep12: config.sep12 },
      log: quietLog,
    });
    try {
      const commands = createQuoteCommands(bus, { timeoutMs: 15_000 });
      const id = randomUUID();
      expect(await commands.create(id, quote())).toEqual({ outcome: 'applied', quoteId: id, created: true });
      // A create delivered again (same id, same terms) changes nothing; other terms under that id are refused.
      expect(await commands.create(id, quote())).toEqual({ outcome: 'applied', quoteId: id, created: false });
      expect(await commands.create(id, { ...quote(), buyAmount: '1' })).toMatchObject({
        outcome: 'refused',
        code: 'exists',
      });
      expect(await findQuote(handle.db, id)).toMatchObject({ buyAmount: '547.22', buyDeliveryMethod: 'PIX' });
    } finally {
      await host.stop();
      await handle.close();
      await cleanup();
    }
  }

  it('store a quote over the in-process bus, once', async () => {
    const bus = createInProcessBus({ logger: silentLogger });
    try {
      await roundTrip(bus, testDatabases()[0]!);
    } finally {
      await bus.close();
    }
  });

  const postgres = testDatabases().find((d) => d.name === 'postgres');
  const natsUrl = natsUrlForTests();
  it.skipIf(!postgres || !natsUrl)('store a quote over NATS JetStream, once', async () => {
    const prefix = uniqueTestName('sep38');
    const bus = await createNatsBus({ url: natsUrl!, prefix, partitions: 4, logger: silentLogger });
    try {
      await roundTrip(bus, postgres!);
    } finally {
      await bus.close();
      await deleteStreams(natsUrl!, [`${prefix}_events`]);
    }
  });
});
