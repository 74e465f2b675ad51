/**
 * Prometheus metrics over HTTP: the request-duration hook of the app, and `GET /metrics`. On the public
 * port /metrics is for operators only (`Authorization: Bearer <OPERATOR_TOKEN>`; absent without a token);
 * `metrics.port` serves it without auth on a listener of its own (see `startMetricsServer`).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { MooringMetrics } from '../metrics/registry.ts';
import { operatorAuth } from './operator-auth.ts';

export const METRICS_PATH = '/metrics';

export interface MetricsRouteOptions {
  metrics: MooringMetrics;
  /** Required to scrape on this app; null: no /metrics route here. */
  operatorToken: string | null;
}

/** Call on the root instance (not inside `register`): the hook must see every route. */
export async function metricsRoutes(app: FastifyInstance, options: MetricsRouteOptions): Promise<void> {
  const { metrics, operatorToken } = options;
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequestDuration.observe(
      {
        // The route's template keeps the label set small: ids never become labels.
        route: request.routeOptions.url ?? 'unmatched',
        method: request.method,
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });
  if (operatorToken === null) return;
  const auth = operatorAuth({ operatorToken, cookiePath: METRICS_PATH });
  app.get(METRICS_PATH, { schema: { hide: true }, onRequest: auth.required }, (_request, reply) =>
    scrape(metrics, reply),
  );
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/** A listener serving only /metrics, without auth: bind it where only the scraper reaches. */
export async function startMetricsServer(options: {
  metrics: MooringMetrics;
  port: number;
  host: string;
}): Promise<MetricsServer> {
  const app = Fastify();
  app.get(METRICS_PATH, (_request, reply) => scrape(options.metrics, reply));
  const url = await app.listen({ port: options.port, host: options.host });
  return { url, close: () => app.close() };
}

async function scrape(metrics: MooringMetrics, reply: { type(contentType: string): unknown }) {
  const text = await metrics.registry.metrics();
  reply.type(metrics.registry.contentType);
  return text;
}
