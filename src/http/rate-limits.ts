/**
 * Rate limits (@fastify/rate-limit, in-memory: per process) for the endpoints that cost the anchor or guard a
 * secret: operator token guesses and SEP-10 per client address, SEP-31/SEP-12 writes per authenticated
 * account. Each group is one budget shared by its routes. Over budget: 429 `{"error": ...}` with
 * `Retry-After`.
 *
 * Keyed by address, an attacker exhausting its own budget does not lock out the operator signing in from
 * elsewhere. Behind a proxy the address is the proxy's unless `http.trustProxy` names it.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { RateLimitConfig, RateLimitGroupConfig } from '../config/index.ts';
import { MooringError } from '../errors.ts';

/** onRequest hooks, one per group; add them after authentication so `writes` sees the account. */
export interface RateLimits {
  /** Operator token guesses, per client address: sign-ins and wrong Bearer tokens share one budget. */
  operatorGuesses: {
    /** onRequest: 429 while this address has no guesses left (before the token is even compared). */
    refuseWhenSpent: onRequestAsyncHookHandler;
    /** Counts one guess. */
    spend(request: FastifyRequest): Promise<void>;
  };
  sep10: onRequestAsyncHookHandler;
  writes: onRequestAsyncHookHandler;
}

const unlimited: onRequestAsyncHookHandler = async () => {};

const tooMany = (after: string) =>
  new MooringError('too_many_requests', `too many requests: try again in ${after}`);

/** Registers the plugin (no global limit) on `app` and returns the group hooks. */
export async function registerRateLimits(app: FastifyInstance, config: RateLimitConfig): Promise<RateLimits> {
  if (!config.enabled) {
    return {
      operatorGuesses: { refuseWhenSpent: unlimited, spend: async () => {} },
      sep10: unlimited,
      writes: unlimited,
    };
  }
  await app.register(rateLimit, { global: false });
  const group = (limit: RateLimitGroupConfig, keyGenerator: (request: FastifyRequest) => string) =>
    app.rateLimit({
      max: limit.max,
      timeWindow: limit.windowSeconds * 1000,
      keyGenerator,
      errorResponseBuilder: (_request, context) => tooMany(context.after),
    }) as onRequestAsyncHookHandler;
  return {
    operatorGuesses: operatorGuesses(app, config.signIn),
    sep10: group(config.sep10, byAddress),
    writes: group(config.writes, byAccount),
  };
}

/**
 * Checked before counting, so a spent budget refuses the right token too: otherwise a guesser past the limit
 * would still learn which guess was right.
 */
function operatorGuesses(app: FastifyInstance, limit: RateLimitGroupConfig): RateLimits['operatorGuesses'] {
  const guesses = app.createRateLimit({
    max: limit.max,
    timeWindow: limit.windowSeconds * 1000,
    keyGenerator: byAddress,
  });
  return {
    async refuseWhenSpent(request, reply) {
      const state = await guesses(request, { increment: false });
      if (state.isAllowed || state.remaining > 0) return;
      void reply.header('retry-after', String(Math.max(1, state.ttlInSeconds)));
      throw tooMany(`${Math.max(1, state.ttlInSeconds)} seconds`);
    },
    async spend(request) {
      await guesses(request);
    },
  };
}

const byAddress = (request: FastifyRequest) => `address:${request.ip}`;

/** The SEP-10 account (a sending anchor's memos and muxed ids share its budget), else the address. */
const byAccount = (request: FastifyRequest) =>
  request.sep10 ? `account:${request.sep10.account}` : byAddress(request);
