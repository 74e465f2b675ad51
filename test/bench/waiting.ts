/**
 * Set-up shared by the watcher figures (never timed in them): transactions waiting in `pending_sender`
 * for their payments, and those payments.
 *
 * The transactions are made as POST /sep31/transactions makes them (the same input, naming the
 * environment's ACCEPTED sender and receiver, ACCOUNT_ASSIGNED with the asset's receiving account and a
 * fresh 32-byte hash memo), but without HTTP: their `create`
 * messages are published to the actors through the running Mooring's bus with `publishMany`, 1,000 at a
 * time, and the database is then polled until it holds them all (in-process, `publishMany` resolves once
 * they are committed; with NATS, once JetStream stored them).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Asset, Keypair, Memo } from '@stellar/stellar-sdk';
import { sql, type Kysely } from 'kysely';
import type { TransactionInput } from '../../machines/index.ts';
import { createTransactionMessage } from '../../src/actors/messages.ts';
import type { EventBus } from '../../src/bus/index.ts';
import type { AssetConfig, Config } from '../../src/config/index.ts';
import type { Database } from '../../src/db/index.ts';
import type { FakeHorizon } from '../fakes/fake-horizon.ts';
import { KEYS } from '../helpers/app.ts';
import type { BenchCustomers } from './sending-anchor.ts';
import { pause } from './stats.ts';

/** What every waiting transaction expects, and every payment brings. */
export const AMOUNT = '100';
const PUBLISH_CHUNK = 1_000;
/** The sending anchor's account the payments come from. */
const SENDER = Keypair.random();

export interface Waiting {
  id: string;
  memo: Buffer;
}

export interface Created {
  waiting: Waiting[];
  seconds: number;
}

/** The asset the benchmark's transactions are in (the config file's only one). */
export function benchAsset(config: Config): AssetConfig {
  return config.assets[0]!;
}

export async function createWaiting(
  db: Kysely<Database>,
  bus: EventBus,
  env: { config: Config; customers: BenchCustomers },
  count: number,
  stallMs: number,
): Promise<Created> {
  const { config, customers } = env;
  const asset = benchAsset(config);
  const started = performance.now();
  const before = await countTransactions(db);
  const waiting: Waiting[] = [];
  for (let from = 0; from < count; from += PUBLISH_CHUNK) {
    const messages = [];
    for (let i = from; i < Math.min(count, from + PUBLISH_CHUNK); i++) {
      const memo = randomBytes(32);
      const input = transactionInput(asset, config.paymentDeadlineSeconds, customers);
      const assigned = {
        type: 'ACCOUNT_ASSIGNED' as const,
        at: input.startedAt,
        stellarAccountId: asset.distributionAccount,
        stellarMemoType: 'hash' as const,
        stellarMemo: memo.toString('base64'),
      };
      messages.push(createTransactionMessage(input, [assigned], null));
      waiting.push({ id: input.id, memo });
    }
    await bus.publishMany(messages);
  }
  await waitForCount(
    () => countTransactions(db),
    before + count,
    stallMs,
    async () => `refused messages: ${await countRefused(db)}`,
  );
  return { waiting, seconds: (performance.now() - started) / 1000 };
}

/** The payment each waiting transaction expects, as a Stellar transaction from the sending anchor. */
export function paymentFor(config: Config, tx: Waiting) {
  const asset = benchAsset(config);
  return {
    from: SENDER,
    destination: asset.distributionAccount,
    asset: new Asset(asset.code, asset.issuer),
    amount: AMOUNT,
    memo: Memo.hash(tx.memo.toString('hex')),
  };
}

/** Appends the payments of `waiting` to the fake Horizon, 100 per ledger. */
export function seedPayments(
  horizon: FakeHorizon,
  config: Config,
  waiting: readonly Waiting[],
): { seconds: number; lastPagingToken: string } {
  const started = performance.now();
  const asset = benchAsset(config);
  const built = horizon.seedPayments(asset.distributionAccount, waiting.length, {
    from: SENDER,
    asset: new Asset(asset.code, asset.issuer),
    amount: () => AMOUNT,
    memo: (i) => Memo.hash(waiting[i]!.memo.toString('hex')),
  });
  const lastPagingToken = built.at(-1)!.operations[0]!.paging_token;
  return { seconds: (performance.now() - started) / 1000, lastPagingToken };
}

/** Credited transactions on the receiving account (the payment's operation id is stored with the credit). */
export async function countCredited(db: Kysely<Database>, account: string): Promise<number> {
  const { n } = await db
    .selectFrom('transactions')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('stellar_account_id', '=', account)
    .where('stellar_operation_id', 'is not', null)
    .executeTakeFirstOrThrow();
  return Number(n);
}

/** Statistics for the planner after a bulk load, as autovacuum would gather them soon after. */
export async function analyze(db: Kysely<Database>): Promise<void> {
  await sql`analyze`.execute(db);
}

/**
 * Polls `count()` until it reaches `expected`; throws when it has not moved for `stallMs`, with what
 * `explain()` says.
 */
export async function waitForCount(
  count: () => Promise<number>,
  expected: number,
  stallMs: number,
  explain: () => Promise<string>,
  everyMs = 20,
): Promise<void> {
  let last = -1;
  let lastChange = performance.now();
  for (;;) {
    const now = await count();
    if (now >= expected) return;
    if (now !== last) {
      last = now;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > stallMs) {
      throw new Error(`stalled at ${now}/${expected} for ${stallMs / 1000} s; ${await explain()}`);
    }
    await pause(everyMs);
  }
}

function transactionInput(
  asset: AssetConfig,
  deadlineSeconds: number,
  customers: BenchCustomers,
): TransactionInput {
  const at = new Date();
  const assetId = `stellar:${asset.code}:${asset.issuer}`;
  return {
    id: randomUUID(),
    sendingAnchor: KEYS.acme.publicKey(),
    startedAt: at.toISOString(),
    assetCode: asset.code,
    assetIssuer: asset.issuer,
    amountInAsset: assetId,
    amountIn: AMOUNT,
    amountOutAsset: assetId,
    amountOut: '98.5',
    feeDetails: { total: '1.5', asset: assetId },
    fundingMethod: 'SEPA',
    quoteId: null,
    senderId: customers.senderId,
    receiverId: customers.receiverId,
    refundMemo: null,
    refundMemoType: null,
    expiresAt: new Date(at.getTime() + deadlineSeconds * 1000).toISOString(),
    fields: {},
  };
}

async function countTransactions(db: Kysely<Database>): Promise<number> {
  const { n } = await db
    .selectFrom('transactions')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(n);
}

async function countRefused(db: Kysely<Database>): Promise<number> {
  const { n } = await db
    .selectFrom('refused_messages')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(n);
}
