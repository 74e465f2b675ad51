/**
 * Mooring's Prometheus metrics (prom-client), one registry per process: tests build several apps side by
 * side, so nothing goes to prom-client's global registry. Instruments are filled by hooks (HTTP, actor host,
 * watcher, rails); the database gauges are read at scrape time (see `database.ts`).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type MooringMetrics = ReturnType<typeof createMetrics>;

/** Seconds: from a fast read (1 ms) to a slow rails call (30 s). */
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Seconds from publish to the commit that applied the message. */
const BUS_LAG_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300];

export function createMetrics(options: { processMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'mooring_' });
  const registers = [registry];
  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'mooring_http_request_duration_seconds',
      help: 'HTTP requests by route template, method and status code',
      labelNames: ['route', 'method', 'status'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    transitions: new Counter({
      name: 'mooring_transitions_total',
      help: 'Messages applied by the actor host, by actor kind, outcome and resulting status',
      labelNames: ['actor', 'outcome', 'status'] as const,
      registers,
    }),
    busLag: new Histogram({
      name: 'mooring_bus_lag_seconds',
      help: 'Time from publishing a message on the bus to committing what it did',
      buckets: BUS_LAG_BUCKETS,
      registers,
    }),
    watcherLastLedgerTime: new Gauge({
      name: 'mooring_watcher_last_record_ledger_time_seconds',
      help: 'Ledger close time (Unix seconds) of the last payment record the watcher committed, per account',
      labelNames: ['account'] as const,
      registers,
    }),
    watcherCursor: new Gauge({
      name: 'mooring_watcher_cursor_info',
      help: 'Paging token of the last payment record the watcher committed, per account (always 1)',
      labelNames: ['account', 'paging_token'] as const,
      registers,
    }),
    watcherReconnects: new Counter({
      name: 'mooring_watcher_reconnects_total',
      help: 'Horizon payment stream reconnections, per account and cause (error, silence, ended)',
      labelNames: ['account', 'cause'] as const,
      registers,
    }),
    railsDuration: new Histogram({
      name: 'mooring_rails_call_duration_seconds',
      help: 'Calls to the payout rails, by operation and outcome (ok, error)',
      labelNames: ['operation', 'outcome'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    railsFailures: new Counter({
      name: 'mooring_rails_call_failures_total',
      help: 'Calls to the payout rails that threw (timeout, network, bad answer), by operation',
      labelNames: ['operation'] as const,
      registers,
    }),
  };
}
