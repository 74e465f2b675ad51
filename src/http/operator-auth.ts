/**
 * Operator authentication for the machine viewer: `Authorization: Bearer <OPERATOR_TOKEN>`, or a session cookie
 * the viewer's sign-in sets. Separate from SEP-10 on purpose: a sending anchor's JWT is never an operator token.
 *
 * The session cookie holds its expiry time, signed (HMAC, by @fastify/cookie) with a key derived from the
 * operator token: changing OPERATOR_TOKEN ends every session. @fastify/cookie must be registered in the scope
 * of the routes that use this (see `operatorCookiePlugin`), with `cookieSecret(token)`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MooringError } from '../errors.ts';

export const OPERATOR_COOKIE = 'mooring_operator';
export const OPERATOR_SESSION_MS = 12 * 60 * 60 * 1000;
const SECRET_LABEL = 'mooring machine viewer session v1';

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Equal in constant time (for any lengths: both sides are hashed first). */
export function sameToken(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}

/** The key that signs session cookies: derived from the operator token, never the token itself. */
export function cookieSecret(operatorToken: string): string {
  return createHash('sha256').update(`${SECRET_LABEL}\0${operatorToken}`, 'utf8').digest('hex');
}

/** Registers @fastify/cookie in `app`'s scope only, signing with a key derived from the operator token. */
export async function operatorCookiePlugin(app: FastifyInstance, operatorToken: string): Promise<void> {
  await app.register(cookie, { secret: cookieSecret(operatorToken), hook: 'onRequest' });
}

export interface OperatorAuthOptions {
  operatorToken: string;
  /** Where the cookie is sent (the viewer's base path). */
  cookiePath: string;
  clock?: () => Date;
}

export interface OperatorAuth {
  /** Whether the request carries the operator token or a live session. */
  isOperator(request: FastifyRequest): boolean;
  /** onRequest hook: 401 `{ "error": "operator token required" }` unless `isOperator`. */
  required(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** Signs in when `token` is the operator token (sets the cookie); false otherwise. */
  signIn(request: FastifyRequest, reply: FastifyReply, token: string): boolean;
  signOut(request: FastifyRequest, reply: FastifyReply): void;
}

export function operatorAuth(options: OperatorAuthOptions): OperatorAuth {
  const now = () => (options.clock?.() ?? new Date()).getTime();

  const cookieOptions = (request: FastifyRequest) => ({
    path: options.cookiePath,
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: request.protocol === 'https',
  });

  function bearer(request: FastifyRequest): string | null | undefined {
    const header = request.headers.authorization;
    if (header === undefined) return undefined;
    return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] ?? null;
  }

  function hasSession(request: FastifyRequest): boolean {
    const value = request.cookies?.[OPERATOR_COOKIE];
    if (typeof value !== 'string') return false;
    const unsigned = request.unsignCookie(value);
    if (!unsigned.valid || unsigned.value === null || !/^\d{1,15}$/.test(unsigned.value)) return false;
    return Number(unsigned.value) > now();
  }

  function isOperator(request: FastifyRequest): boolean {
    const given = bearer(request);
    // An Authorization header decides alone: a wrong token is not rescued by a cookie.
    if (given !== undefined) return given !== null && sameToken(given, options.operatorToken);
    return hasSession(request);
  }

  return {
    isOperator,
    async required(request, reply) {
      if (isOperator(request)) return;
      reply.header('www-authenticate', 'Bearer');
      throw new MooringError('unauthenticated', 'operator token required');
    },
    signIn(request, reply, token) {
      if (!sameToken(token, options.operatorToken)) return false;
      const expires = now() + OPERATOR_SESSION_MS;
      reply.setCookie(OPERATOR_COOKIE, String(expires), {
        ...cookieOptions(request),
        signed: true,
        expires: new Date(expires),
        maxAge: OPERATOR_SESSION_MS / 1000,
      });
      return true;
    },
    signOut(request, reply) {
      reply.clearCookie(OPERATOR_COOKIE, cookieOptions(request));
    },
  };
}
