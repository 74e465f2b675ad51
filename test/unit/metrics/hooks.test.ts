import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../../src/bus/index.ts';
import type { RailsIntegration } from '../../../src/integrations/rails-integration.ts';
import {
  addRetentionGapGauge,
  createMetrics,
  instrumentRails,
  recordCommit,
  watcherMetrics,
} from '../../../src/metrics/index.ts';

const value = async (metrics: ReturnType<typeof createMetrics>, name: string, labels: object = {}) => {
  const metric = await metrics.registry.getSingleMetric(name)!.get();
  return metric.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
};

/** Histogram values carry the series name (`_sum`, `_count`, `_bucket`). */
const nameOf = (v: object) => (v as { metricName?: string }).metricName;

describe('metrics hooks', () => {
  it('keep one registry per process: two sets of metrics never share a value', async () => {
    const [a, b] = [createMetrics({ processMetrics: false }), createMetrics({ processMetrics: false })];
    watcherMetrics(a).onReconnect('GA', { cause: 'error' });
    expect(await value(a, 'mooring_watcher_reconnects_total', { account: 'GA', cause: 'error' })).toBe(1);
    expect(
      await value(b, 'mooring_watcher_reconnects_total', { account: 'GA', cause: 'error' }),
    ).toBeUndefined();
  });

  it('count what each committed message did and how long it waited on the bus', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const delivery = (to: string, publishedAt?: number): Delivery => ({
      message: { id: to, to, body: {} },
      partition: 0,
      position: 1,
      replyTo: null,
      ...(publishedAt !== undefined && { publishedAt }),
    });
    recordCommit(
      metrics,
      {
        deliveries: [
          delivery('transaction:t1', 1_000),
          delivery('transaction:t2', 1_500),
          delivery('customer:c1'),
        ],
        answers: [
          { outcome: 'applied', status: 'pending_receiver', version: 2 },
          { outcome: 'refused', code: 'not_accepted', reason: '', status: 'completed', accepts: [] },
          { outcome: 'applied' },
        ],
      },
      2_000,
    );
    const transitions = (labels: object) => value(metrics, 'mooring_transitions_total', labels);
    expect(await transitions({ actor: 'transaction', outcome: 'applied', status: 'pending_receiver' })).toBe(
      1,
    );
    expect(await transitions({ actor: 'transaction', outcome: 'refused', status: 'completed' })).toBe(1);
    expect(await transitions({ actor: 'customer', outcome: 'applied', status: '' })).toBe(1);
    const lag = await metrics.registry.getSingleMetric('mooring_bus_lag_seconds')!.get();
    expect(lag.values.find((v) => nameOf(v) === 'mooring_bus_lag_seconds_sum')?.value).toBe(1.5);
    expect(lag.values.find((v) => nameOf(v) === 'mooring_bus_lag_seconds_count')?.value).toBe(2);
  });

  it('keep one cursor series per account: the last record committed', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const watcher = watcherMetrics(metrics);
    watcher.onOutcome('GA', { paging_token: '100', created_at: '2026-12-03T12:00:00Z' });
    watcher.onOutcome('GA', { paging_token: '200', created_at: '2026-12-03T12:00:05Z' });
    const cursor = await metrics.registry.getSingleMetric('mooring_watcher_cursor_info')!.get();
    expect(cursor.values).toEqual([{ labels: { account: 'GA', paging_token: '200' }, value: 1 }]);
    expect(await value(metrics, 'mooring_watcher_last_record_ledger_time_seconds', { account: 'GA' })).toBe(
      Date.parse('2026-12-03T12:00:05Z') / 1000,
    );
  });

  it('show each RPC retention gap while it lasts, in ledgers, with whether Horizon can fill it', async () => {
    const metrics = createMetrics({ processMetrics: false });
    let gaps = [
      { account: 'GA', cursorLedger: 100, oldestLedger: 1_100, catchUp: 'none' as const },
      { account: 'GB', cursorLedger: 500, oldestLedger: 1_100, catchUp: 'horizon' as const },
    ];
    addRetentionGapGauge(metrics, () => gaps);
    const text = await metrics.registry.metrics();
    expect(text).toContain('mooring_watcher_retention_gap_ledgers{account="GA",catch_up="none"} 1000');
    expect(text).toContain('mooring_watcher_retention_gap_ledgers{account="GB",catch_up="horizon"} 600');
    gaps = [];
    expect(await metrics.registry.metrics()).not.toMatch(/mooring_watcher_retention_gap_ledgers\{/);
  });

  it('time rails calls and count those that throw, passing answers and errors through', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const failure = new Error('bank down');
    const rails = instrumentRails(
      {
        executeOutgoingTransaction: async () => ({ status: 'completed' }),
        pollOutgoingTransactions: async () => {
          throw failure;
        },
      } satisfies RailsIntegration,
      metrics,
    );
    await expect(rails.executeOutgoingTransaction({} as never, { idempotencyKey: 'k' })).resolves.toEqual({
      status: 'completed',
    });
    await expect(rails.pollOutgoingTransactions([])).rejects.toBe(failure);
    expect(await value(metrics, 'mooring_rails_call_failures_total', { operation: 'poll_outgoing' })).toBe(1);
    expect(
      await value(metrics, 'mooring_rails_call_failures_total', { operation: 'execute_outgoing' }),
    ).toBeUndefined();
    const calls = await metrics.registry.getSingleMetric('mooring_rails_call_duration_seconds')!.get();
    const count = (operation: string, outcome: string) =>
      calls.values.find(
        (v) =>
          nameOf(v) === 'mooring_rails_call_duration_seconds_count' &&
          v.labels.operation === operation &&
          v.labels.outcome === outcome,
      )?.value;
    expect(count('execute_outgoing', 'ok')).toBe(1);
    expect(count('poll_outgoing', 'error')).toBe(1);
  });
});
