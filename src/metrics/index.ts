// Public surface of src/metrics/: Prometheus metrics of one process.
export { createMetrics } from './registry.ts';
export { addDatabaseGauges } from './database.ts';
export { addRetentionGapGauge, recordCommit, watcherMetrics } from './hooks.ts';
export { instrumentRails } from './rails.ts';

export type { MooringMetrics } from './registry.ts';
export type { CommittedBatch } from './hooks.ts';
