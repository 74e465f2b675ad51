import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Keypair } from '@stellar/stellar-sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { start, type RunningBusinessServer } from '../../../examples/business-server/server.ts';
import type { AssetConfig } from '../../../src/config/index.ts';
import { verifyCallbackSignature } from '../../../src/effects/signing.ts';
import { unavailableError } from '../../../src/errors.ts';
import {
  BusinessServerUnavailableError,
  createBusinessClient,
  type BusinessClientOptions,
} from '../../../src/integrations/business-client.ts';
import type { CustomerReviewRequest } from '../../../src/integrations/customer-integration.ts';
import { createHttpCustomerIntegration } from '../../../src/integrations/http-customers.ts';
import { createHttpRates, rateTerms } from '../../../src/integrations/http-rates.ts';
import { createHttpSep31Integration } from '../../../src/integrations/http-sep31.ts';
import { identityOf } from '../../../src/sep10/identity.ts';

const mooringKey = Keypair.random();
const allowed = Keypair.random().publicKey();
const stranger = Keypair.random().publicKey();
const USDC = `stellar:USDC:${Keypair.random().publicKey()}`;
const TOKEN = 'business-token-0123456789';

let example: RunningBusinessServer;

function client(options: Partial<BusinessClientOptions> = {}) {
  return createBusinessClient({
    url: example.url,
    token: TOKEN,
    signingSecret: mooringKey.secret(),
    timeoutMs: 2_000,
    retries: 1,
    retryDelayMs: 10,
    ...options,
  });
}

beforeAll(async () => {
  example = await start({
    token: TOKEN,
    signingKey: mooringKey.publicKey(),
    sendingAnchors: [allowed],
    prices: { 'iso4217:EUR': '1.08' },
    fee: '0.5',
    maxAmount: '1000',
  });
});
afterAll(() => example.close());

const asset = { code: 'USDC', issuer: USDC.split(':')[2]! } as AssetConfig;
const anchor = identityOf(`${allowed}:7`, 'jti', null);

describe('SEP-31 hooks on the example business server', () => {
  const sep31 = () => createHttpSep31Integration(client());

  it('answers info, valid_sending_anchor and process_post/patch_request, every call authorized and signed', async () => {
    const before = example.requests.length;
    expect(await sep31().info(asset, 'en')).toEqual({
      fields: { transaction: { purpose: { description: 'why the money is sent', optional: true } } },
    });
    expect(await sep31().validSendingAnchor(anchor)).toBe(true);
    expect(await sep31().validSendingAnchor(identityOf(stranger, 'jti', null))).toBe(false);
    const post = {
      assetCode: 'USDC',
      assetIssuer: asset.issuer,
      amount: '100',
      fundingMethod: 'SEPA',
      senderId: 's',
      receiverId: 'r',
      lang: null,
      refundMemo: null,
      refundMemoType: null,
      fields: {},
      quoteId: null,
      destinationAsset: null,
    };
    const context = {
      transactionId: 't-1',
      sendingAnchor: anchor,
      asset,
      amountIn: '100',
      amountOut: '98.5',
      amountOutAsset: USDC,
      fee: { total: '1.5', asset: USDC },
    };
    expect(await sep31().processPostRequest(post, context)).toEqual({ ok: true });
    // The refusal passes through as the server worded it.
    expect(await sep31().processPostRequest({ ...post, amount: '1000.01' }, context)).toEqual({
      error: 'amounts over 1000 need a manual review',
    });
    const patch = sep31().processPatchRequest!;
    expect(
      await patch(
        { transactionId: 't-1', status: 'x', fields: { purpose: 'rent' } },
        { sendingAnchor: anchor },
      ),
    ).toEqual({ ok: true });
    expect(
      await patch({ transactionId: 't-1', status: 'x', fields: { purpose: ' ' } }, { sendingAnchor: anchor }),
    ).toEqual({ error: 'blank values: purpose' });
    const seen = example.requests.slice(before);
    expect(seen.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /info',
      'GET /valid_sending_anchor',
      'GET /valid_sending_anchor',
      'POST /process_post_request',
      'POST /process_post_request',
      'POST /process_patch_request',
      'POST /process_patch_request',
    ]);
    expect(seen.every((r) => r.authorized && r.signed)).toBe(true);
  });

  it('a wrong token or a bad signature is refused by the server: unavailable, not retried', async () => {
    for (const options of [{ token: 'wrong' }, { signingSecret: Keypair.random().secret() }]) {
      const before = example.requests.length;
      const error = await createHttpSep31Integration(client(options))
        .validSendingAnchor(anchor)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BusinessServerUnavailableError);
      expect((error as BusinessServerUnavailableError).httpStatus).toBe(401);
      expect(example.requests.length - before).toBe(1);
    }
  });
});

describe('KYC reviews on the example business server', () => {
  const customers = () => createHttpCustomerIntegration(client());
  const request = (
    fields: Record<string, string>,
    overrides: Partial<CustomerReviewRequest> = {},
  ): CustomerReviewRequest => ({
    customer: { id: overrides.customer?.id ?? 'c-1', account: allowed, memo: '7' },
    type: 'sep31-receiver',
    required: Object.keys(fields),
    fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, { kind: 'text', value: v }])),
    pending: Object.keys(fields),
    verifications: {},
    transactionId: null,
    recheck: false,
    readFile: async () => new Uint8Array([1, 2, 3]),
    ...overrides,
  });

  it('maps field statuses onto verdicts: ACCEPTED verified, REJECTED with its error, PROCESSING left open', async () => {
    const review = await customers().review({
      ...request({ first_name: 'Ana', bank_account_number: '12ab' }),
      fields: {
        first_name: { kind: 'text', value: 'Ana' },
        bank_account_number: { kind: 'text', value: '12ab' },
        photo_id_front: {
          kind: 'file',
          contentType: 'image/png',
          filename: 'a.png',
          size: 3,
          sha256: 'x'.repeat(64),
        },
      },
      pending: ['first_name', 'bank_account_number', 'photo_id_front'],
    });
    expect(review).toEqual({
      verified: ['first_name'],
      rejected: { bank_account_number: 'bank_account_number must be digits only' },
    });
  });

  it('a customer status REJECTED rejects the customer for the type, with the message', async () => {
    const review = await customers().review(
      request(
        { first_name: 'Ana', last_name: 'Blocked' },
        { customer: { id: 'c-2', account: allowed, memo: null } },
      ),
    );
    expect(review).toEqual({ reject: { message: 'this customer cannot be served' } });
  });

  it('a recheck asks GET /customer; one the server never got is PUT again; DELETE forgets it', async () => {
    const before = example.requests.length;
    const known = await customers().review(
      request({ first_name: 'Ana' }, { customer: { id: 'c-3', account: allowed, memo: null } }),
    );
    expect(known.verified).toEqual(['first_name']);
    const again = await customers().review(
      request(
        { first_name: 'Ana' },
        { customer: { id: 'c-3', account: allowed, memo: null }, recheck: true },
      ),
    );
    expect(again.verified).toEqual(['first_name']);
    const unknown = await customers().review(
      request({ first_name: 'Bo' }, { customer: { id: 'c-4', account: allowed, memo: null }, recheck: true }),
    );
    expect(unknown.verified).toEqual(['first_name']);
    await customers().deleted!({ id: 'c-3', account: allowed, memo: null });
    // Deleting what the server does not know (any more) is done, not an error.
    await customers().deleted!({ id: 'c-3', account: allowed, memo: null });
    expect(example.verdicts.has('c-3:sep31-receiver')).toBe(false);
    expect(example.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual([
      'PUT /customer',
      'GET /customer',
      'GET /customer',
      'PUT /customer',
      'DELETE /customer/c-3',
      'DELETE /customer/c-3',
    ]);
  });
});

describe('GET /rate on the example business server', () => {
  const rates = () =>
    createHttpRates({
      client: client(),
      stellarAssets: [USDC],
      offChainAssets: [
        {
          asset: 'iso4217:EUR',
          significantDecimals: 2,
          countryCodes: ['DE'],
          sellDeliveryMethods: [],
          buyDeliveryMethods: [{ name: 'SEPA', description: 'bank transfer' }],
        },
      ],
    });

  it('maps a firm rate onto exact terms: the price, the fee as fixed, its expiry', async () => {
    const before = Date.now();
    const terms = await rates().rate({
      type: 'firm',
      context: 'sep31',
      sellAsset: USDC,
      buyAsset: 'iso4217:EUR',
      sellAmount: '100',
      account: allowed,
    });
    expect(terms).toMatchObject({ price: '1.08', feeFixed: '0.5', feePercent: '0' });
    expect(terms!.expiresAt!.getTime()).toBeGreaterThanOrEqual(before + 299_000);
    expect(await rates().pairs()).toEqual([{ sellAsset: USDC, buyAsset: 'iso4217:EUR' }]);
  });

  it('a pair the server does not price is no rate (422), not an outage', async () => {
    expect(
      await rates().rate({
        type: 'indicative',
        context: 'sep31',
        sellAsset: USDC,
        buyAsset: 'iso4217:JPY',
        sellAmount: '1',
      }),
    ).toBeNull();
  });

  it('a fee in the buy asset is converted at the price, rounded up to the stroop; bad rates are refused', () => {
    expect(
      rateTerms({ price: '1.08', fee: { total: '0.3333333', asset: 'iso4217:EUR' } }, USDC, 'iso4217:EUR'),
    ).toEqual({
      price: '1.08',
      // 0.3333333 × 1.08 = 0.359999964, up to 0.36
      feeFixed: '0.36',
      feePercent: '0',
    });
    for (const rate of [
      { price: '0' },
      { price: 1.08 },
      { price: '1.123456789' },
      { price: '1', fee: { total: '1', asset: 'iso4217:USD' } },
      { price: '1', expires_at: 'soon' },
      null,
    ]) {
      expect(() => rateTerms(rate, USDC, 'iso4217:EUR')).toThrow(BusinessServerUnavailableError);
    }
  });
});

// -----------------------------------------------------------------------------------------------------------
// The client's own behaviour, against a server that misbehaves on purpose.

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describe('the business client: timeouts, bounded retries, signatures, outages', () => {
  let server: Server;
  let url: string;
  const seen: Seen[] = [];
  let answers: (number | 'hang')[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        const next = answers.shift() ?? 200;
        if (next === 'hang') return;
        res.writeHead(next, { 'content-type': 'application/json' }).end(JSON.stringify({ valid: true }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mooring`;
  });
  afterEach(() => {
    seen.length = 0;
    answers = [];
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const make = (options: Partial<BusinessClientOptions> = {}) =>
    createBusinessClient({
      url,
      token: TOKEN,
      signingSecret: mooringKey.secret(),
      timeoutMs: 300,
      retries: 2,
      retryDelayMs: 5,
      ...options,
    });

  it('signs a body as sent and a GET by its path and query, verifiable with the SIGNING_KEY', async () => {
    await make().call({ method: 'POST', path: 'process_post_request', body: { a: 1 } });
    await make().call({
      method: 'GET',
      path: 'valid_sending_anchor',
      query: { account: 'G1', memo: undefined },
    });
    const [post, get] = seen;
    expect(post!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(post!.url).toBe('/mooring/process_post_request');
    expect(get!.url).toBe('/mooring/valid_sending_anchor?account=G1');
    for (const [request, signed] of [
      [post!, '{"a":1}'],
      [get!, '/mooring/valid_sending_anchor?account=G1'],
    ] as const) {
      const check = verifyCallbackSignature({
        header: request.headers.signature as string,
        url,
        body: signed,
        signingKey: mooringKey.publicKey(),
        now: new Date(),
      });
      expect(check.ok).toBe(true);
    }
    // Unsigned when no secret is given.
    await make({ signingSecret: null }).call({ method: 'GET', path: 'x' });
    expect(seen[2]!.headers.signature).toBeUndefined();
  });

  it('retries an idempotent call after a 5xx or a timeout, at most `retries` times', async () => {
    answers = [503, 'hang', 200];
    expect((await make().call({ method: 'GET', path: 'info' })).body).toEqual({ valid: true });
    expect(seen).toHaveLength(3);

    seen.length = 0;
    answers = [503, 503, 503, 503];
    const error = await make()
      .call({ method: 'PUT', path: 'customer', body: {} })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BusinessServerUnavailableError);
    expect(seen).toHaveLength(3);
  });

  it('never repeats a POST, and says a timeout is one', async () => {
    answers = ['hang'];
    const started = Date.now();
    const error = await make()
      .call({ method: 'POST', path: 'process_post_request', body: {} })
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/timed out after 300 ms/);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(seen).toHaveLength(1);
  });

  it('a server that is down is unavailable, which the HTTP layer answers 503 (not the database message)', async () => {
    const down = createServer();
    await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
    const port = (down.address() as AddressInfo).port;
    await new Promise((resolve) => down.close(resolve));
    const error = await make({ url: `http://127.0.0.1:${port}` })
      .call({ method: 'GET', path: 'rate' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BusinessServerUnavailableError);
    expect(unavailableError(error)).toMatchObject({ code: 'business_unavailable', status: 503 });
  });
});
