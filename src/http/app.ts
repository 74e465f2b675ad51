import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import type { TransactionHost } from '../actors/transaction-host.ts';
import type { Config } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import { errorBody, MooringError } from '../errors.ts';
import type { HorizonAccounts } from '../stellar/horizon-accounts.ts';

export interface AppDeps {
  config: Config;
  db: Kysely<Database>;
  host: TransactionHost;
  horizon: HorizonAccounts;
  /** The only clock of the HTTP layer: tests pass a fixed one. */
  clock?: () => Date;
  /** Each check resolves when its part is usable; /ready answers 503 naming the first that is not. */
  readiness?: Record<string, () => Promise<void>>;
  logger?: boolean | object;
}

/**
 * The HTTP service as a Fastify instance, without listening: tests drive it with `inject`,
 * `main.ts` owns listen and shutdown.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: deps.logger ?? false, trustProxy: true });

  app.setErrorHandler((error: FastifyError | MooringError, request, reply) => {
    const known =
      error instanceof MooringError
        ? error
        : error.validation
          ? new MooringError('bad_request', error.message)
          : typeof error.statusCode === 'number' && error.statusCode < 500
            ? new MooringError(
                error.statusCode === 415 ? 'unsupported_media_type' : 'bad_request',
                error.message,
              )
            : null;
    if (known === null || known.status >= 500) request.log.error({ err: error }, 'request failed');
    const reported = known ?? new MooringError('internal', undefined, {}, { cause: error });
    return reply.status(reported.status).send(errorBody(reported));
  });
  app.setNotFoundHandler((_request, reply) => reply.status(404).send({ error: 'not found' }));

  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/ready', async (_request, reply) => {
    const checks: Record<string, () => Promise<void>> = {
      database: async () => void (await sql`select 1`.execute(deps.db)),
      ...deps.readiness,
    };
    for (const [name, check] of Object.entries(checks)) {
      try {
        await check();
      } catch {
        return reply.status(503).send({ error: `not ready: ${name} unavailable`, status: 'unavailable' });
      }
    }
    return { status: 'ready' };
  });

  return app;
}
