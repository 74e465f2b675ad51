import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTransactionCommands } from '../../../src/actors/commands.ts';
import { createCustomerCommands } from '../../../src/actors/customer-commands.ts';
import { buildApp } from '../../../src/http/app.ts';
import type {
  Sep31Integration,
  Sep31PostContext,
  Sep31PostRequest,
  Sep31PostResult,
} from '../../../src/integrations/sep31-integration.ts';
import { createReferenceSep31Integration } from '../../../src/integrations/reference/sep31.ts';
import { buildTestApp, KEYS, testConfigFile, tokenFor, type TestApp } from '../../helpers/app.ts';
import type { ConfigFile } from '../../../src/config/index.ts';
import { httpPorts } from '../../../src/read-model/index.ts';

/** An integration whose answers the test sets, recording what it was asked. */
function scriptedIntegration() {
  const calls: { request: Sep31PostRequest; context: Sep31PostContext }[] = [];
  const state = {
    valid: true,
    verdict: { ok: true } as Sep31PostResult,
    extra: {} as Record<string, unknown>,
  };
  const integration: Sep31Integration = {
    info: async () => state.extra,
    validSendingAnchor: async () => state.valid,
    processPostRequest: async (request, context) => {
      calls.push({ request, context });
      return state.verdict;
    },
  };
  return { integration, calls, state };
}

describe('SEP-31 with an integration', () => {
  let t: TestApp;
  let app: FastifyInstance;
  let token: string;
  const scripted = scriptedIntegration();
  const post = (payload: Record<string, unknown>) =>
    app.inject({
      method: 'POST',
      url: '/sep31/transactions',
      headers: { authorization: `Bearer ${token}` },
      payload,
    });

  beforeAll(async () => {
    // No KYC types: the integration alone decides about customers.
    t = await buildTestApp({ file: { ...testConfigFile(), sep12: { types: {} } } as ConfigFile });
    app = await buildApp({
      config: t.config,
      ...httpPorts(t.db, t.config),
      commands: createTransactionCommands(t.bus),
      customerCommands: createCustomerCommands(t.bus),
      horizon: { loadAccount: () => Promise.reject(new Error('no Horizon')) },
      integration: scripted.integration,
    });
    token = await tokenFor(t.config, KEYS.acme.publicKey());
  });
  afterAll(async () => {
    await app.close();
    await t.close();
  });

  it('adds the integration fields to /info, without letting them replace ours', async () => {
    scripted.state.extra = { fields: { transaction: {} }, fee_fixed: 999, enabled: false };
    const usdc = (await app.inject({ method: 'GET', url: '/sep31/info' })).json().receive.USDC;
    expect(usdc).toMatchObject({ fields: { transaction: {} }, fee_fixed: 0.5, enabled: true });
    scripted.state.extra = {};
  });

  it('hands the validated, priced request to processPostRequest', async () => {
    const response = await post({
      asset_code: 'USDC',
      amount: 100,
      refund_memo: 'r',
      refund_memo_type: 'text',
    });
    expect(response.statusCode, response.body).toBe(201);
    const { request, context } = scripted.calls.at(-1)!;
    expect(request).toEqual({
      assetCode: 'USDC',
      assetIssuer: KEYS.issuer.publicKey(),
      amount: '100',
      fundingMethod: 'SEPA',
      senderId: null,
      receiverId: null,
      lang: null,
      refundMemo: 'r',
      refundMemoType: 'text',
      quoteId: null,
      destinationAsset: null,
      fields: {},
    });
    expect(context).toMatchObject({
      transactionId: response.json().id,
      amountIn: '100',
      amountOut: '98.5',
      fee: { total: '1.5' },
    });
    expect(context.sendingAnchor.sub).toBe(KEYS.acme.publicKey());
  });

  it('turns customer_info_needed into the SEP body, with its type', async () => {
    scripted.state.verdict = { error: 'customer_info_needed', type: 'sep31-receiver' };
    const response = await post({ asset_code: 'USDC', amount: '10' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'customer_info_needed', type: 'sep31-receiver' });
    scripted.state.verdict = { error: 'customer_info_needed' };
    expect((await post({ asset_code: 'USDC', amount: '10' })).json()).toEqual({
      error: 'customer_info_needed',
    });
  });

  it('turns any other refusal into a 400 with its text, and creates nothing', async () => {
    scripted.state.verdict = { error: 'receiver bank is closed on Sundays' };
    const before = await t.db
      .selectFrom('transactions')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirst();
    const response = await post({ asset_code: 'USDC', amount: '10' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'receiver bank is closed on Sundays' });
    const after = await t.db
      .selectFrom('transactions')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirst();
    expect(after?.n).toEqual(before?.n);
    scripted.state.verdict = { ok: true };
  });

  it('answers 403 when the integration refuses the sending anchor', async () => {
    scripted.state.valid = false;
    const response = await post({ asset_code: 'USDC', amount: '10' });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toEqual({ error: 'this account is not a registered sending anchor' });
    scripted.state.valid = true;
  });
});

describe('the reference SEP-31 integration', () => {
  const identity = (account: string) => ({
    sub: account,
    account,
    memo: null,
    muxedAccount: null,
    clientDomain: null,
    jti: 'j',
  });

  it('accepts configured sending anchors only, or anyone in open sandbox mode', async () => {
    const closed = createReferenceSep31Integration({
      sendingAnchors: [{ name: 'acme', signingKeys: [KEYS.acme.publicKey()] }],
      allowAnySendingAnchor: false,
    });
    expect(await closed.validSendingAnchor(identity(KEYS.acme.publicKey()))).toBe(true);
    expect(await closed.validSendingAnchor(identity(KEYS.stranger.publicKey()))).toBe(false);
    const open = createReferenceSep31Integration({ sendingAnchors: [], allowAnySendingAnchor: true });
    expect(await open.validSendingAnchor(identity(KEYS.stranger.publicKey()))).toBe(true);
  });
});

describe('open sandbox mode', () => {
  it('quotes its asset in US dollars, and a transaction can be made on the firm quote', async () => {
    const t = await buildTestApp({ file: { sep12: { types: {} } } as ConfigFile });
    try {
      const headers = { authorization: `Bearer ${await tokenFor(t.config, KEYS.stranger.publicKey())}` };
      const info = await t.app.inject({ method: 'GET', url: '/sep31/info' });
      expect(info.json().receive.USDC).toMatchObject({ quotes_supported: true, quotes_required: false });
      const usdc = t.config.assets[0]!;
      const quote = await t.app.inject({
        method: 'POST',
        url: '/sep38/quote',
        headers,
        payload: {
          sell_asset: `stellar:USDC:${usdc.issuer}`,
          buy_asset: 'iso4217:USD',
          buy_delivery_method: 'SEPA',
          sell_amount: '100',
          context: 'sep31',
        },
      });
      expect(quote.statusCode, quote.body).toBe(201);
      const created = await t.app.inject({
        method: 'POST',
        url: '/sep31/transactions',
        headers,
        payload: { asset_code: 'USDC', amount: '100', quote_id: quote.json().id },
      });
      expect(created.statusCode, created.body).toBe(201);
      const read = await t.app.inject({
        method: 'GET',
        url: `/sep31/transactions/${created.json().id}`,
        headers,
      });
      // At par with the sandbox's 1 % fee.
      expect(read.json().transaction).toMatchObject({
        quote_id: quote.json().id,
        amount_out: '99',
        amount_out_asset: 'iso4217:USD',
      });
    } finally {
      await t.close();
    }
  });

  it('lets any authenticated account send', async () => {
    const t = await buildTestApp({
      file: {
        ...testConfigFile(),
        jwtSecret: undefined,
        sendingAnchors: [],
        sep12: { types: {} },
      } as ConfigFile,
    });
    try {
      expect(t.config.allowAnySendingAnchor).toBe(true);
      const response = await t.app.inject({
        method: 'POST',
        url: '/sep31/transactions',
        headers: { authorization: `Bearer ${await tokenFor(t.config, KEYS.stranger.publicKey())}` },
        payload: { asset_code: 'USDC', amount: '10' },
      });
      expect(response.statusCode, response.body).toBe(201);
    } finally {
      await t.close();
    }
  });
});
