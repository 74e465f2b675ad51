/**
 * SEP-10 Stellar Web Authentication (v3.4.1): `GET /auth` issues a challenge, `POST /auth` exchanges the
 * signed challenge for a JWT. Registered under `PATHS.auth`. Every answer (errors and OPTIONS preflight
 * too) carries `Access-Control-Allow-Origin: *`.
 * @see https://github.com/stellar/stellar-protocol/blob/master/ecosystem/sep-0010.md
 */
import cors from '@fastify/cors';
import formbody from '@fastify/formbody';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { MooringError } from '../errors.ts';
import type { RouteDeps } from './app.ts';
import { signSep10Token } from './auth.ts';
import {
  checkChallengeRequest,
  issueChallenge,
  TOKEN_TTL_SECONDS,
  verifyChallenge,
} from './sep10/challenge.ts';
import { ClientDomainError, clientDomainUrl, fetchClientSigningKey } from './sep10/client-domain.ts';

const ErrorResponse = Type.Object(
  { error: Type.String() },
  { additionalProperties: true, description: 'SEP error body' },
);

export const ChallengeQuery = Type.Object({
  account: Type.String({ maxLength: 128, description: 'G... or M... account to authenticate' }),
  memo: Type.Optional(
    Type.String({ maxLength: 64, description: 'id memo (uint64); only with a G... account' }),
  ),
  home_domain: Type.Optional(Type.String({ maxLength: 255, description: 'defaults to our home domain' })),
  client_domain: Type.Optional(
    Type.String({ maxLength: 255, description: 'domain whose stellar.toml SIGNING_KEY must also sign' }),
  ),
});

export const ChallengeResponse = Type.Object({
  transaction: Type.String({ description: 'base64 XDR transaction envelope, signed by SIGNING_KEY' }),
  network_passphrase: Type.String(),
});

export const TokenRequest = Type.Object({
  transaction: Type.String({
    minLength: 1,
    maxLength: 65536,
    description: 'the challenge, signed by the client',
  }),
});

export const TokenResponse = Type.Object({ token: Type.String({ description: 'SEP-10 JWT' }) });

export const CLIENT_DOMAIN_FAILED = 'client_domain: could not read a valid SIGNING_KEY from its stellar.toml';

/** A redeemed challenge is remembered until the SDK would refuse it, plus this margin (instance clocks). */
const REPLAY_MARGIN_MS = 60_000;

export async function sep10Routes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { config } = deps;
  // Encapsulated: applies to the auth routes only (an OPTIONS route answers preflights with 204).
  await app.register(cors, { origin: '*', methods: ['GET', 'POST', 'OPTIONS'] });
  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) await app.register(formbody);

  const routes = app.withTypeProvider<TypeBoxTypeProvider>();

  routes.get(
    '/',
    {
      prefixTrailingSlash: 'no-slash',
      // Per client address: each token costs a Horizon look-up, each challenge maybe a client_domain fetch.
      onRequest: deps.limits.sep10,
      schema: {
        summary: 'SEP-10 challenge transaction',
        tags: ['SEP-10'],
        querystring: ChallengeQuery,
        response: { 200: ChallengeResponse, 400: ErrorResponse },
      },
    },
    async (request) => {
      const challengeRequest = checkChallengeRequest(config, request.query);
      let clientDomain: { domain: string; signingKey: string } | null = null;
      if (request.query.client_domain !== undefined) {
        const policy = { allowLocalhost: config.sandbox };
        let domain: string;
        try {
          domain = clientDomainUrl(request.query.client_domain, policy).domain;
        } catch (error) {
          if (!(error instanceof ClientDomainError)) throw error;
          throw new MooringError('bad_request', `client_domain: ${error.message}`, {}, { cause: error });
        }
        try {
          clientDomain = { domain, signingKey: await fetchClientSigningKey(domain, policy) };
        } catch (error) {
          if (!(error instanceof ClientDomainError)) throw error;
          // One answer whatever went wrong (refused, silent, not TOML...): the reason would tell a caller
          // which ports answer on hosts it cannot reach itself. The log keeps it.
          request.log.info({ clientDomain: domain, reason: error.message }, 'client_domain fetch failed');
          throw new MooringError('bad_request', CLIENT_DOMAIN_FAILED, {}, { cause: error });
        }
      }
      return {
        transaction: issueChallenge(config, challengeRequest, clientDomain),
        network_passphrase: config.networkPassphrase,
      };
    },
  );

  routes.post(
    '/',
    {
      prefixTrailingSlash: 'no-slash',
      // Per client address: each token costs a Horizon look-up, each challenge maybe a client_domain fetch.
      onRequest: deps.limits.sep10,
      schema: {
        summary: 'Exchange a signed SEP-10 challenge for a JWT',
        tags: ['SEP-10'],
        consumes: ['application/json', 'application/x-www-form-urlencoded'],
        body: TokenRequest,
        response: { 200: TokenResponse, 400: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (request) => {
      const verified = await verifyChallenge(config, deps.horizon, request.body.transaction);
      // The SDK judges time bounds by the real clock, so the replay record expires by the real clock too.
      const realNow = new Date();
      const keepUntil = new Date(verified.acceptableUntil.getTime() + REPLAY_MARGIN_MS);
      if (!(await deps.challenges.redeem(verified.hash, keepUntil, realNow))) {
        throw new MooringError('bad_request', 'invalid challenge: this challenge was already used');
      }
      const token = await signSep10Token(config, {
        sub: verified.sub,
        jti: verified.hash,
        clientDomain: verified.clientDomain,
        issuedAt: deps.clock?.() ?? new Date(),
        ttlSeconds: TOKEN_TTL_SECONDS,
      });
      return { token };
    },
  );
}
