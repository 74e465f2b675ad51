import type { Kysely } from 'kysely';
import type { EventBus } from '../bus/index.ts';
import type { Database } from '../db/database.ts';

/** Structural subset of a pino logger. */
export interface WorkerLog {
  debug?(obj: object, msg?: string): void;
  info?(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What every worker pass needs: the read model to find due work, and the bus to send events on. */
export interface PassDeps {
  db: Kysely<Database>;
  /** The sink: events go to the transactions' actors (which refuse what their state no longer takes). */
  bus: Pick<EventBus, 'publishMany'>;
  /** Default: the real clock. Read once per pass. */
  clock?: () => Date;
  /** Rows read per query; a pass pages through all due work. Default 100. */
  batchSize?: number;
  log?: WorkerLog;
}

export const DEFAULT_BATCH_SIZE = 100;

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
