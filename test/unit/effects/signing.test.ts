import { Keypair } from '@stellar/stellar-sdk';
import { describe, expect, it } from 'vitest';
import { parseSignatureHeader, signCallback, verifyCallbackSignature } from '../../../src/effects/signing.ts';

const server = Keypair.random();
const NOW = new Date('2026-11-24T12:00:00.750Z');
const T = 1795521600; // NOW in whole seconds
const URL_ = 'https://sender.example:8443/callbacks/sep31?ref=1';
const BODY = JSON.stringify({ transaction: { id: 'tx-1', status: 'pending_receiver', note: 'naïve €' } });

/** What a sending anchor does with only the SDK: rebuild `<t>.<host>.<body>` and verify. */
function sdkVerify(header: string, host: string, body: string, key = server.publicKey()): boolean {
  const match = /^t=(\d+), s=(.+)$/.exec(header);
  if (!match) return false;
  const bytes = new TextEncoder().encode(`${match[1]}.${host}.${body}`);
  return Keypair.fromPublicKey(key).verify(bytes, Buffer.from(match[2]!, 'base64'));
}

describe('signCallback', () => {
  const headers = signCallback({ url: URL_, body: BODY, secret: server.secret(), now: NOW });

  it('produces `t=<unix seconds>, s=<base64>` in Signature and the deprecated X-Stellar-Signature', () => {
    expect(headers.Signature).toMatch(/^t=1795521600, s=[A-Za-z0-9+/]{86}==$/);
    expect(headers['X-Stellar-Signature']).toBe(headers.Signature);
    expect(T).toBe(Math.floor(NOW.getTime() / 1000));
  });

  it('signs `<t>.<host:port>.<body>` with the signing key, verifiable with the SDK alone', () => {
    expect(sdkVerify(headers.Signature, 'sender.example:8443', BODY)).toBe(true);
    expect(sdkVerify(headers.Signature, 'sender.example', BODY)).toBe(false);
  });

  it('leaves the port out when the URL has none (or the default one)', () => {
    for (const url of [
      'https://sender.example/cb',
      'https://sender.example:443/cb',
      'https://SENDER.example/cb',
    ]) {
      const { Signature } = signCallback({ url, body: BODY, secret: server.secret(), now: NOW });
      expect(sdkVerify(Signature, 'sender.example', BODY), url).toBe(true);
    }
    const local = signCallback({
      url: 'http://localhost:9000/cb',
      body: BODY,
      secret: server.secret(),
      now: NOW,
    });
    expect(sdkVerify(local.Signature, 'localhost:9000', BODY)).toBe(true);
  });

  it('is deterministic for the same inputs (ed25519)', () => {
    expect(signCallback({ url: URL_, body: BODY, secret: server.secret(), now: NOW })).toEqual(headers);
  });
});

describe('verifyCallbackSignature', () => {
  const { Signature } = signCallback({ url: URL_, body: BODY, secret: server.secret(), now: NOW });
  const check = (overrides: Partial<Parameters<typeof verifyCallbackSignature>[0]> = {}) =>
    verifyCallbackSignature({
      header: Signature,
      url: URL_,
      body: BODY,
      signingKey: server.publicKey(),
      now: new Date(NOW.getTime() + 30_000),
      ...overrides,
    });

  it('accepts the untouched callback', () => {
    expect(check()).toEqual({ ok: true, timestamp: T });
    expect(check({ url: 'https://sender.example:8443/other/path' })).toEqual({ ok: true, timestamp: T });
  });

  it('detects a changed body', () => {
    expect(check({ body: BODY.replace('pending_receiver', 'completed') })).toEqual({
      ok: false,
      reason: 'signature does not verify',
    });
    expect(check({ body: `${BODY} ` }).ok).toBe(false);
  });

  it('detects a different host or port', () => {
    expect(check({ url: 'https://attacker.example:8443/cb' }).ok).toBe(false);
    expect(check({ url: 'https://sender.example:8444/cb' }).ok).toBe(false);
    expect(check({ url: 'https://sender.example/cb' }).ok).toBe(false);
  });

  it('detects a changed timestamp', () => {
    const moved = Signature.replace(`t=${T}`, `t=${T + 1}`);
    expect(check({ header: moved })).toEqual({ ok: false, reason: 'signature does not verify' });
  });

  it('drops stale and future timestamps', () => {
    expect(check({ now: new Date(NOW.getTime() + 121_000) })).toEqual({
      ok: false,
      reason: 'signature is 121 s old',
    });
    expect(check({ now: new Date(NOW.getTime() + 121_000), maxAgeSeconds: 300 }).ok).toBe(true);
    expect(check({ now: new Date(NOW.getTime() - 200_000) })).toMatchObject({ ok: false, reason: /future/ });
  });

  it('rejects another key, a missing or malformed header', () => {
    expect(check({ signingKey: Keypair.random().publicKey() }).ok).toBe(false);
    expect(check({ header: undefined })).toEqual({ ok: false, reason: 'no signature header' });
    for (const header of [
      'garbage',
      't=abc, s=xyz',
      `s=${Signature.split('s=')[1]}`,
      `t=${T}, s=`,
      `t=${T}, s=AAAA`,
    ]) {
      expect(check({ header }).ok, header).toBe(false);
    }
  });
});

describe('parseSignatureHeader', () => {
  it('reads both parts, in any order and spacing', () => {
    expect(parseSignatureHeader('t=12, s=abc=')).toEqual({ t: 12, s: 'abc=' });
    expect(parseSignatureHeader('s=abc==,t=12')).toEqual({ t: 12, s: 'abc==' });
    expect(parseSignatureHeader('t=12')).toBeNull();
  });
});
