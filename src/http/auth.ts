import { createSecretKey, type KeyObject } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { jwtVerify, SignJWT } from 'jose';
import type { Config } from '../config/index.ts';
import { MooringError } from '../errors.ts';
import { identityOf, type Sep10Identity } from '../sep10/identity.ts';
import { publicUrls } from './urls.ts';

export { identityOf, type Sep10Identity };

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `requireSep10`. */
    sep10: Sep10Identity | null;
  }
}

const ALGORITHM = 'HS256';
type AuthConfig = Pick<Config, 'jwtSecret' | 'homeDomain'>;

/** Tokens verified recently, per key: most requests carry a token seen before, checked only for expiry. */
const VERIFIED_TOKENS_KEPT = 10_000;

interface Verifier {
  /** Imported once: jose would import raw bytes as a new HMAC key on every call. */
  key: KeyObject;
  verified: Map<string, { identity: Sep10Identity; expiresAtMs: number }>;
}

const verifiers = new Map<string, Verifier>();

function verifierFor(config: AuthConfig): Verifier {
  const id = `${publicUrls(config).webAuthEndpoint}\n${config.jwtSecret}`;
  let verifier = verifiers.get(id);
  if (verifier === undefined) {
    verifier = { key: createSecretKey(Buffer.from(config.jwtSecret, 'utf8')), verified: new Map() };
    verifiers.set(id, verifier);
  }
  return verifier;
}

function key(config: AuthConfig): KeyObject {
  return verifierFor(config).key;
}

/** Issues the SEP-10 JWT (`iss`, `sub`, `iat`, `exp`, `jti`, `client_domain`). */
export async function signSep10Token(
  config: AuthConfig,
  claims: { sub: string; jti: string; clientDomain?: string | null; issuedAt: Date; ttlSeconds: number },
): Promise<string> {
  const iat = Math.floor(claims.issuedAt.getTime() / 1000);
  const token = new SignJWT({ ...(claims.clientDomain ? { client_domain: claims.clientDomain } : {}) })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setIssuer(publicUrls(config).webAuthEndpoint)
    .setSubject(claims.sub)
    .setJti(claims.jti)
    .setIssuedAt(iat)
    .setExpirationTime(iat + claims.ttlSeconds);
  return token.sign(key(config));
}

/** Verifies a SEP-10 JWT issued by this server; throws MooringError('unauthorized') otherwise. */
export async function verifySep10Token(
  config: AuthConfig,
  token: string,
  now = new Date(),
): Promise<Sep10Identity> {
  const { key, verified } = verifierFor(config);
  const known = verified.get(token);
  if (known !== undefined && now.getTime() < known.expiresAtMs) return known.identity;
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: [ALGORITHM],
      issuer: publicUrls(config).webAuthEndpoint,
      currentDate: now,
      requiredClaims: ['sub', 'iat', 'exp', 'jti'],
    });
    const identity = identityOf(
      payload.sub!,
      payload.jti!,
      typeof payload.client_domain === 'string' ? payload.client_domain : null,
    );
    remember(verified, token, { identity, expiresAtMs: payload.exp! * 1000 });
    return identity;
  } catch (error) {
    throw new MooringError('unauthorized', 'invalid or expired token', {}, { cause: error });
  }
}

function remember(
  verified: Verifier['verified'],
  token: string,
  entry: { identity: Sep10Identity; expiresAtMs: number },
) {
  // A Map iterates in insertion order: dropping the first entry drops the oldest.
  if (verified.size >= VERIFIED_TOKENS_KEPT) verified.delete(verified.keys().next().value!);
  verified.set(token, entry);
}

/**
 * preHandler: requires `Authorization: Bearer <SEP-10 JWT>` and sets `request.sep10`.
 * SEP-31 answers 403 for a missing or bad token (the default); SEP-12 allows 401.
 */
export function requireSep10(config: AuthConfig, options: { status?: 401 | 403; clock?: () => Date } = {}) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match)
      throw authError(options.status, 'authentication required: Authorization: Bearer <SEP-10 token>');
    try {
      request.sep10 = await verifySep10Token(config, match[1]!, options.clock?.() ?? new Date());
    } catch (error) {
      throw authError(options.status, error instanceof MooringError ? error.message : 'invalid token');
    }
  };
}

function authError(status: 401 | 403 = 403, message: string): MooringError {
  return new MooringError(status === 401 ? 'unauthenticated' : 'unauthorized', message);
}
