import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigFile } from '../../../src/config/index.ts';
import { HSTS } from '../../../src/http/edge.ts';
import { buildTestApp, testConfigFile, type TestApp } from '../../helpers/app.ts';

describe('status codes and headers at the edge', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  const postAuth = (payload: string | Buffer, contentType: string) =>
    t.app.inject({ method: 'POST', url: '/auth', payload, headers: { 'content-type': contentType } });

  it.each([2, 10])('answers 413 {error} for a %i MB JSON body', async (megabytes) => {
    const body = JSON.stringify({ transaction: 'x'.repeat(megabytes * 1024 * 1024) });
    const response = await postAuth(body, 'application/json');
    expect(response.statusCode).toBe(413);
    expect(response.json()).toEqual({ error: expect.stringMatching(/too large/i) });
  });

  it('answers 415 {error} for JSON in another charset than UTF-8, and reads UTF-8 declared in any spelling', async () => {
    const body = JSON.stringify({ transaction: 'AAAA' });
    const utf16 = await postAuth(Buffer.from(body, 'utf16le'), 'application/json; charset=utf-16');
    expect(utf16.statusCode).toBe(415);
    expect(utf16.json()).toEqual({ error: 'JSON must be UTF-8 (got charset=utf-16)' });
    for (const type of ['application/json; charset=UTF-8', 'application/json;charset="utf8"']) {
      const response = await postAuth(body, type);
      expect(response.statusCode, type).toBe(400); // read, then refused as a challenge
      expect(response.json<{ error: string }>().error, type).toMatch(/^invalid challenge/i);
    }
  });

  it('sends X-Content-Type-Options: nosniff on SEP answers, errors and 404s', async () => {
    const responses = [
      await t.app.inject({ method: 'GET', url: '/sep31/info' }),
      await t.app.inject({ method: 'GET', url: '/.well-known/stellar.toml' }),
      await t.app.inject({ method: 'GET', url: '/auth' }),
      await t.app.inject({ method: 'GET', url: '/sep31/transactions/x' }),
      await t.app.inject({ method: 'GET', url: '/nowhere' }),
    ];
    expect(responses.map((r) => r.statusCode)).toEqual([200, 200, 400, 403, 404]);
    for (const response of responses) expect(response.headers['x-content-type-options']).toBe('nosniff');
  });

  it('sends no HSTS over plain http, and ignores X-Forwarded-Proto from a proxy nobody configured', async () => {
    const plain = await t.app.inject({ method: 'GET', url: '/sep31/info' });
    expect(plain.headers['strict-transport-security']).toBeUndefined();
    const spoofed = await t.app.inject({
      method: 'GET',
      url: '/sep31/info',
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(spoofed.headers['strict-transport-security']).toBeUndefined();
  });
});

describe('http.trustProxy', () => {
  const OPERATOR_TOKEN = 'operator-token-that-is-long-enough-0123456789';
  const file = (http: ConfigFile['http']) =>
    testConfigFile({ operatorToken: OPERATOR_TOKEN, http, rateLimit: { signIn: { max: 2 } } });
  const apps: Record<'none' | 'local' | 'elsewhere', TestApp> = {} as never;

  beforeAll(async () => {
    apps.none = await buildTestApp({ file: file(undefined) });
    // inject() connects from 127.0.0.1: the configured proxy.
    apps.local = await buildTestApp({ file: file({ trustProxy: ['127.0.0.1'] }) });
    apps.elsewhere = await buildTestApp({ file: file({ trustProxy: ['10.0.0.0/8'] }) });
  }, 120_000);
  afterAll(async () => {
    await Promise.all(Object.values(apps).map((app) => app.close()));
  });

  async function wrongSignIns(t: TestApp) {
    const codes = [];
    for (const forwardedFor of ['192.0.2.1', '192.0.2.2', '192.0.2.3']) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/machines/api/session',
        payload: { token: 'wrong' },
        headers: { 'x-forwarded-for': forwardedFor },
      });
      codes.push(response.statusCode);
    }
    return codes;
  }
  const hsts = async (t: TestApp, headers: Record<string, string>) =>
    (await t.app.inject({ method: 'GET', url: '/sep31/info', headers })).headers['strict-transport-security'];

  it('by default (none): a client cannot pick its address with X-Forwarded-For to escape a limit', async () => {
    expect(await wrongSignIns(apps.none)).toEqual([401, 401, 429]);
  });

  it('a configured proxy (by address) gives the client address and the scheme, and HSTS over https', async () => {
    expect(await wrongSignIns(apps.local)).toEqual([401, 401, 401]);
    expect(await hsts(apps.local, { 'x-forwarded-proto': 'https' })).toBe(HSTS);
    expect(await hsts(apps.local, {})).toBeUndefined();
  });

  it('a proxy list that does not name the peer is not trusted', async () => {
    expect(await wrongSignIns(apps.elsewhere)).toEqual([401, 401, 429]);
    expect(await hsts(apps.elsewhere, { 'x-forwarded-proto': 'https' })).toBeUndefined();
  });
});
