/**
 * Figure 3: a payment on Horizon's live stream → the rails asked to pay it out, as an operator would see
 * it with every role of `mooring serve` running and the DEFAULT worker intervals (execute-outgoing every
 * 10 s, poll-outgoing every 60 s).
 *
 * The payout relay (role execute-outgoing) wakes on the actors' `outbox.execute_payout` signal, its 10 s
 * interval is the safety net. The transactions name the environment's ACCEPTED sender and receiver, so
 * the actor that credits one reads both customers and asks for its payout in the same commit; the rails
 * are the reference rails, which book every payout in `reference_rails_payouts`.
 *
 * Set-up (untimed): the transactions, created through the bus (`waiting.ts`); the watcher on the SSE
 * stream; the outbox quiet. Then, one at a time, a payment is appended to the fake Horizon (which pushes
 * it down the open stream) and timed until a poll (every 2 ms, one statement) sees the rails' row for its
 * transaction; the same poll notes when the watcher's cursor reached the payment and when the credit was
 * committed. The first `warmup` payments are not counted.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/index.ts';
import type { BenchEnvironment } from './environments.ts';
import { waitForQuietOutbox, type Quieted } from './outbox-quiet.ts';
import { median, pause, percentile } from './stats.ts';
import { benchAsset, createWaiting, paymentFor } from './waiting.ts';

export interface LatencySettings {
  samples: number;
  /** Payments sent first and not counted (JIT, pools, caches: a running server is warm). */
  warmup: number;
  /** Give up on a payment after this long. */
  timeoutMs: number;
}

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

export interface LatencyResult {
  samples: number;
  /** Append → the rails' row exists (the payout call has reached the rails). */
  toRails: Percentiles;
  /** Append → the credit is committed (the transaction holds the operation id). */
  toCredited: Percentiles;
  /** Append → the watcher's cursor is at the payment (the bus held the credit: NATS stored it, in-process applied it). */
  toCursor: Percentiles;
  /** The fake's own cost of building, signing and appending one payment (inside the figures above). */
  appendMedianMs: number;
  setupSeconds: number;
  /** The outbox before the first payment (what the set-up and the figures before left). */
  setupQuiet: Quieted;
  /** The machine's 1-minute load average when the last payment reached the rails. */
  load1: number;
}

export async function benchPayoutLatency(
  env: BenchEnvironment,
  settings: LatencySettings,
): Promise<LatencyResult> {
  const setupStarted = performance.now();
  const run = await env.start('payout latency');
  try {
    const { waiting } = await createWaiting(
      run.db,
      run.mooring.bus,
      env,
      settings.warmup + settings.samples,
      settings.timeoutMs,
    );
    const account = benchAsset(env.config).distributionAccount;
    await until(
      () => env.horizon.openStreams().some((s) => s.url.includes(account)),
      30_000,
      'the watcher on the SSE stream',
    );
    const setupQuiet = await waitForQuietOutbox(run.db);
    const setupSeconds = (performance.now() - setupStarted) / 1000;

    const toRails: number[] = [];
    const toCredited: number[] = [];
    const toCursor: number[] = [];
    const appended: number[] = [];
    for (const [index, tx] of waiting.entries()) {
      const t0 = performance.now();
      const built = env.horizon.pay(paymentFor(env.config, tx));
      const appendMs = performance.now() - t0;
      const token = built.operations[0]!.paging_token;
      let credited: number | null = null;
      let cursor: number | null = null;
      for (;;) {
        const seen = await poll(run.db, tx.id, account);
        const now = performance.now() - t0;
        if (seen.credited) credited ??= now;
        if (seen.cursor === token) cursor ??= now;
        if (seen.railsCalled) {
          if (index >= settings.warmup) {
            toRails.push(now);
            toCredited.push(credited ?? now);
            toCursor.push(cursor ?? now);
            appended.push(appendMs);
          }
          break;
        }
        if (now > settings.timeoutMs) {
          throw new Error(
            `payment for ${tx.id} not at the rails after ${settings.timeoutMs} ms (credited: ${credited !== null})`,
          );
        }
        await pause(2);
      }
    }
    return {
      samples: toRails.length,
      toRails: percentiles(toRails),
      toCredited: percentiles(toCredited),
      toCursor: percentiles(toCursor),
      appendMedianMs: median(appended),
      setupSeconds,
      setupQuiet,
      load1: loadavg()[0] ?? 0,
    };
  } finally {
    await run.stop();
  }
}

/** One statement: the watcher's cursor; is the credit committed; has the payout reached the rails? */
async function poll(
  db: Kysely<Database>,
  id: string,
  account: string,
): Promise<{ cursor: string | null; credited: boolean; railsCalled: boolean }> {
  const row = await db
    .selectFrom('transactions as t')
    .select((eb) => [
      't.stellar_operation_id',
      eb
        .exists(
          eb
            .selectFrom('reference_rails_payouts as r')
            .select('r.idempotency_key')
            .whereRef('r.transaction_id', '=', 't.id'),
        )
        .as('rails_called'),
      eb.selectFrom('horizon_cursors as c').select('c.cursor').where('c.account', '=', account).as('cursor'),
    ])
    .where('t.id', '=', id)
    .executeTakeFirst();
  // The credit commits before the payout is asked for; the row is always there (created in the set-up).
  return {
    cursor: row?.cursor ?? null,
    credited: row?.stellar_operation_id != null,
    railsCalled: row?.rails_called === true,
  };
}

function percentiles(samples: readonly number[]): Percentiles {
  return { p50: median(samples), p99: percentile(samples, 99), max: percentile(samples, 100) };
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await pause(5);
  }
}
