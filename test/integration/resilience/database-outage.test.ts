/**
 * A database that fails for a while (PGlite's disk full, or PostgreSQL's, through a kysely plugin that
 * throws on every query) must not stop the loops: the actor host, an interval worker and an outbox relay
 * each report the outage once, retry, and carry on by themselves when the database works again.
 */
import type { KyselyPlugin } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startActorHost, type ActorHost } from '../../../src/actors/actor-host.ts';
import { transactionEventMessage } from '../../../src/actors/messages.ts';
import { createTransactionHost } from '../../../src/actors/transaction-host.ts';
import { createInProcessBus, silentLogger, type EventBus } from '../../../src/bus/index.ts';
import { findTransaction } from '../../../src/db/transactions.repository.ts';
import { actorMessageHandler, startOutboxRelay, type OutboxRelay } from '../../../src/effects/index.ts';
import { startWorker, type RunningWorker } from '../../../src/workers/index.ts';
import { accountAssigned, payment, transactionInput } from '../../fixtures/transactions.ts';
import { eventually } from '../../helpers/app.ts';
import { testDatabases, type OpenTestDatabase } from '../../helpers/database.ts';

/** Every query fails while `failing` is set, as a full disk fails them. */
function failingDatabase() {
  const state = { failing: false, thrown: 0 };
  const plugin: KyselyPlugin = {
    transformQuery(args) {
      if (state.failing) {
        state.thrown += 1;
        throw Object.assign(new Error('could not extend file "base/5/16384": No space left on device'), {
          code: '53100',
        });
      }
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  return { state, plugin };
}

function captureLog() {
  const entries: { level: string; msg: string }[] = [];
  const at = (level: string) => (_obj: object, msg?: string) => void entries.push({ level, msg: msg ?? '' });
  return { log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, entries };
}

describe.each(testDatabases())('loops through a database outage on $name', (database) => {
  let opened: OpenTestDatabase | undefined;
  let bus: EventBus | undefined;
  let actors: ActorHost | undefined;
  let worker: RunningWorker | undefined;
  let relay: OutboxRelay | undefined;
  // In a hook: a fresh PGlite takes a while on a busy machine.
  beforeEach(async () => {
    opened = await database.open();
  });
  afterEach(async () => {
    await worker?.stop();
    await relay?.stop();
    await actors?.stop();
    await bus?.close();
    await opened?.close();
  });

  it('logs the outage once per loop, retries, and resumes by itself', { timeout: 60_000 }, async () => {
    const fixtures = createTransactionHost({ db: opened!.db });
    const flaky = failingDatabase();
    const db = opened!.db.withPlugin(flaky.plugin);
    const { log, entries } = captureLog();
    bus = createInProcessBus({ partitions: 2, logger: silentLogger });

    // Created while the database works: one to expire, one to be paid.
    const overdue = transactionInput({ expiresAt: new Date(Date.now() - 1000).toISOString() });
    const toPay = transactionInput({ expiresAt: null });
    for (const input of [overdue, toPay]) {
      await fixtures.create(input, { eventId: `create-${input.id}`, then: [accountAssigned()] });
    }

    flaky.state.failing = true;
    actors = startActorHost({
      db,
      bus,
      transactions: { payoutCustomerTypes: [], sep12: { types: {} } },
      log,
      retry: { initialMs: 10, maxMs: 50 },
    });
    worker = startWorker('expire', { db, bus, intervalMs: 20, log });
    relay = startOutboxRelay({
      db,
      handlers: { actor_message: actorMessageHandler(bus) },
      workerId: 'outage-test',
      intervalMs: 20,
      batchSize: 10,
      leaseMs: 10_000,
      maxAttempts: 5,
      log,
    });
    // The payment arrives during the outage: the actor host cannot commit it yet.
    const paying = bus.publish(
      transactionEventMessage(toPay.id, `pay-${toPay.id}`, {
        type: 'PAYMENT_RECEIVED',
        at: new Date().toISOString(),
        payment: payment(),
      }),
    );
    paying.catch(() => undefined); // awaited below; a failed test closes the bus under it
    await eventually('every loop to have failed a few times', () => {
      const failed = new Set(entries.filter((e) => e.level === 'warn').map((e) => e.msg.split(':')[0]));
      return flaky.state.thrown >= 20 && ['actor host', 'expire', 'outbox relay'].every((l) => failed.has(l));
    });

    flaky.state.failing = false;
    await paying;
    await eventually('the overdue transaction expired', async () => {
      return (await findTransaction(opened!.db, overdue.id))?.status === 'expired';
    });
    await eventually('the payment applied', async () => {
      return (await findTransaction(opened!.db, toPay.id))?.status === 'pending_receiver';
    });

    // One warning per loop for the whole outage, no error, and one line when each is back.
    expect(entries.filter((e) => e.level === 'error')).toEqual([]);
    const warnings = entries.filter((e) => e.level === 'warn').map((e) => e.msg.split(':')[0]);
    expect(warnings.sort()).toEqual(['actor host', 'expire', 'outbox relay']);
    await eventually('each loop to say it recovered', () =>
      ['actor host', 'expire', 'outbox relay'].every((loop) =>
        entries.some((e) => e.level === 'info' && e.msg === `${loop}: recovered`),
      ),
    );
  });
});
