/**
 * Background work touches only due work: on PostgreSQL with 100,000 transactions (and their events and
 * outbox rows, test/bench/periodic-queries.ts's workload), the plan of every statement the relays, the
 * workers and the machine viewer issue reads none of the growing tables sequentially. The statements are
 * caught from the real functions as they run, so a query rewritten into a full scan fails here.
 */
import type { Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/db/database.ts';
import { runExecuteOutgoingPass, runExpirePass, runPollOutgoingPass } from '../../../src/workers/index.ts';
import {
  capturePeriodicQueries,
  explain,
  GROWING_TABLES,
  PERIODIC_OPERATIONS,
  planNodes,
  seedWorkload,
  type PeriodicQuery,
} from '../../bench/periodic-queries.ts';
import { testDatabases, type OpenTestDatabase } from '../../helpers/database.ts';

// PostgreSQL only (its planner is what production runs); testDatabases() fails on CI without it.
const postgres = testDatabases().find((database) => database.name === 'postgres');
const TRANSACTIONS = 100_000;

describe.skipIf(postgres === undefined)('periodic query plans on postgres', () => {
  let t: OpenTestDatabase;
  let client: pg.Client;
  let queries: PeriodicQuery[];

  beforeAll(async () => {
    t = await postgres!.open();
    await seedWorkload(t.db, { transactions: TRANSACTIONS, eventsPerTransaction: 1 });
    queries = await capturePeriodicQueries(t.db);
    client = new pg.Client({ connectionString: t.url });
    await client.connect();
  }, 180_000);
  afterAll(async () => {
    await client?.end();
    await t?.close();
  });

  it.each(Object.keys(PERIODIC_OPERATIONS))('%s scans no growing table', async (operation) => {
    const issued = queries.filter((query) => query.operation === operation);
    expect(issued.length).toBeGreaterThan(0);
    for (const query of issued) {
      const scans = planNodes(await explain(client, query))
        .filter((node) => node['Node Type'] === 'Seq Scan')
        .map((node) => node['Relation Name']);
      const whole = scans.filter((table) => GROWING_TABLES.some((growing) => growing === table));
      expect(whole, `${operation} #${query.index}: ${query.sql}`).toEqual([]);
    }
  });

  it('pages through all the due work: each pass finds as many rows as are due', async () => {
    const db: Kysely<Database> = t.db;
    const count = async (where: string) => {
      const { rows } = await client.query<{ n: string }>(
        `select count(*) as n from transactions where ${where}`,
      );
      return Number(rows[0]!.n);
    };
    const bus = { publishMany: async () => {} };
    const rails = {
      executeOutgoingTransaction: () => Promise.reject(new Error('not called')),
      pollOutgoingTransactions: async () => [],
    };

    expect((await runExecuteOutgoingPass({ db, bus })).due).toBe(
      await count(`status = 'pending_receiver' and state_value = '{"pending_receiver":"ready"}'`),
    );
    expect((await runPollOutgoingPass({ db, bus, rails })).polled).toBe(
      await count(`status = 'pending_external'`),
    );
    const now = new Date();
    const expirable = await count(
      `expires_at <= '${now.toISOString()}' and (status = 'pending_sender' ` +
        `or (status = 'pending_receiver' and state_value = '{"pending_receiver":"preparing"}') ` +
        `or (status = 'error' and stellar_operation_id is null))`,
    );
    // More than a page, so the keyset's later pages are exercised (and caught above).
    expect(expirable).toBeGreaterThan(100);
    expect((await runExpirePass({ db, bus, clock: () => now })).due).toBe(expirable);
  });
});
