/**
 * Background work at scale: each periodic query the relays, the workers and the machine viewer issue, timed
 * on 1,000,000 transactions (issue 10's target: each under 10 ms). `node test/bench/periodic-queries.ts`
 * (PostgreSQL from DATABASE_URL; BENCH_TRANSACTIONS and BENCH_RUNS make smaller or longer runs).
 *
 * How the rows are created: in a fresh throwaway database `mooring_bench_<hex>` on DATABASE_URL's server,
 * migrated, by a few set-based `INSERT … SELECT … FROM generate_series` statements (no row goes through the
 * app): `transactions` in fixed proportions by `i % 10000` (BUCKETS: 95.5 % completed, the rest spread over
 * every other state, with a share of each due state due now), each row carrying the machine's real
 * persisted snapshot (~1.1 kB) and its read-model columns; three `transaction_events` per transaction; two
 * `status_changed` outbox rows per transaction (the first done, the second mostly done, some due, backing
 * off, in flight or failed; a few due ones held back behind them) and live `execute_payout`,
 * `actor_message` and `customer_status_changed` rows. The per-state counts are rebuilt from the rows, then
 * ANALYZE.
 *
 * Each query is the SQL its real function issues (relay passes, worker passes, the viewer's reads), caught
 * by a kysely plugin while the function runs once inside a transaction that is rolled back. Each is then
 * run `runs` times (writes between BEGIN and ROLLBACK): median and max, and the buffers of one
 * EXPLAIN (ANALYZE, BUFFERS). `test/integration/db/query-plans.test.ts` checks the same queries' plans.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  PostgresQueryCompiler,
  sql,
  type CompiledQuery,
  type Kysely,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryId,
  type QueryResult,
  type RootOperationNode,
  type Transaction,
  type UnknownRow,
} from 'kysely';
import pg from 'pg';
import { persist, startTransaction } from '../../machines/index.ts';
import { openDatabase } from '../../src/db/connect.ts';
import type { Database } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { recountStates } from '../../src/db/transaction-state-counts.repository.ts';
import { DEFAULT_MESSAGE_RELAY_SETTINGS } from '../../src/effects/actor-messages.ts';
import { DEFAULT_RELAY_SETTINGS } from '../../src/effects/index.ts';
import { startOutboxRelay, type EffectHandler, type OutboxRelayOptions } from '../../src/effects/relay.ts';
import type { RailsIntegration } from '../../src/integrations/rails-integration.ts';
import { TRANSITIONS_PER_POLL } from '../../src/viewer/live.ts';
import { readCounts, readRecentTransitions, readTransitionsSince } from '../../src/viewer/read-model.ts';
import {
  DEFAULT_PAYOUT_RELAY_SETTINGS,
  runExecuteOutgoingPass,
  runExpirePass,
  runPollOutgoingPass,
} from '../../src/workers/index.ts';
import { transactionInput } from '../fixtures/transactions.ts';
import { describeMachine, machineLine } from './machine.ts';
import { fixed, median } from './stats.ts';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** The tables that grow with the business: no periodic query may read one of them whole. */
export const GROWING_TABLES = ['transactions', 'outbox', 'transaction_events'] as const;

export interface WorkloadSize {
  transactions: number;
  eventsPerTransaction: number;
}

/**
 * Transactions per 10,000 by state (`i % 10000` in [lo, hi)). `due`: how many of the bucket are past their
 * deadline (candidates for expiry); `unfunded`: how many of the bucket (its first) have no payment.
 */
const BUCKETS = [
  { lo: 0, hi: 100, status: 'pending_sender', value: 'pending_sender', due: 10, unfunded: 100 },
  {
    lo: 100,
    hi: 110,
    status: 'pending_receiver',
    value: { pending_receiver: 'preparing' },
    due: 1,
    unfunded: 10,
  },
  { lo: 110, hi: 140, status: 'pending_receiver', value: { pending_receiver: 'ready' } },
  { lo: 140, hi: 150, status: 'pending_receiver', value: { pending_receiver: 'paying_out' } },
  { lo: 150, hi: 200, status: 'pending_external', value: 'pending_external' },
  { lo: 200, hi: 220, status: 'pending_customer_info_update', value: 'pending_customer_info_update' },
  { lo: 220, hi: 225, status: 'pending_transaction_info_update', value: 'pending_transaction_info_update' },
  { lo: 225, hi: 230, status: 'pending_stellar', value: 'pending_stellar' },
  { lo: 230, hi: 240, status: 'error', value: 'error', due: 1, unfunded: 5 },
  { lo: 240, hi: 290, status: 'refunded', value: 'refunded' },
  { lo: 290, hi: 450, status: 'expired', value: 'expired', unfunded: 160 },
  { lo: 450, hi: 10_000, status: 'completed', value: 'completed' },
] as const;

/**
 * Fills an empty, migrated database: `size.transactions` transactions in BUCKETS' proportions, their
 * events and outbox rows, the per-state counts; then ANALYZE. Set-based: a handful of statements.
 */
export async function seedWorkload(db: Kysely<Database>, size: WorkloadSize): Promise<void> {
  await db.transaction().execute((trx) => insertWorkload(trx, size));
  await recountStates(db);
  await sql`analyze`.execute(db);
}

async function insertWorkload(db: Transaction<Database>, size: WorkloadSize): Promise<void> {
  // The rows are consistent by construction: a superuser skips the per-row foreign-key checks (half the
  // time).
  await sql`select set_config('session_replication_role', 'replica', true)
    where current_setting('is_superuser') = 'on'`.execute(db);
  const input = transactionInput({ id: 'template' });
  const template = JSON.stringify(persist(startTransaction(input).snapshot));
  const buckets = sql.join(
    BUCKETS.map(
      (b) =>
        sql`(${b.lo}::int, ${b.hi}::int, ${b.status}::text, ${JSON.stringify(b.value)}::jsonb, ${
          'due' in b ? b.due : null
        }::int, ${'unfunded' in b ? b.unfunded : 0}::int)`,
    ),
  );
  await sql`
    insert into transactions (
      id, sending_anchor, status, state_value, version, snapshot, asset_code, asset_issuer, amount_in,
      amount_in_asset, amount_out, amount_out_asset, amount_fee, amount_fee_asset, fee_details,
      funding_method, stellar_account_id, stellar_memo_type, stellar_memo, stellar_operation_id,
      expires_at, started_at, updated_at, completed_at)
    select t.id, ${input.sendingAnchor}, b.status, b.value, 3,
      jsonb_set(jsonb_set(${template}::jsonb, '{value}', b.value), '{context,id}', to_jsonb(t.id)),
      ${input.assetCode}, ${input.assetIssuer}, ${input.amountIn}::numeric, ${input.amountInAsset},
      ${input.amountOut}::numeric, ${input.amountOutAsset}, ${input.feeDetails.total}::numeric,
      ${input.feeDetails.asset}, ${JSON.stringify(input.feeDetails)}::jsonb, ${input.fundingMethod},
      'GDISTRIBUTION', 'id', i::text,
      case when i % 10000 - b.lo >= b.unfunded then 'op-' || i end,
      case
        when b.due is null then now() - interval '20 days'
        when i % 10000 - b.lo < b.due then now() - interval '1 hour'
        else now() + interval '2 days'
      end - (i % 86400) * interval '1 second',
      now() - interval '30 days', now() - interval '1 day',
      case when b.status in ('completed', 'refunded', 'expired') then now() - interval '1 day' end
    from generate_series(1, ${size.transactions}::int) as i
    cross join lateral (select md5('tx' || i)::uuid::text as id) as t
    join (values ${buckets}) as b(lo, hi, status, value, due, unfunded)
      on i % 10000 >= b.lo and i % 10000 < b.hi`.execute(db);

  await sql`
    insert into transaction_events (
      transaction_id, seq, event_id, event_type, payload, status_before, status_after, state_after,
      created_at)
    select t.id, k, t.id || ':' || k, e.type, jsonb_build_object('type', e.type, 'at', now()),
      case when k > 1 then t.status end, t.status, t.state_value, t.updated_at
    from transactions as t
    cross join generate_series(1, ${size.eventsPerTransaction}::int) as k
    cross join lateral (
      select (array['CREATED', 'ACCOUNT_ASSIGNED', 'PAYMENT_RECEIVED', 'PAYOUT_REQUESTED',
        'PAYOUT_COMPLETED'])[1 + (k - 1) % 5] as type) as e`.execute(db);

  // status_changed #1 done; #2 by i % 10000: due, backing off, in flight (a live or a lost lease), failed
  // or done; #3 due but held back behind a #2 that backs off. Then the other kinds' live rows.
  await sql`
    insert into outbox (
      transaction_id, seq, kind, payload, idempotency_key, state, attempts, next_attempt_at, claimed_by,
      claim_expires_at, last_error, created_at, completed_at)
    select t.id, o.k, o.kind,
      jsonb_build_object('status', tx.status, 'transaction', tx.snapshot -> 'context'),
      t.id || ':' || o.k || ':' || o.kind, o.state, o.attempts, now() + o.next_in, o.claimed_by,
      now() + o.lease_in, o.last_error, tx.started_at, case when o.state = 'done' then tx.updated_at end
    from generate_series(1, ${size.transactions}::int) as i
    cross join lateral (select md5('tx' || i)::uuid::text as id, i % 10000 as b) as t
    join transactions as tx on tx.id = t.id
    cross join lateral (values
      (1, 'status_changed', 'done', 1, interval '-1 day', null, null, null),
      (2, 'status_changed',
        case when t.b < 40 then 'pending' when t.b < 46 then 'in_flight'
          when t.b < 56 then 'failed' else 'done' end,
        case when t.b < 20 then 0 else 3 end,
        case when t.b < 20 then interval '-1 minute' when t.b < 40 then interval '10 minutes'
          else interval '-1 hour' end,
        case when t.b between 40 and 45 then 'relay-bench' end,
        case when t.b between 40 and 43 then interval '1 minute' when t.b between 44 and 45
          then interval '-1 minute' end,
        case when t.b between 20 and 39 or t.b between 46 and 55 then 'callback answered 503' end),
      (3, 'status_changed', 'pending', 0, interval '-1 minute', null, null, null),
      (4, 'execute_payout',
        case when t.b < 145 then 'in_flight' when t.b < 148 then 'pending' else 'done' end,
        1, interval '-1 minute', 'payouts-bench', interval '2 minutes', null),
      (5, 'actor_message', case when t.b < 202 then 'pending' else 'done' end, 1, interval '-1 minute',
        null, null, null)
    ) as o(k, kind, state, attempts, next_in, claimed_by, lease_in, last_error)
    where o.k <= 2 or (o.k = 3 and t.b between 20 and 24) or (o.k = 4 and t.b between 140 and 149)
      or (o.k = 5 and t.b between 200 and 219)
    order by i, o.k`.execute(db);
  await sql`
    insert into outbox (transaction_id, kind, payload, idempotency_key, state, next_attempt_at, completed_at)
    select null, 'customer_status_changed', jsonb_build_object('customer', i),
      'customer:' || i, case when i % 100 = 0 then 'pending' else 'done' end, now() - interval '1 minute',
      case when i % 100 <> 0 then now() end
    from generate_series(1, ${Math.ceil(size.transactions / 100)}::int) as i`.execute(db);
}

/** One statement as a periodic function issued it. */
export interface PeriodicQuery {
  /** The function, e.g. `execute-outgoing pass`. */
  operation: string;
  /** Which of the function's statements (1 = its first), e.g. the first page and a later one. */
  index: number;
  sql: string;
  parameters: readonly unknown[];
}

/** What a periodic function does once, on the database it is given. */
type Operation = (db: Kysely<Database>) => Promise<unknown>;

const quiet = { warn() {}, error() {} };
type RelaySettings = Pick<
  OutboxRelayOptions,
  'intervalMs' | 'batchSize' | 'leaseMs' | 'handlerTimeoutMs' | 'maxAttempts'
>;
const done: EffectHandler = async () => {};

/** A relay as `src/main.ts` starts it (its settings, its kinds), for one round. */
function relayPass(kinds: readonly string[], settings: RelaySettings): Operation {
  return (db) =>
    startOutboxRelay({
      db,
      handlers: Object.fromEntries(kinds.map((kind) => [kind, done])),
      workerId: 'bench',
      ...settings,
      maxRoundsPerPass: 1,
      autoStart: false,
      log: quiet,
    }).runOnce();
}

const noBus = { publishMany: async () => {} };
const railsAnswerNothingYet: RailsIntegration = {
  executeOutgoingTransaction: () => Promise.reject(new Error('not in this benchmark')),
  pollOutgoingTransactions: async () => [],
};

/** Every periodic function, by the name the plan test and the table use. */
export const PERIODIC_OPERATIONS: Readonly<Record<string, Operation>> = {
  'callback relay claim': relayPass(['status_changed', 'customer_status_changed'], DEFAULT_RELAY_SETTINGS),
  'payout relay claim': relayPass(['execute_payout'], DEFAULT_PAYOUT_RELAY_SETTINGS),
  'message relay claim': relayPass(['actor_message'], DEFAULT_MESSAGE_RELAY_SETTINGS),
  'execute-outgoing pass': (db) => runExecuteOutgoingPass({ db, bus: noBus }),
  'poll-outgoing pass': (db) => runPollOutgoingPass({ db, bus: noBus, rails: railsAnswerNothingYet }),
  'expire pass': (db) => runExpirePass({ db, bus: noBus }),
  'viewer counts': (db) => readCounts(db),
  'viewer live transitions': async (db) => {
    const { latestEventId } = await readCounts(db);
    return readTransitionsSince(db, String(BigInt(latestEventId) - 20n), TRANSITIONS_PER_POLL);
  },
  'viewer recent transitions': (db) => readRecentTransitions(db, 100),
};

/** Records each statement the database it is attached to executes (it changes nothing). */
class Recorder implements KyselyPlugin {
  readonly executed: CompiledQuery[] = [];
  readonly #compiler = new PostgresQueryCompiler();
  // Subqueries pass through here too, when built; only what comes back with a result was executed.
  readonly #compiled = new WeakMap<QueryId, CompiledQuery>();

  transformQuery({ node, queryId }: PluginTransformQueryArgs): RootOperationNode {
    this.#compiled.set(queryId, this.#compiler.compileQuery(node, queryId));
    return node;
  }

  transformResult({ result, queryId }: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const query = this.#compiled.get(queryId);
    if (query !== undefined) this.executed.push(query);
    return Promise.resolve(result);
  }
}

class RolledBack extends Error {}

/**
 * Runs each periodic function once, inside a transaction that is rolled back (the database is left as it
 * was), and returns the statements it issued: per function its first and its last use of each distinct
 * statement (e.g. a keyset's first and last page).
 */
export async function capturePeriodicQueries(db: Kysely<Database>): Promise<PeriodicQuery[]> {
  const captured: PeriodicQuery[] = [];
  for (const [operation, run] of Object.entries(PERIODIC_OPERATIONS)) {
    const recorder = new Recorder();
    await db
      .withPlugin(recorder)
      .transaction()
      .execute(async (trx) => {
        await run(trx);
        throw new RolledBack();
      })
      .catch((error: unknown) => {
        if (!(error instanceof RolledBack)) throw error;
      });
    const all = recorder.executed.map((query, i) => ({
      operation,
      index: i + 1,
      sql: query.sql,
      parameters: query.parameters,
    }));
    const kept = all.filter((query) => {
      const same = all.filter((other) => other.sql === query.sql);
      return query === same[0] || query === same.at(-1);
    });
    captured.push(...kept);
  }
  return captured;
}

export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  'Actual Rows'?: number;
  Plans?: PlanNode[];
}

/** Every node of a plan, depth first. */
export function planNodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(planNodes)];
}

/** `Index Scan using transactions_pkey on transactions`, for each node that reads a table or an index. */
export function describeScans(plan: PlanNode): string[] {
  return planNodes(plan)
    .filter((node) => node['Relation Name'] !== undefined || node['Index Name'] !== undefined)
    .map((node) => {
      const index = node['Index Name'] === undefined ? '' : ` using ${node['Index Name']}`;
      const table = node['Relation Name'] === undefined ? '' : ` on ${node['Relation Name']}`;
      return `${node['Node Type']}${index}${table}`;
    });
}

/** Whether a statement changes rows (then it is measured between BEGIN and ROLLBACK). */
export function writes(query: Pick<PeriodicQuery, 'sql'>): boolean {
  return /^\s*(insert|update|delete)\b/i.test(query.sql) || /\bfor update\b/i.test(query.sql);
}

/** The plan PostgreSQL chooses for a statement, with its parameters bound as the app binds them. */
export async function explain(
  client: pg.ClientBase,
  query: Pick<PeriodicQuery, 'sql' | 'parameters'>,
  options = 'format json',
): Promise<PlanNode> {
  const result = await client.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(
    `explain (${options}) ${query.sql}`,
    [...query.parameters],
  );
  return result.rows[0]!['QUERY PLAN'][0]!.Plan;
}

export interface PeriodicQueryTiming {
  name: string;
  medianMs: number;
  maxMs: number;
  /** Shared buffers the statement touched (hit + read), from EXPLAIN (ANALYZE, BUFFERS). */
  buffers: number;
  rows: number;
  scans: string[];
}

/** Runs `query` `runs` times (writes rolled back) and once under EXPLAIN (ANALYZE, BUFFERS). */
async function timeQuery(client: pg.ClientBase, query: PeriodicQuery, runs: number) {
  const rolledBack = async <T>(work: () => Promise<T>): Promise<T> => {
    if (!writes(query)) return work();
    await client.query('begin');
    try {
      return await work();
    } finally {
      await client.query('rollback');
    }
  };
  const samples: number[] = [];
  for (let run = 0; run < runs; run++) {
    samples.push(
      await rolledBack(async () => {
        const started = performance.now();
        await client.query(query.sql, [...query.parameters]);
        return performance.now() - started;
      }),
    );
  }
  const plan = await rolledBack(() => explain(client, query, 'analyze, buffers, format json'));
  return {
    medianMs: median(samples),
    maxMs: Math.max(...samples),
    buffers: (plan['Shared Hit Blocks'] ?? 0) + (plan['Shared Read Blocks'] ?? 0),
    rows: plan['Actual Rows'] ?? 0,
    scans: describeScans(plan),
  };
}

export interface PeriodicBenchSettings {
  /** A PostgreSQL server; the benchmark creates its own database there and drops it afterwards. */
  url: string;
  transactions?: number;
  runs?: number;
  log?: (line: string) => void;
}

export interface PeriodicBenchResult {
  transactions: number;
  seedSeconds: number;
  timings: PeriodicQueryTiming[];
}

/** Seeds a throwaway database on `url` and times every periodic query there. */
export async function benchPeriodicQueries(settings: PeriodicBenchSettings): Promise<PeriodicBenchResult> {
  const { url, transactions = 1_000_000, runs = 7, log = () => {} } = settings;
  const name = `mooring_bench_${randomBytes(6).toString('hex')}`;
  await admin(url, `create database ${name}`);
  const target = new URL(url);
  target.pathname = `/${name}`;
  const handle = await openDatabase({ url: target.href });
  try {
    if (handle.kind !== 'postgres') throw new Error('expected PostgreSQL');
    await migrateToLatest(handle.db);
    log(`seeding ${transactions.toLocaleString('en')} transactions into ${name}…`);
    const started = performance.now();
    await seedWorkload(handle.db, { transactions, eventsPerTransaction: 3 });
    const seedSeconds = (performance.now() - started) / 1000;
    log(`seeded in ${fixed(seedSeconds)} s; timing…`);
    const queries = await capturePeriodicQueries(handle.db);
    const client = await handle.pool.connect();
    const timings: PeriodicQueryTiming[] = [];
    try {
      for (const query of queries) {
        timings.push({
          name: `${query.operation} #${query.index}`,
          ...(await timeQuery(client, query, runs)),
        });
      }
    } finally {
      client.release();
    }
    return { transactions, seedSeconds, timings };
  } finally {
    await handle.close();
    await admin(url, `drop database if exists ${name} with (force)`);
  }
}

async function admin(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** The result as a table: one line per statement. */
export function periodicTable(result: PeriodicBenchResult): string {
  const header = ['query', 'median ms', 'max ms', 'buffers', 'rows', 'plan'];
  const lines = result.timings.map((t) => [
    t.name,
    fixed(t.medianMs, 2),
    fixed(t.maxMs, 2),
    String(t.buffers),
    String(t.rows),
    [...new Set(t.scans)].join('; '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => line[i]!.length)));
  const row = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ');
  return [row(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...lines.map(row)].join('\n');
}

if (import.meta.main) {
  const count = (name: string, fallback: number) => {
    const value = Number(process.env[name]);
    return Number.isInteger(value) && value > 0 ? value : fallback;
  };
  const result = await benchPeriodicQueries({
    url: process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
    transactions: count('BENCH_TRANSACTIONS', 1_000_000),
    runs: count('BENCH_RUNS', 7),
    log: (line) => console.log(line),
  });
  console.log(`\n${machineLine(describeMachine())}`);
  console.log(
    `${result.transactions.toLocaleString('en')} transactions (seeded in ${fixed(result.seedSeconds)} s), ` +
      'each query timed as its function issues it:\n',
  );
  console.log(periodicTable(result));
}
