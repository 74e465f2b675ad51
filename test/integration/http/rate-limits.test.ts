import { Keypair } from '@stellar/stellar-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigFile } from '../../../src/config/index.ts';
import { buildTestApp, KEYS, testConfigFile, tokenFor, type TestApp } from '../../helpers/app.ts';

const OPERATOR_TOKEN = 'operator-token-that-is-long-enough-0123456789';
const ATTACKER = '203.0.113.7';
const OPERATOR = '198.51.100.20';

/** Small budgets, so a test can exhaust one in a few requests. */
function limitedFile(rateLimit: ConfigFile['rateLimit']): ConfigFile {
  return testConfigFile({ operatorToken: OPERATOR_TOKEN, rateLimit });
}

describe('rate limits', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await buildTestApp({
      file: limitedFile({
        signIn: { max: 3, windowSeconds: 60 },
        sep10: { max: 4, windowSeconds: 60 },
        writes: { max: 2, windowSeconds: 60 },
      }),
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  const signIn = (token: string, remoteAddress: string) =>
    t.app.inject({ method: 'POST', url: '/machines/api/session', payload: { token }, remoteAddress });

  it('operator sign-in: 429 {error} with Retry-After once an address has used its budget, even for the right token; another address still signs in', async () => {
    for (let i = 0; i < 3; i += 1) expect((await signIn(`wrong-${i}`, ATTACKER)).statusCode).toBe(401);
    const limited = await signIn(OPERATOR_TOKEN, ATTACKER);
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toEqual({ error: expect.stringMatching(/^too many requests/) });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);

    const operator = await signIn(OPERATOR_TOKEN, OPERATOR);
    expect(operator.statusCode, operator.body).toBe(200);
    expect(operator.json()).toEqual({ signedIn: true });
  });

  it('operator API: wrong Bearer tokens draw on the sign-in budget; once spent, the right token is refused too', async () => {
    const guesser = '203.0.113.99';
    const counts = (token: string, remoteAddress: string) =>
      t.app.inject({
        method: 'GET',
        url: '/machines/api/counts',
        headers: { authorization: `Bearer ${token}` },
        remoteAddress,
      });
    expect((await counts(OPERATOR_TOKEN, guesser)).statusCode).toBe(200); // the right token is no guess
    for (let i = 0; i < 2; i += 1) expect((await counts(`wrong-${i}`, guesser)).statusCode).toBe(401);
    expect((await signIn('wrong', guesser)).statusCode).toBe(401); // the third guess
    const limited = await counts(OPERATOR_TOKEN, guesser);
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toEqual({ error: expect.stringMatching(/^too many requests/) });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await counts(OPERATOR_TOKEN, OPERATOR)).statusCode).toBe(200);
  });

  it('SEP-10: challenges and tokens share one budget per address', async () => {
    const account = Keypair.random().publicKey();
    const challenge = (remoteAddress: string) =>
      t.app.inject({ method: 'GET', url: '/auth', query: { account }, remoteAddress });
    for (let i = 0; i < 3; i += 1) expect((await challenge(ATTACKER)).statusCode).toBe(200);
    const token = await t.app.inject({
      method: 'POST',
      url: '/auth',
      payload: { transaction: 'not-a-challenge' },
      remoteAddress: ATTACKER,
    });
    expect(token.statusCode).toBe(400); // the fourth request: still within budget
    const limited = await challenge(ATTACKER);
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toEqual({ error: expect.stringMatching(/^too many requests/) });
    expect(limited.headers['retry-after']).toBeDefined();
    // CORS still applies to the refusal, so a browser wallet can read it.
    expect(limited.headers['access-control-allow-origin']).toBe('*');
    expect((await challenge(OPERATOR)).statusCode).toBe(200);
  });

  it('writes: counted per sending anchor account, whatever the address; reads are not counted', async () => {
    const acme = await tokenFor(t.config, KEYS.acme.publicKey());
    const rival = await tokenFor(t.config, KEYS.rival.publicKey());
    const patch = (token: string, remoteAddress: string) =>
      t.app.inject({
        method: 'PATCH',
        url: '/sep31/transactions/00000000-0000-4000-8000-000000000000',
        headers: { authorization: `Bearer ${token}` },
        payload: { fields: { transaction: {} } },
        remoteAddress,
      });
    const read = () =>
      t.app.inject({
        method: 'GET',
        url: '/sep31/transactions/00000000-0000-4000-8000-000000000000',
        headers: { authorization: `Bearer ${acme}` },
      });
    expect((await patch(acme, '192.0.2.1')).statusCode).toBe(404);
    expect((await patch(acme, '192.0.2.2')).statusCode).toBe(404);
    const limited = await patch(acme, '192.0.2.3');
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toEqual({ error: expect.stringMatching(/^too many requests/) });
    expect(limited.headers['retry-after']).toBeDefined();
    // SEP-12 writes draw on the same budget.
    const customer = await t.app.inject({
      method: 'PUT',
      url: '/sep12/customer',
      headers: { authorization: `Bearer ${acme}` },
      payload: { first_name: 'Ada' },
    });
    expect(customer.statusCode).toBe(429);
    expect((await read()).statusCode).toBe(404);
    expect((await patch(rival, '192.0.2.3')).statusCode).toBe(404);
  });

  it('writes: an unauthenticated caller gets its 403 without using anyone’s budget', async () => {
    const stranger = await tokenFor(t.config, KEYS.stranger.publicKey());
    for (let i = 0; i < 5; i += 1) {
      const response = await t.app.inject({
        method: 'PUT',
        url: '/sep12/customer/callback',
        headers: { authorization: `Bearer ${stranger}` },
        payload: { url: 'https://sender.example/cb' },
      });
      expect(response.statusCode).toBe(403);
    }
  });
});

describe('rate limits switched off', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ file: limitedFile({ enabled: false, signIn: { max: 1 }, sep10: { max: 1 } }) });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers every request when rateLimit.enabled is false', async () => {
    for (let i = 0; i < 5; i += 1) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/machines/api/session',
        payload: { token: 'wrong' },
        remoteAddress: ATTACKER,
      });
      expect(response.statusCode).toBe(401);
      const challenge = await t.app.inject({
        method: 'GET',
        url: '/auth',
        query: { account: Keypair.random().publicKey() },
      });
      expect(challenge.statusCode).toBe(200);
    }
  });
});
