/**
 * Gauges read from the database at scrape time, so every process (any role) reports the same figures:
 * transactions by status from the per-state counts (a few dozen rows), and the outbox rows waiting or
 * failed by kind (partial indexes hold only those rows).
 */
import { Gauge } from 'prom-client';
import type { Executor } from '../db/database.ts';
import { readStateCounts } from '../db/transaction-state-counts.repository.ts';
import type { MooringMetrics } from './registry.ts';

export function addDatabaseGauges(metrics: MooringMetrics, db: Executor): void {
  const registers = [metrics.registry];
  new Gauge({
    name: 'mooring_transactions',
    help: 'Transactions by SEP-31 status',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      const byStatus = new Map<string, number>();
      for (const count of await readStateCounts(db)) {
        byStatus.set(count.status, (byStatus.get(count.status) ?? 0) + count.n);
      }
      this.reset();
      for (const [status, n] of byStatus) this.set({ status }, n);
    },
  });
  new Gauge({
    name: 'mooring_outbox_effects',
    help: 'Outbox effects by kind and state: pending (due or waiting to retry), in_flight, failed',
    labelNames: ['kind', 'state'] as const,
    registers,
    async collect() {
      const rows = await db
        .selectFrom('outbox')
        .select(['kind', 'state', (eb) => eb.fn.countAll<string>().as('n')])
        .where('state', 'in', ['pending', 'in_flight', 'failed'])
        .groupBy(['kind', 'state'])
        .execute();
      this.reset();
      for (const row of rows) this.set({ kind: row.kind, state: row.state }, Number(row.n));
    },
  });
}
