/** The callbacks through which the actor host and the watcher report to the metrics. */
import type { Delivery } from '../bus/index.ts';
import type { ReconnectInfo } from '../../streams/index.ts';
import { Gauge } from 'prom-client';
import type { MooringMetrics } from './registry.ts';

export interface CommittedBatch {
  deliveries: readonly Delivery[];
  /** One per delivery, in order (a transaction's is a `TransactionReply`). */
  answers: readonly unknown[];
}

/** Actor host `onCommit`: counts what each message did and how long it waited on the bus. */
export function recordCommit(metrics: MooringMetrics, batch: CommittedBatch, now = Date.now()): void {
  batch.deliveries.forEach((delivery, index) => {
    const answer = (batch.answers[index] ?? {}) as { outcome?: unknown; status?: unknown };
    metrics.transitions.inc({
      actor: delivery.message.to.split(':', 1)[0] ?? 'unknown',
      outcome: typeof answer.outcome === 'string' ? answer.outcome : 'unknown',
      status: typeof answer.status === 'string' ? answer.status : '',
    });
    if (delivery.publishedAt !== undefined) {
      metrics.busLag.observe(Math.max(0, now - delivery.publishedAt) / 1000);
    }
  });
}

/** The watcher's hooks: the last committed record per account, and reconnections. */
export function watcherMetrics(metrics: MooringMetrics) {
  const cursors = new Map<string, string>();
  return {
    onOutcome(account: string, record: { paging_token: string; created_at: string }) {
      const closedAt = Date.parse(record.created_at);
      if (Number.isFinite(closedAt)) metrics.watcherLastLedgerTime.set({ account }, closedAt / 1000);
      // One series per account: the previous token's is dropped.
      const previous = cursors.get(account);
      if (previous !== undefined) metrics.watcherCursor.remove({ account, paging_token: previous });
      cursors.set(account, record.paging_token);
      metrics.watcherCursor.set({ account, paging_token: record.paging_token }, 1);
    },
    onReconnect(account: string, info: Pick<ReconnectInfo, 'cause'>) {
      metrics.watcherReconnects.inc({ account, cause: info.cause });
    },
  };
}

/** What the Stellar RPC source reports of an account whose cursor fell out of RPC's window. */
export interface RetentionGapReport {
  account: string;
  cursorLedger: number;
  oldestLedger: number;
  catchUp: 'horizon' | 'none';
}

/**
 * `mooring_watcher_retention_gap_ledgers{account,catch_up}`: how many ledgers an account's cursor lies
 * before RPC's oldest (read at scrape time; absent when there is no gap). `catch_up="none"` is an alert:
 * nothing can fill it until an operator acts.
 */
export function addRetentionGapGauge(
  metrics: MooringMetrics,
  gaps: () => readonly RetentionGapReport[],
): void {
  new Gauge({
    name: 'mooring_watcher_retention_gap_ledgers',
    help: "Ledgers between an account's stored cursor and Stellar RPC's oldest retained ledger",
    labelNames: ['account', 'catch_up'] as const,
    registers: [metrics.registry],
    collect() {
      this.reset();
      for (const gap of gaps()) {
        this.set({ account: gap.account, catch_up: gap.catchUp }, gap.oldestLedger - gap.cursorLedger);
      }
    },
  });
}
