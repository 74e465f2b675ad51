import { randomBytes } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Account,
  BASE_FEE,
  Horizon,
  Keypair,
  MuxedAccount,
  Networks,
  Operation,
  TransactionBuilder,
  type Transaction,
  WebAuth,
} from '@stellar/stellar-sdk';
import fc from 'fast-check';
import { decodeJwt } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redeemChallenge } from '../../../src/db/sep10-challenges.repository.ts';
import { buildApp } from '../../../src/http/app.ts';
import { verifySep10Token } from '../../../src/http/auth.ts';
import { fetchClientSigningKey } from '../../../src/http/sep10/client-domain.ts';
import { isPublicAddress } from '../../../src/net/address-policy.ts';
import { createHorizonAccounts } from '../../../src/stellar/horizon-accounts-sdk.ts';
import { startFakeHorizon, type FakeHorizon } from '../../fakes/fake-horizon.ts';
import { buildTestApp, KEYS, testConfigFile, type TestApp } from '../../helpers/app.ts';
import { httpPorts } from '../../../src/read-model/index.ts';
import { createTransactionCommands } from '../../../src/actors/commands.ts';
import { createCustomerCommands } from '../../../src/actors/customer-commands.ts';

const HOME = 'localhost:8000';
const PASSPHRASE = Networks.TESTNET;

let horizon: FakeHorizon;
let t: TestApp;

beforeAll(async () => {
  horizon = await startFakeHorizon();
  t = await buildTestApp({ horizon: createHorizonAccounts(horizon.url) });
});

afterAll(async () => {
  await t?.close();
  await horizon?.close();
});

function getChallenge(app: TestApp, query: Record<string, string>) {
  return app.app.inject({ method: 'GET', url: '/auth', query });
}

async function challengeFor(query: Record<string, string>, app = t): Promise<string> {
  const response = await getChallenge(app, query);
  expect(response.statusCode, response.body).toBe(200);
  return response.json<{ transaction: string }>().transaction;
}

function sign(xdr: string, ...signers: Keypair[]): string {
  const tx = TransactionBuilder.fromXdr(xdr, PASSPHRASE) as Transaction;
  for (const signer of signers) tx.sign(signer);
  return tx.toXdr();
}

function postToken(transaction: string, app = t) {
  return app.app.inject({ method: 'POST', url: '/auth', payload: { transaction } });
}

/** A complete wallet login: challenge, sign, token. Returns the POST response. */
async function login(query: Record<string, string>, ...signers: Keypair[]) {
  return postToken(sign(await challengeFor(query), ...signers));
}

async function subOf(response: { statusCode: number; body: string; json<T>(): T }): Promise<string> {
  expect(response.statusCode, response.body).toBe(200);
  const identity = await verifySep10Token(t.config, response.json<{ token: string }>().token);
  return identity.sub;
}

/** A challenge built by hand with our server key (as if we had issued it) and chosen time bounds. */
function handBuiltChallenge(client: string, timebounds: { minTime: number; maxTime: number }): string {
  const tx = new TransactionBuilder(new Account(KEYS.server.publicKey(), '-1'), {
    fee: BASE_FEE,
    networkPassphrase: PASSPHRASE,
    timebounds,
  })
    .addOperation(
      Operation.manageData({
        name: `${HOME} auth`,
        value: randomBytes(48).toString('base64'),
        source: client,
      }),
    )
    .addOperation(
      Operation.manageData({ name: 'web_auth_domain', value: HOME, source: KEYS.server.publicKey() }),
    )
    .build();
  tx.sign(KEYS.server);
  return tx.toXdr();
}

function newAccount(options?: Parameters<FakeHorizon['addAccount']>[1]): Keypair {
  const keypair = Keypair.random();
  horizon.addAccount(keypair.publicKey(), options);
  return keypair;
}

describe('fake Horizon', () => {
  it("speaks Horizon's account JSON to the SDK's Horizon.Server, and problem+json for a missing account", async () => {
    const master = Keypair.random();
    const cosigner = Keypair.random().publicKey();
    horizon.addAccount(master.publicKey(), {
      signers: [
        { key: master.publicKey(), weight: 2 },
        { key: cosigner, weight: 1 },
      ],
      thresholds: { med_threshold: 2 },
    });
    const server = new Horizon.Server(horizon.url, { allowHttp: true });
    const account = await server.loadAccount(master.publicKey());
    expect(account.accountId()).toBe(master.publicKey());
    expect(account.thresholds).toEqual({ low_threshold: 0, med_threshold: 2, high_threshold: 0 });
    expect(account.signers).toEqual([
      { weight: 1, key: cosigner, type: 'ed25519_public_key' },
      { weight: 2, key: master.publicKey(), type: 'ed25519_public_key' },
    ]);
    expect(account.balances).toEqual([expect.objectContaining({ asset_type: 'native' })]);

    const missing = await fetch(`${horizon.url}/accounts/${Keypair.random().publicKey()}`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await missing.json()).toMatchObject({
      type: 'https://stellar.org/horizon-errors/not_found',
      title: 'Resource Missing',
      status: 404,
    });
    await expect(
      createHorizonAccounts(horizon.url).loadAccount(Keypair.random().publicKey()),
    ).resolves.toBeNull();

    const root = await (await fetch(`${horizon.url}/`)).json();
    expect(root).toMatchObject({ network_passphrase: PASSPHRASE, history_latest_ledger: expect.any(Number) });
  });
});

describe('GET /auth (challenge)', () => {
  it('returns a challenge signed by SIGNING_KEY in the SEP-10 format, valid for 15 minutes', async () => {
    const client = Keypair.random();
    const before = Math.floor(Date.now() / 1000);
    const response = await getChallenge(t, { account: client.publicKey() });

    expect(response.statusCode).toBe(200);
    expect(response.headers['access-control-allow-origin']).toBe('*');
    const body = response.json<{ transaction: string; network_passphrase: string }>();
    expect(Object.keys(body).sort()).toEqual(['network_passphrase', 'transaction']);
    expect(body.network_passphrase).toBe(PASSPHRASE);

    const read = WebAuth.readChallengeTx(body.transaction, KEYS.server.publicKey(), PASSPHRASE, HOME, HOME);
    expect(read.clientAccountID).toBe(client.publicKey());
    expect(read.memo).toBeNull();
    const tx = read.tx;
    expect(tx.sequence).toBe('0');
    expect(tx.source).toBe(KEYS.server.publicKey());
    const minTime = Number(tx.timeBounds!.minTime);
    expect(minTime).toBeGreaterThanOrEqual(before);
    expect(Number(tx.timeBounds!.maxTime) - minTime).toBe(900);
    expect(tx.operations.map((op) => [op.type, op.source, 'name' in op ? op.name : null])).toEqual([
      ['manageData', client.publicKey(), `${HOME} auth`],
      ['manageData', KEYS.server.publicKey(), 'web_auth_domain'],
    ]);
    const webAuthDomain = tx.operations[1]!;
    expect(webAuthDomain.type === 'manageData' && new TextDecoder().decode(webAuthDomain.value)).toBe(HOME);
    expect(tx.signatures).toHaveLength(1);
    expect(WebAuth.verifyTxSignedBy(tx, KEYS.server.publicKey())).toBe(true);
  });

  it('puts an id memo on the challenge; accepts our home_domain explicitly', async () => {
    const client = Keypair.random().publicKey();
    const xdr = await challengeFor({ account: client, memo: '18446744073709551615', home_domain: HOME });
    expect(WebAuth.readChallengeTx(xdr, KEYS.server.publicKey(), PASSPHRASE, HOME, HOME).memo).toBe(
      '18446744073709551615',
    );
  });

  it.each([
    ['an invalid account', { account: 'GNOTANACCOUNT' }],
    ['a secret seed as account', { account: Keypair.random().secret() }],
    ['a contract address', { account: 'CA3D5KRYM6CB7OWQ6TWYRR3Z4T7GNZLKERYNZGGA5SOAOPIFY6YQGAXE' }],
    ['a text memo', { memo: 'hello' }],
    ['a negative memo', { memo: '-1' }],
    ['a memo above uint64', { memo: '18446744073709551616' }],
    ['an empty memo', { memo: '' }],
    ['another home_domain', { home_domain: 'evil.example.com' }],
  ])('answers 400 {error} for %s', async (_name, query: Record<string, string>) => {
    const response = await getChallenge(t, { account: Keypair.random().publicKey(), ...query });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: expect.any(String) });
    expect(response.headers['access-control-allow-origin']).toBe('*');
  });

  it('answers 400 {error} without account', async () => {
    const response = await getChallenge(t, { memo: '1' });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ error: string }>().error).toMatch(/account/);
  });

  it('answers 400 for a memo with a muxed account', async () => {
    const muxed = new MuxedAccount(new Account(Keypair.random().publicKey(), '0'), '42').accountId();
    const response = await getChallenge(t, { account: muxed, memo: '7' });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ error: string }>().error).toMatch(/memo/);
  });
});

describe('POST /auth (token)', () => {
  it("exchanges a challenge signed by an existing account's master key for a JWT", async () => {
    const client = newAccount();
    const xdr = sign(await challengeFor({ account: client.publicKey() }), client);
    const response = await postToken(xdr);

    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['access-control-allow-origin']).toBe('*');
    const { token } = response.json<{ token: string }>();
    const identity = await verifySep10Token(t.config, token);
    const hash = Buffer.from((TransactionBuilder.fromXdr(xdr, PASSPHRASE) as Transaction).hash()).toString(
      'hex',
    );
    expect(identity).toEqual({
      sub: client.publicKey(),
      account: client.publicKey(),
      memo: null,
      muxedAccount: null,
      clientDomain: null,
      jti: hash,
    });
    const claims = decodeJwt(token);
    expect(claims.iss).toBe(`http://${HOME}/auth`);
    expect(claims.exp! - claims.iat!).toBe(24 * 60 * 60);
    expect(claims).not.toHaveProperty('client_domain');
    expect(horizon.requests).toContainEqual({ method: 'GET', url: `/accounts/${client.publicKey()}` });
  });

  it('accepts application/x-www-form-urlencoded', async () => {
    const client = newAccount();
    const xdr = sign(await challengeFor({ account: client.publicKey() }), client);
    const response = await t.app.inject({
      method: 'POST',
      url: '/auth',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ transaction: xdr }).toString(),
    });
    expect(await subOf(response)).toBe(client.publicKey());
  });

  describe('an account with several signers (medium threshold 2)', () => {
    const master = Keypair.random();
    const cosigner = Keypair.random();
    beforeAll(() => {
      horizon.addAccount(master.publicKey(), {
        signers: [
          { key: master.publicKey(), weight: 1 },
          { key: cosigner.publicKey(), weight: 1 },
        ],
        thresholds: { low_threshold: 1, med_threshold: 2, high_threshold: 2 },
      });
    });

    it('refuses the master key alone (weight 1 < 2)', async () => {
      const response = await login({ account: master.publicKey() }, master);
      expect(response.statusCode).toBe(400);
      expect(response.json<{ error: string }>().error).toMatch(/threshold/);
    });

    it('refuses a signer that is not on the account', async () => {
      const response = await login({ account: master.publicKey() }, master, Keypair.random());
      expect(response.statusCode).toBe(400);
    });

    it('accepts master + cosigner (weight 2)', async () => {
      expect(await subOf(await login({ account: master.publicKey() }, master, cosigner))).toBe(
        master.publicKey(),
      );
    });
  });

  it('floors a zero threshold to 1 and ignores weight-0 signers (a disabled master key cannot sign in)', async () => {
    const master = Keypair.random();
    const delegate = Keypair.random();
    horizon.addAccount(master.publicKey(), {
      signers: [
        { key: master.publicKey(), weight: 0 },
        { key: delegate.publicKey(), weight: 1 },
      ],
      thresholds: { low_threshold: 0, med_threshold: 0, high_threshold: 0 },
    });
    expect((await login({ account: master.publicKey() }, master)).statusCode).toBe(400);
    expect(await subOf(await login({ account: master.publicKey() }, delegate))).toBe(master.publicKey());
  });

  describe('an account that does not exist on Horizon', () => {
    it('accepts its master key alone', async () => {
      const client = Keypair.random();
      expect(await subOf(await login({ account: client.publicKey() }, client))).toBe(client.publicKey());
      expect(horizon.requests).toContainEqual({ method: 'GET', url: `/accounts/${client.publicKey()}` });
    });

    it('refuses an extra signature', async () => {
      const client = Keypair.random();
      const response = await login({ account: client.publicKey() }, client, Keypair.random());
      expect(response.statusCode).toBe(400);
      expect(response.json<{ error: string }>().error).toMatch(/unrecognized signatures/);
    });

    it('refuses a signature by another key only', async () => {
      const response = await login({ account: Keypair.random().publicKey() }, Keypair.random());
      expect(response.statusCode).toBe(400);
    });
  });

  it('puts the memo in sub as G...:<memo>', async () => {
    const client = newAccount();
    const response = await login({ account: client.publicKey(), memo: '0123' }, client);
    const { token } = response.json<{ token: string }>();
    expect(await subOf(response)).toBe(`${client.publicKey()}:123`);
    expect(await verifySep10Token(t.config, token)).toMatchObject({
      account: client.publicKey(),
      memo: '123',
    });
  });

  it('uses the M... address as sub for a muxed account, checking the base account on Horizon', async () => {
    const base = newAccount();
    const muxed = new MuxedAccount(new Account(base.publicKey(), '0'), '9007199254740993').accountId();
    const response = await login({ account: muxed }, base);
    expect(await subOf(response)).toBe(muxed);
    expect(await verifySep10Token(t.config, response.json<{ token: string }>().token)).toMatchObject({
      account: base.publicKey(),
      memo: '9007199254740993',
      muxedAccount: muxed,
    });
    expect(horizon.requests).toContainEqual({ method: 'GET', url: `/accounts/${base.publicKey()}` });

    const stranger = Keypair.random();
    const missing = new MuxedAccount(new Account(stranger.publicKey(), '0'), '1').accountId();
    expect(await subOf(await login({ account: missing }, stranger))).toBe(missing);
  });

  it('answers 400 for a challenge not signed by the client', async () => {
    const client = newAccount();
    const response = await postToken(await challengeFor({ account: client.publicKey() }));
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: expect.any(String) });
  });

  it('answers 400 for a tampered challenge (our signature no longer matches)', async () => {
    const client = newAccount();
    const original = TransactionBuilder.fromXdr(
      await challengeFor({ account: client.publicKey() }),
      PASSPHRASE,
    ) as Transaction;
    const tampered = TransactionBuilder.cloneFrom(original, {
      fee: '1000',
      networkPassphrase: PASSPHRASE,
    }).build();
    tampered.signatures.push(...original.signatures);
    tampered.sign(client);
    const response = await postToken(tampered.toXdr());
    expect(response.statusCode).toBe(400);
    expect(response.json<{ error: string }>().error).toMatch(/not signed by server/);
  });

  it('answers 400 for a challenge signed by someone else as server', async () => {
    const client = newAccount();
    const forged = WebAuth.buildChallengeTx(
      Keypair.random(),
      client.publicKey(),
      HOME,
      900,
      PASSPHRASE,
      HOME,
    );
    const response = await postToken(sign(forged, client));
    expect(response.statusCode).toBe(400);
  });

  it('answers 400 for an expired challenge, and 200 for the same hand-built challenge in time', async () => {
    const client = newAccount();
    const now = Math.floor(Date.now() / 1000);
    const expired = handBuiltChallenge(client.publicKey(), { minTime: now - 3600, maxTime: now - 1800 });
    const response = await postToken(sign(expired, client));
    expect(response.statusCode).toBe(400);
    expect(response.json<{ error: string }>().error).toMatch(/expired/);

    const fresh = handBuiltChallenge(client.publicKey(), { minTime: now, maxTime: now + 900 });
    expect(await subOf(await postToken(sign(fresh, client)))).toBe(client.publicKey());
  });

  it('answers 400 for a client signature made with another network passphrase', async () => {
    const client = newAccount();
    const tx = TransactionBuilder.fromXdr(
      await challengeFor({ account: client.publicKey() }),
      Networks.PUBLIC,
    ) as Transaction;
    tx.sign(client); // signs the pubnet hash
    const response = await postToken(tx.toXdr());
    expect(response.statusCode).toBe(400);
  });

  it('answers 400 for a challenge wrapped in a fee bump', async () => {
    const client = newAccount();
    const inner = TransactionBuilder.fromXdr(
      sign(await challengeFor({ account: client.publicKey() }), client),
      PASSPHRASE,
    ) as Transaction;
    const bump = TransactionBuilder.buildFeeBumpTransaction(client, '200', inner, PASSPHRASE);
    bump.sign(client);
    const response = await postToken(bump.toXdr());
    expect(response.statusCode).toBe(400);
    expect(response.json<{ error: string }>().error).toMatch(/FeeBumpTransaction/);
  });

  it('answers 400 for a challenge of another home domain', async () => {
    const client = newAccount();
    const other = WebAuth.buildChallengeTx(
      KEYS.server,
      client.publicKey(),
      'evil.example.com',
      900,
      PASSPHRASE,
      HOME,
    );
    const response = await postToken(sign(other, client));
    expect(response.statusCode).toBe(400);
  });

  it('issues one token per challenge: replaying it is a 400, even after the first token was used', async () => {
    const client = newAccount();
    const xdr = sign(await challengeFor({ account: client.publicKey() }), client);
    const first = await postToken(xdr);
    expect(first.statusCode).toBe(200);
    const hash = (await verifySep10Token(t.config, first.json<{ token: string }>().token)).jti;

    const replay = await postToken(xdr);
    expect(replay.statusCode).toBe(400);
    expect(replay.json<{ error: string }>().error).toMatch(/already used/);
    const replayForm = await t.app.inject({
      method: 'POST',
      url: '/auth',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ transaction: xdr }).toString(),
    });
    expect(replayForm.statusCode).toBe(400);

    const row = await t.db
      .selectFrom('sep10_challenges')
      .selectAll()
      .where('hash', '=', hash)
      .executeTakeFirstOrThrow();
    const maxTime = Number((TransactionBuilder.fromXdr(xdr, PASSPHRASE) as Transaction).timeBounds!.maxTime);
    expect(row.expires_at.getTime()).toBeGreaterThanOrEqual((maxTime + 300) * 1000);
  });

  it('agrees across HTTP instances sharing the database: one token per challenge, even concurrently', async () => {
    const other = await buildApp({
      config: t.config,
      ...httpPorts(t.db, t.config),
      commands: createTransactionCommands(t.bus),
      customerCommands: createCustomerCommands(t.bus),
      horizon: createHorizonAccounts(horizon.url),
    });
    try {
      const client = newAccount();
      const xdr = sign(await challengeFor({ account: client.publicKey() }), client);
      const answers = await Promise.all(
        [t.app, other, t.app, other].map((app) =>
          app.inject({ method: 'POST', url: '/auth', payload: { transaction: xdr } }),
        ),
      );
      expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 400, 400, 400]);
    } finally {
      await other.close();
    }
  });

  it('forgets redeemed challenges once they can no longer be accepted', async () => {
    const now = new Date();
    expect(await redeemChallenge(t.db, 'old-challenge', new Date(now.getTime() - 1000), now)).toBe(true);
    expect(await redeemChallenge(t.db, 'new-challenge', new Date(now.getTime() + 60_000), now)).toBe(true);
    const hashes = await t.db.selectFrom('sep10_challenges').select('hash').execute();
    expect(hashes.map((h) => h.hash)).not.toContain('old-challenge');
    expect(await redeemChallenge(t.db, 'new-challenge', new Date(now.getTime() + 60_000), now)).toBe(false);
  });

  it('answers 400 {error} for malformed bodies', async () => {
    for (const payload of [
      {},
      { transaction: '' },
      { transaction: 'AAAA' },
      { transaction: 'not base64 !' },
    ]) {
      const response = await t.app.inject({ method: 'POST', url: '/auth', payload });
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json()).toEqual({ error: expect.any(String) });
      expect(response.headers['access-control-allow-origin']).toBe('*');
    }
    const noBody = await t.app.inject({ method: 'POST', url: '/auth' });
    expect(noBody.statusCode).toBeGreaterThanOrEqual(400);
    expect(noBody.statusCode).toBeLessThan(500);
  });
});

describe('CORS', () => {
  it('answers an OPTIONS preflight with 204 and Access-Control-Allow-Origin: *', async () => {
    const response = await t.app.inject({
      method: 'OPTIONS',
      url: '/auth',
      headers: {
        origin: 'https://wallet.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(response.statusCode).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe('*');
    expect(String(response.headers['access-control-allow-methods'])).toContain('POST');
    expect(String(response.headers['access-control-allow-headers']).toLowerCase()).toContain('content-type');
  });

  it('sends Access-Control-Allow-Origin: * on GET, POST and their errors', async () => {
    const origin = { origin: 'https://wallet.example' };
    const client = newAccount();
    const get = await t.app.inject({
      method: 'GET',
      url: '/auth',
      query: { account: client.publicKey() },
      headers: origin,
    });
    const post = await t.app.inject({
      method: 'POST',
      url: '/auth',
      headers: origin,
      payload: { transaction: sign(get.json<{ transaction: string }>().transaction, client) },
    });
    const badGet = await t.app.inject({
      method: 'GET',
      url: '/auth',
      query: { account: 'x' },
      headers: origin,
    });
    const badPost = await t.app.inject({
      method: 'POST',
      url: '/auth',
      headers: origin,
      payload: { transaction: 'x' },
    });
    const badType = await t.app.inject({
      method: 'POST',
      url: '/auth',
      headers: { ...origin, 'content-type': 'text/plain' },
      payload: 'transaction',
    });
    expect([get.statusCode, post.statusCode, badGet.statusCode, badPost.statusCode]).toEqual([
      200, 200, 400, 400,
    ]);
    expect(badType.statusCode).toBeGreaterThanOrEqual(400);
    expect(badType.statusCode).toBeLessThan(500);
    for (const response of [get, post, badGet, badPost, badType]) {
      expect(response.headers['access-control-allow-origin']).toBe('*');
    }
  });
});

describe('Horizon unreachable', () => {
  it('answers 503 {error} (not 500) when the client account cannot be loaded', async () => {
    const down = await startFakeHorizon();
    await down.close();
    const app = await buildTestApp({ horizon: createHorizonAccounts(down.url) });
    try {
      const client = Keypair.random();
      const xdr = sign(await challengeFor({ account: client.publicKey() }, app), client);
      const failed = await postToken(xdr, app);
      expect(failed.statusCode).toBe(503);
      expect(failed.json()).toEqual({ error: expect.stringMatching(/Horizon/) });
      expect(failed.headers['access-control-allow-origin']).toBe('*');
    } finally {
      await app.close();
    }
  });
});

describe('client_domain', () => {
  const wallet = Keypair.random();
  let tomlServer: Server;
  let clientDomain: string;
  let respond: (response: ServerResponse) => void;
  let sandbox: TestApp;

  const serveToml = (text: string) => (response: ServerResponse) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end(text);
  };

  beforeAll(async () => {
    tomlServer = createServer((request, response) => {
      if (request.url !== '/.well-known/stellar.toml') {
        response.writeHead(404);
        return response.end();
      }
      respond(response);
    });
    await new Promise<void>((resolve) => tomlServer.listen(0, '127.0.0.1', resolve));
    clientDomain = `localhost:${(tomlServer.address() as AddressInfo).port}`;
    // No jwtSecret in the file: it is generated, so the app runs in sandbox mode.
    sandbox = await buildTestApp({
      file: { ...testConfigFile(), jwtSecret: undefined },
      horizon: createHorizonAccounts(horizon.url),
    });
    expect(sandbox.config.sandbox).toBe(true);
  });

  afterEach(() => {
    respond = serveToml(`SIGNING_KEY = "${wallet.publicKey()}"\n`);
  });

  afterAll(async () => {
    await sandbox?.close();
    await new Promise((resolve) => tomlServer?.close(resolve));
  });

  async function sandboxLogin(query: Record<string, string>, ...signers: Keypair[]) {
    const xdr = await challengeFor(query, sandbox);
    return postToken(sign(xdr, ...signers), sandbox);
  }

  it("adds a client_domain operation sourced by the SIGNING_KEY of the domain's stellar.toml", async () => {
    respond = serveToml(`VERSION = "2.7.0"\nSIGNING_KEY = "${wallet.publicKey()}"\n`);
    const client = newAccount();
    const xdr = await challengeFor({ account: client.publicKey(), client_domain: clientDomain }, sandbox);
    const { tx } = WebAuth.readChallengeTx(xdr, KEYS.server.publicKey(), PASSPHRASE, HOME, HOME);
    const op = tx.operations.find((o) => o.type === 'manageData' && o.name === 'client_domain');
    expect(op?.source).toBe(wallet.publicKey());
    expect(op?.type === 'manageData' && new TextDecoder().decode(op.value)).toBe(clientDomain);
  });

  it('requires the client domain key to sign; then the token carries client_domain', async () => {
    respond = serveToml(`SIGNING_KEY = "${wallet.publicKey()}"\n`);
    const client = newAccount();
    const query = { account: client.publicKey(), client_domain: clientDomain };

    const withoutDomainKey = await sandboxLogin(query, client);
    expect(withoutDomainKey.statusCode).toBe(400);
    expect(withoutDomainKey.json<{ error: string }>().error).toMatch(/client_domain/);

    const ok = await sandboxLogin(query, client, wallet);
    expect(ok.statusCode, ok.body).toBe(200);
    const token = ok.json<{ token: string }>().token;
    expect(decodeJwt(token).client_domain).toBe(clientDomain);
    expect(await verifySep10Token(sandbox.config, token)).toMatchObject({
      sub: client.publicKey(),
      clientDomain,
    });
  });

  it('for an account missing on Horizon: master key + client domain key (3 signatures)', async () => {
    const client = Keypair.random();
    const query = { account: client.publicKey(), client_domain: clientDomain };
    expect((await sandboxLogin(query, client)).statusCode).toBe(400);
    expect((await sandboxLogin(query, wallet)).statusCode).toBe(400);
    const ok = await sandboxLogin(query, client, wallet);
    expect(ok.statusCode, ok.body).toBe(200);
    expect(decodeJwt(ok.json<{ token: string }>().token).client_domain).toBe(clientDomain);
  });

  it.each([
    ['no SIGNING_KEY', () => serveToml('VERSION = "2.7.0"\n')],
    ['an invalid SIGNING_KEY', () => serveToml('SIGNING_KEY = "GABC"\n')],
    ['invalid TOML', () => serveToml('SIGNING_KEY = \n')],
    ['a 404', () => (r: ServerResponse) => (r.writeHead(404), r.end())],
    [
      'a redirect',
      () => (r: ServerResponse) => (
        r.writeHead(302, { location: 'http://localhost:1/.well-known/stellar.toml' }),
        r.end()
      ),
    ],
    [
      'a file over 100 KB',
      () => serveToml(`SIGNING_KEY = "${wallet.publicKey()}"\n# ${'x'.repeat(110 * 1024)}\n`),
    ],
  ])('answers 400 when the stellar.toml has %s', async (_name, responder) => {
    respond = responder();
    const response = await getChallenge(sandbox, {
      account: Keypair.random().publicKey(),
      client_domain: clientDomain,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: expect.stringMatching(/^client_domain/) });
    expect(response.headers['access-control-allow-origin']).toBe('*');
  });

  it('answers 400 when the domain does not answer in time', async () => {
    const silent = createServer(() => {}); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      await expect(
        fetchClientSigningKey(`localhost:${port}`, { allowLocalhost: true, timeoutMs: 200 }),
      ).rejects.toThrow(/did not answer within 200 ms/);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('refuses localhost outside sandbox mode, IP literals, ports and non-domains, without fetching', async () => {
    let fetched = 0;
    respond = (r) => {
      fetched += 1;
      serveToml(`SIGNING_KEY = "${wallet.publicKey()}"\n`)(r);
    };
    const account = Keypair.random().publicKey();
    const cases: [TestApp, string][] = [
      [t, clientDomain], // not sandbox: localhost is refused
      [t, 'localhost'],
      [sandbox, `127.0.0.1:${clientDomain.split(':')[1]}`],
      [sandbox, '127.0.0.1'],
      [sandbox, '[::1]'],
      [sandbox, '169.254.169.254'],
      [sandbox, 'example.com:8443'],
      [sandbox, 'https://example.com'],
      [sandbox, 'example.com/path'],
      [sandbox, 'user@example.com'],
      [sandbox, 'intranet'],
      [sandbox, `${'a'.repeat(60)}.example.com`],
    ];
    for (const [app, domain] of cases) {
      const response = await getChallenge(app, { account, client_domain: domain });
      expect(response.statusCode, domain).toBe(400);
      expect(response.json<{ error: string }>().error, domain).toMatch(/^client_domain/);
    }
    expect(fetched).toBe(0);
  });

  it('classifies addresses: only globally routable ones are fetched', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '255.255.255.255',
      '::1',
      '::',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
      'fd00::1',
      'fe80::1',
      '64:ff9b::a00:1',
      'not an ip',
    ]) {
      expect(isPublicAddress(address), address).toBe(false);
    }
    for (const address of [
      '8.8.8.8',
      '1.1.1.1',
      '93.184.216.34',
      '2606:4700:4700::1111',
      '2a00:1450:4001::1',
    ]) {
      expect(isPublicAddress(address), address).toBe(true);
    }
  });
});

describe('property: arbitrary input never causes a 5xx', () => {
  const anyText = fc.oneof(fc.string(), fc.string({ unit: 'grapheme', maxLength: 80 }), fc.base64String());

  it('GET /auth with random account and memo answers 200 or 4xx {error}', async () => {
    const valid = Keypair.random().publicKey();
    const muxed = new MuxedAccount(new Account(valid, '0'), '5').accountId();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(anyText, fc.constantFrom(valid, muxed)),
        fc.option(fc.oneof(anyText, fc.bigInt({ min: -1n, max: 2n ** 65n }).map(String)), { nil: undefined }),
        async (account, memo) => {
          const response = await getChallenge(t, { account, ...(memo === undefined ? {} : { memo }) });
          expect(response.statusCode).toBeLessThan(500);
          if (response.statusCode !== 200) {
            expect(response.statusCode).toBeGreaterThanOrEqual(400);
            expect(response.json()).toEqual({ error: expect.any(String) });
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('POST /auth with random or mutated transactions answers 4xx {error}', async () => {
    const client = newAccount();
    const signed = sign(await challengeFor({ account: client.publicKey() }), client);
    // Redeemed first: a mutation that decodes to the same bytes is then a replay, also a 400.
    expect((await postToken(signed)).statusCode).toBe(200);
    const mutated = fc
      .tuple(
        fc.nat({ max: signed.length - 1 }),
        fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/='),
      )
      .map(([i, c]) => signed.slice(0, i) + c + signed.slice(i + 1))
      .filter((x) => x !== signed);
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyText, mutated), fc.boolean(), async (transaction, form) => {
        const response = form
          ? await t.app.inject({
              method: 'POST',
              url: '/auth',
              headers: { 'content-type': 'application/x-www-form-urlencoded' },
              payload: new URLSearchParams({ transaction }).toString(),
            })
          : await postToken(transaction);
        expect(response.statusCode).toBeGreaterThanOrEqual(400);
        expect(response.statusCode).toBeLessThan(500);
        expect(response.json()).toEqual({ error: expect.any(String) });
      }),
      { numRuns: 150 },
    );
  });
});
