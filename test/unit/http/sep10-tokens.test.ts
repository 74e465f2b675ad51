// SEP-10 JWT verification: a token verified once is remembered, but never past its `exp`, and never for
// another secret or a token that differs in one character.
import { Keypair } from '@stellar/stellar-sdk';
import { describe, expect, it } from 'vitest';
import { signSep10Token, verifySep10Token } from '../../../src/http/auth.ts';

const account = Keypair.random().publicKey();
const config = { jwtSecret: 'a-secret-of-at-least-32-characters!!', homeDomain: 'anchor.example' };
const issuedAt = new Date('2026-12-03T12:00:00Z');
const at = (seconds: number) => new Date(issuedAt.getTime() + seconds * 1000);

async function token(secret = config.jwtSecret) {
  return signSep10Token(
    { ...config, jwtSecret: secret },
    { sub: `${account}:7`, jti: 'challenge-hash', issuedAt, ttlSeconds: 60 },
  );
}

describe('verifySep10Token', () => {
  it('names the caller, again from memory, until the token expires', async () => {
    const jwt = await token();
    const identity = await verifySep10Token(config, jwt, at(1));
    expect(identity).toMatchObject({ account, memo: '7', jti: 'challenge-hash' });
    expect(await verifySep10Token(config, jwt, at(59.999))).toEqual(identity);
    await expect(verifySep10Token(config, jwt, at(60))).rejects.toThrow(/invalid or expired/);
  });

  it('does not accept a remembered token under another secret', async () => {
    const jwt = await token();
    await verifySep10Token(config, jwt, at(1));
    await expect(
      verifySep10Token({ ...config, jwtSecret: 'another-secret-of-32-characters-or-more' }, jwt, at(2)),
    ).rejects.toThrow(/invalid or expired/);
  });

  it('refuses a token whose signature was altered after the original was verified', async () => {
    const jwt = await token();
    await verifySep10Token(config, jwt, at(1));
    // A character inside the signature (the last one carries unused bits), changed in its high bits.
    const at5 = jwt.lastIndexOf('.') + 5;
    const altered = jwt.slice(0, at5) + (jwt[at5] === 'A' ? 'Q' : 'A') + jwt.slice(at5 + 1);
    await expect(verifySep10Token(config, altered, at(2))).rejects.toThrow(/invalid or expired/);
  });

  it('refuses a token signed with another secret', async () => {
    const jwt = await token('another-secret-of-32-characters-or-more');
    await expect(verifySep10Token(config, jwt, at(1))).rejects.toThrow(/invalid or expired/);
  });
});
