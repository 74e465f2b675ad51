import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyHttpOptions,
  type FastifyInstance,
} from 'fastify';
import type { Server } from 'node:http';
import swagger from '@fastify/swagger';
import type { TransactionCommands } from '../actors/commands.ts';
import type { CustomerCommands } from '../actors/customer-commands.ts';
import type { QuoteCommands } from '../actors/quote-commands.ts';
import type { RatesIntegration } from '../integrations/rates-integration.ts';
import type { Config } from '../config/index.ts';
import { clientErrorCode, errorBody, MooringError, unavailableError } from '../errors.ts';
import type { HttpConfig } from '../config/index.ts';
import type { HorizonAccounts } from '../stellar/horizon-accounts.ts';
import type { Sep31Integration } from '../integrations/sep31-integration.ts';
import { sep1Routes } from './sep1.routes.ts';
import { sep10Routes } from './sep10.routes.ts';
import { sep12Routes } from './sep12.routes.ts';
import { sep31Routes } from './sep31.routes.ts';
import { sep38Routes } from './sep38.routes.ts';
import { PATHS } from './urls.ts';
import { applyEdgePolicies } from './edge.ts';
import { registerRateLimits, type RateLimits } from './rate-limits.ts';
import type { HttpPorts } from '../read-model/index.ts';
import { VIEWER_BASE } from '../viewer/api.ts';
import { viewerRoutes, type ViewerRouteOptions } from './viewer.routes.ts';
import { metricsRoutes, type MetricsRouteOptions } from './metrics.routes.ts';
import { OPERATOR_BASE, operatorRoutes } from './operator.routes.ts';

/** A /ready check that has not answered by then counts as failed: a probe must never hang. */
const READY_CHECK_TIMEOUT_MS = 2_000;

/**
 * What the app is built from. No database: reads go through the read model's queries (`HttpPorts`),
 * changes are commands to actors.
 */
export interface AppDeps extends HttpPorts {
  config: Config;
  /** Changes to transactions: commands to their actors, answered over the bus. */
  commands: TransactionCommands;
  /** Changes to SEP-12 customers: commands to their actors, answered over the bus. */
  customerCommands: CustomerCommands;
  /** Firm SEP-38 quotes: commands to their actors. Without it, `POST /sep38/quote` is not served. */
  quoteCommands?: QuoteCommands;
  /** SEP-38 prices; defaults to the reference rates (`sep38` in config). */
  rates?: RatesIntegration;
  horizon: HorizonAccounts;
  /** The only clock of the HTTP layer: tests pass a fixed one. */
  clock?: () => Date;
  /** Each check resolves when its part is usable; /ready answers 503 naming the first that is not. */
  readiness?: Record<string, () => Promise<void>>;
  /** The process logger (pino); without it the app logs nothing (tests). */
  logger?: FastifyBaseLogger;
  /** SEP-31 business logic; defaults to the reference integration (decides from config). */
  integration?: Sep31Integration;
  /** The machine viewer at /machines (on when config.operatorToken is set): tests poll faster. */
  viewer?: ViewerRouteOptions;
  /** Prometheus metrics: request durations, and /metrics for the operator. */
  metrics?: MetricsRouteOptions;
}

/** What the route plugins get: the app's dependencies and the rate-limit hooks of this app. */
export interface RouteDeps extends AppDeps {
  limits: RateLimits;
}

/**
 * Socket-level limits: a request must fully arrive within `requestTimeoutSeconds` (slow bodies are cut
 * off), an idle socket closes after `connectionTimeoutSeconds`, and only the configured proxies may set
 * `X-Forwarded-*`.
 */
function serverOptions(http: HttpConfig): FastifyHttpOptions<Server> {
  const requestTimeout = http.requestTimeoutSeconds * 1000;
  return {
    requestTimeout,
    connectionTimeout: http.connectionTimeoutSeconds * 1000,
    keepAliveTimeout: http.keepAliveTimeoutSeconds * 1000,
    bodyLimit: http.bodyLimitBytes,
    trustProxy: typeof http.trustProxy === 'boolean' ? http.trustProxy : [...http.trustProxy],
    http: {
      headersTimeout: Math.min(60_000, requestTimeout),
      // Node checks the request deadline only this often (30 s by default): a short timeout needs it sooner.
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, requestTimeout / 4)),
    },
  };
}

/**
 * The HTTP service as a Fastify instance, without listening: tests drive it with `inject`,
 * `main.ts` owns listen and shutdown.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...serverOptions(deps.config.http),
    ...(deps.logger && { loggerInstance: deps.logger }),
  });
  // Connections over the cap are closed as they arrive (a flood of slow sockets cannot exhaust the process).
  app.server.maxConnections = deps.config.http.maxConnections;
  applyEdgePolicies(app);

  app.setErrorHandler((error: FastifyError | MooringError, request, reply) => {
    const known =
      error instanceof MooringError
        ? error
        : error.validation
          ? new MooringError('bad_request', error.message)
          : typeof error.statusCode === 'number' && error.statusCode < 500
            ? new MooringError(clientErrorCode(error.statusCode), error.message)
            : // An outage is not a bug: a 503 to retry, a line in the log (no stack).
              unavailableError(error);
    if (known?.status === 503) request.log.warn({ error: error.message }, 'request failed: unavailable');
    else if (known === null || known.status >= 500) request.log.error({ err: error }, 'request failed');
    const reported = known ?? new MooringError('internal', undefined, {}, { cause: error });
    // A 503 is temporary by definition: say when to come back.
    if (reported.status === 503) void reply.header('retry-after', '2');
    return reply.status(reported.status).send(errorBody(reported));
  });
  app.setNotFoundHandler((_request, reply) => reply.status(404).send({ error: 'not found' }));

  if (deps.metrics) await metricsRoutes(app, deps.metrics);
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/ready', async (_request, reply) => {
    const checks: Record<string, () => Promise<void>> = {
      database: deps.databaseReady,
      ...deps.readiness,
    };
    for (const [name, check] of Object.entries(checks)) {
      try {
        await withDeadline(check(), READY_CHECK_TIMEOUT_MS);
      } catch {
        return reply.status(503).send({ error: `not ready: ${name} unavailable`, status: 'unavailable' });
      }
    }
    return { status: 'ready' };
  });

  // Registered before the routes so it sees their schemas: one declaration gives validation and the document.
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Mooring: SEP-31 receiving anchor',
        version: '0.1.0',
        description: 'SEP-1, SEP-10, SEP-12, SEP-31 and SEP-38 endpoints for sending anchors.',
      },
      components: { securitySchemes: { sep10: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const routeDeps: RouteDeps = { ...deps, limits: await registerRateLimits(app, deps.config.rateLimit) };

  // SEP routes
  await app.register((instance) => sep1Routes(instance, routeDeps), { prefix: PATHS.toml });
  await app.register((instance) => sep10Routes(instance, routeDeps), { prefix: PATHS.auth });
  await app.register((instance) => sep31Routes(instance, routeDeps), { prefix: PATHS.sep31 });
  await app.register((instance) => sep12Routes(instance, routeDeps), { prefix: PATHS.sep12 });
  await app.register((instance) => sep38Routes(instance, routeDeps), { prefix: PATHS.sep38 });

  // Operator tools
  await app.register((instance) => viewerRoutes(instance, routeDeps), { prefix: VIEWER_BASE });
  await app.register((instance) => operatorRoutes(instance, routeDeps), { prefix: OPERATOR_BASE });

  return app;
}

function withDeadline(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
