/**
 * Support for the end-to-end tests that run Mooring's roles as separate OS processes against one real
 * PostgreSQL database, NATS and the fake Horizon of the test process.
 *
 * - `postgresForTests` / `natsUrlForTests`: the real services, or `undefined` locally (the suites skip);
 *   on CI both helpers throw when unset, so these tests never skip silently there.
 * - `startWorld()`: a fresh database, a fake Horizon, a config file in a temp folder and a group of
 *   `mooring` processes that `close()` always kills (SIGKILL for whatever is still running), so no test
 *   leaves orphans, even when it fails.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Asset, Memo, Networks, type Keypair } from '@stellar/stellar-sdk';
import type { Kysely } from 'kysely';
import type { TransactionInput } from '../../machines/index.ts';
import { createTransactionHost, type TransactionHost } from '../../src/actors/transaction-host.ts';
import type { ConfigFile } from '../../src/config/index.ts';
import type { Database } from '../../src/db/index.ts';
import { startFakeHorizon, type FakeHorizon } from '../fakes/fake-horizon.ts';
import { startFakeStellarRpc, type FakeStellarRpc } from '../fakes/fake-stellar-rpc.ts';
import type { BuiltTransaction } from '../fakes/horizon-records.ts';
import { KEYS, testConfigFile } from '../helpers/app.ts';
import { testDatabases, type TestDatabase } from '../helpers/database.ts';
import { deleteDeploymentStreams, uniqueTestName } from '../helpers/nats.ts';
import { startMooringProcess, type RunningProcess } from '../helpers/process.ts';

export { natsUrlForTests } from '../helpers/nats.ts';

/** The PostgreSQL entry of `testDatabases()`, or undefined locally without DATABASE_URL (throws on CI). */
export function postgresForTests(): TestDatabase | undefined {
  return testDatabases().find((database) => database.name === 'postgres');
}

export const USDC = (): Asset => new Asset('USDC', KEYS.issuer.publicKey());

/** Polls `check` until it returns something other than undefined/false, or throws after the deadline. */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; everyMs?: number; diagnostics?: () => string | Promise<string> } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      const detail = options.diagnostics ? `\n${await options.diagnostics()}` : '';
      throw new Error(`timed out waiting for ${what}${detail}`);
    }
    await pause(options.everyMs ?? 100);
  }
}

export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A named `mooring` child process of a world. */
export interface WorldProcess extends RunningProcess {
  name: string;
  /** Its environment's MOORING_DATA_DIR. */
  dataDir: string;
}

export interface World {
  dir: string;
  horizon: FakeHorizon;
  /** With `rpc`: the fake Stellar RPC the processes watch payments through. */
  rpc: FakeStellarRpc | undefined;
  db: Kysely<Database>;
  /** Connection string of the world's fresh database. */
  databaseUrl: string;
  configPath: string;
  /** The world's own NATS namespace (`NATS_PREFIX` of its processes), so worlds never share a stream. */
  natsPrefix: string;
  host: TransactionHost;
  /**
   * Starts `mooring <args>` with this world's DATABASE_URL, MOORING_CONFIG, NATS_URL and NATS_PREFIX (if any), 1 s worker
   * intervals and a data folder of its own (`<dir>/data-<name>`), plus `env`.
   */
  start(name: string, args: string[], env?: Record<string, string>): Promise<WorldProcess>;
  /** Every process started, oldest first (stopped ones too). */
  readonly processes: readonly WorldProcess[];
  /** Kills every process still running (SIGKILL), closes Horizon, drops the database, removes the folder. */
  close(): Promise<void>;
}

export interface WorldOptions {
  database: TestDatabase;
  natsUrl?: string;
  /** Merged over `testConfigFile()` (jwtSecret removed: sandbox mode; local callbacks allowed). */
  config?: Partial<ConfigFile>;
  /** A sandbox.json to put in every process's data folder before it starts (shared JWT secret). */
  sandboxJson?: () => string | undefined;
  /**
   * Watch payments through a fake Stellar RPC (`stellar.source: 'rpc'`), fed by `pay`; `catchUpFromHorizon`
   * also sets `stellar.horizonUrl` (the fake Horizon), for cursors older than RPC's retention.
   */
  rpc?: { catchUpFromHorizon?: boolean };
}

export async function startWorld(options: WorldOptions): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), 'mooring-e2e-'));
  const opened = await options.database.open();
  const processes: WorldProcess[] = [];
  const natsPrefix = uniqueTestName('e2e');
  let horizon: FakeHorizon | undefined;
  let rpc: FakeStellarRpc | undefined;
  const close = async () => {
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    if (options.natsUrl !== undefined) {
      await deleteDeploymentStreams(options.natsUrl, natsPrefix).catch(() => undefined);
    }
    await horizon?.close();
    await rpc?.close();
    await opened.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    if (!opened.url) throw new Error('startWorld needs a PostgreSQL database (one with a url)');
    horizon = await startFakeHorizon();
    horizon.addAccount(KEYS.acme.publicKey());
    horizon.addAccount(KEYS.distribution.publicKey());
    if (options.rpc) {
      rpc = await startFakeStellarRpc({
        networkPassphrase: Networks.TESTNET,
        latestLedger: horizon.latestLedger,
      });
    }
    const { jwtSecret: _sandbox, ...file } = testConfigFile({
      horizonUrl: horizon.url,
      callbacks: { allowLoopback: true },
      ...(rpc && {
        stellar: {
          source: 'rpc' as const,
          rpcUrl: rpc.url,
          rpcPollIntervalSeconds: 0.2,
          ...(options.rpc?.catchUpFromHorizon && { horizonUrl: horizon.url }),
        },
      }),
      ...options.config,
    });
    const configPath = join(dir, 'mooring.json');
    await writeFile(configPath, JSON.stringify(file));
    const databaseUrl = opened.url;
    const world: World = {
      dir,
      horizon,
      rpc,
      db: opened.db,
      databaseUrl,
      configPath,
      natsPrefix,
      host: createTransactionHost({ db: opened.db }),
      processes,
      async start(name, args, env = {}) {
        const dataDir = join(dir, `data-${name}`);
        await mkdir(dataDir, { recursive: true, mode: 0o700 });
        const sandbox = options.sandboxJson?.();
        if (sandbox !== undefined) await writeFile(join(dataDir, 'sandbox.json'), sandbox, { mode: 0o600 });
        const running = startMooringProcess(args, {
          DATABASE_URL: databaseUrl,
          MOORING_CONFIG: configPath,
          MOORING_DATA_DIR: dataDir,
          EXECUTE_OUTGOING_INTERVAL: '1',
          POLL_OUTGOING_INTERVAL: '1',
          ...(options.natsUrl !== undefined && { NATS_URL: options.natsUrl, NATS_PREFIX: natsPrefix }),
          ...env,
        });
        const process_: WorldProcess = { ...running, name, dataDir };
        processes.push(process_);
        return process_;
      },
      close,
    };
    return world;
  } catch (error) {
    await close();
    throw error;
  }
}

/** A transaction created directly through the actor host, waiting for its payment (pending_sender). */
export interface AwaitingTransaction {
  id: string;
  /** The hash memo, hex (what a sending anchor puts in `Memo.hash`). */
  memoHex: string;
  amountIn: string;
}

/**
 * Creates `n` transactions in `pending_sender` with an assigned account and a hash memo each, expiring in
 * `expiresInMs` (default a day).
 */
export async function createAwaitingTransactions(
  host: TransactionHost,
  n: number,
  options: { expiresInMs?: number } = {},
): Promise<AwaitingTransaction[]> {
  const issuer = KEYS.issuer.publicKey();
  const asset = `stellar:USDC:${issuer}`;
  const now = Date.now();
  const created: AwaitingTransaction[] = [];
  for (let i = 0; i < n; i++) {
    const memo = randomBytes(32);
    const input: TransactionInput = {
      id: randomUUID(),
      sendingAnchor: KEYS.acme.publicKey(),
      startedAt: new Date(now).toISOString(),
      assetCode: 'USDC',
      assetIssuer: issuer,
      amountInAsset: asset,
      amountIn: '100',
      amountOutAsset: asset,
      amountOut: '98.5',
      feeDetails: { total: '1.5', asset },
      fundingMethod: 'SEPA',
      quoteId: null,
      senderId: null,
      receiverId: null,
      refundMemo: null,
      refundMemoType: null,
      expiresAt: new Date(now + (options.expiresInMs ?? 24 * 3600_000)).toISOString(),
      fields: {},
    };
    await host.create(input, {
      eventId: `create-${input.id}`,
      then: [
        {
          type: 'ACCOUNT_ASSIGNED',
          at: new Date(now).toISOString(),
          stellarAccountId: KEYS.distribution.publicKey(),
          stellarMemoType: 'hash',
          stellarMemo: memo.toString('base64'),
        },
      ],
    });
    created.push({ id: input.id, memoHex: memo.toString('hex'), amountIn: input.amountIn });
  }
  return created;
}

/**
 * Pays `transaction` on the fake Horizon as its sending anchor would; given a fake RPC too, the same signed
 * transaction's transfer event appears there.
 */
export function pay(
  horizon: FakeHorizon,
  transaction: AwaitingTransaction,
  from: Keypair = KEYS.acme,
  rpc?: FakeStellarRpc,
) {
  const built = horizon.appendPayment({
    from,
    destination: KEYS.distribution.publicKey(),
    asset: USDC(),
    amount: transaction.amountIn,
    memo: Memo.hash(transaction.memoHex),
  });
  rpc?.addTransaction(built);
  return built;
}

/** The paging token of a one-payment transaction's payment operation. */
export function pagingTokenOf(built: BuiltTransaction): string {
  return built.operations[0]!.paging_token;
}

/** How many of `ids` have `status`. */
export async function countWithStatus(db: Kysely<Database>, ids: readonly string[], status: string) {
  if (ids.length === 0) return 0;
  const row = await db
    .selectFrom('transactions')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('id', 'in', [...ids])
    .where('status', '=', status as never)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Per transaction, how many events of `eventType` it has. */
export async function eventCounts(db: Kysely<Database>, eventType: string): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('transaction_events')
    .select(['transaction_id', (eb) => eb.fn.countAll<string>().as('count')])
    .where('event_type', '=', eventType)
    .groupBy('transaction_id')
    .execute();
  return new Map(rows.map((row) => [row.transaction_id, Number(row.count)]));
}

/** The last lines of each process's output, for a failure message. */
export function outputs(processes: readonly WorldProcess[], lines = 15): string {
  return processes
    .map(
      (p) =>
        `--- ${p.name} (pid ${p.child.pid}, exit ${p.child.exitCode ?? p.child.signalCode}) ---\n${p.output().split('\n').slice(-lines).join('\n')}`,
    )
    .join('\n');
}

/** Rails bookings (the reference rails' payouts) per transaction: a payout made twice shows as two. */
export async function railsBookings(db: Kysely<Database>) {
  const rows = await db
    .selectFrom('reference_rails_payouts')
    .select(['transaction_id', 'idempotency_key'])
    .execute();
  const byTransaction = new Map<string, string[]>();
  for (const row of rows) {
    byTransaction.set(row.transaction_id, [
      ...(byTransaction.get(row.transaction_id) ?? []),
      row.idempotency_key,
    ]);
  }
  return { count: rows.length, byTransaction };
}
