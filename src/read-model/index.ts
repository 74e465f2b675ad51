/**
 * What the HTTP layer is given instead of the database: the read model's queries, and the two small
 * stores HTTP keeps itself (SEP-10 challenges exchanged, SEP-12 uploads staged before their command).
 * Every change to a transaction or a customer goes to its actor instead.
 */
import { sql, type Kysely } from 'kysely';
import type { Config } from '../config/index.ts';
import type { Database } from '../db/database.ts';
import { challengeStore, type ChallengeStore } from '../sep10/challenges.ts';
import { createUploadStore, type UploadStore } from '../storage/uploads.ts';
import { viewerQueries, type ViewerQueries } from '../viewer/read-model.ts';
import { customerQueries, type CustomerQueries } from './customers.ts';
import { operatorQueries, type OperatorQueries } from './operator.ts';
import { quoteQueries, type QuoteQueries } from './quotes.ts';
import { transactionQueries, type TransactionQueries } from './transactions.ts';

export interface HttpPorts {
  /** Reads of the transactions' read model. */
  queries: TransactionQueries;
  /** Reads of the customers' read model. */
  customerQueries: CustomerQueries;
  /** Reads of the firm SEP-38 quotes. */
  quoteQueries: QuoteQueries;
  /** Reads behind the machine viewer. */
  viewerQueries: ViewerQueries;
  /** Reads behind the operator API (every sending anchor's transactions, unmatched payments). */
  operatorQueries: OperatorQueries;
  /** The operator's refunds of unmatched payments: those payments belong to no actor, so they are read and queued here. */
  operatorDb: Kysely<Database>;
  challenges: ChallengeStore;
  uploads: UploadStore;
  /** Resolves while the database answers (for `/ready`). */
  databaseReady(): Promise<void>;
}

export function httpPorts(
  db: Kysely<Database>,
  config: Pick<Config, 'sep12'>,
  options: { clock?: () => Date } = {},
): HttpPorts {
  const clock = options.clock ? { clock: options.clock } : {};
  return {
    queries: transactionQueries(db),
    customerQueries: customerQueries(db, { sep12: config.sep12, ...clock }),
    quoteQueries: quoteQueries(db),
    viewerQueries: viewerQueries(db),
    operatorQueries: operatorQueries(db),
    operatorDb: db,
    challenges: challengeStore(db),
    uploads: createUploadStore(db, clock),
    databaseReady: async () => void (await sql`select 1`.execute(db)),
  };
}
