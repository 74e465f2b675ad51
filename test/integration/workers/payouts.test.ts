/**
 * Payouts as they run now: a funded transaction's actor requests its payout itself (PAYOUT_REQUESTED,
 * an `execute_payout` row), the payout relay calls the rails with the row's idempotency key and publishes
 * their answer on the bus (`<key>:result`), the poller publishes what the rails say later (`<key>:poll`),
 * and execute-outgoing is the safety net that reminds funded transactions of their customers. Each test
 * reads the ledger once the bus delivered (the in-process bus resolves a publish after the actor committed).
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { Subject } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startActorHost } from '../../../src/actors/actor-host.ts';
import {
  customerAddress,
  customersChangedMessage,
  transactionEventMessage,
} from '../../../src/actors/messages.ts';
import { createNatsBus, silentLogger, type EventBus } from '../../../src/bus/index.ts';
import { claimDue, openDatabase, type Database } from '../../../src/db/index.ts';
import { findTransaction } from '../../../src/db/transactions.repository.ts';
import type { OutboxRelay } from '../../../src/effects/index.ts';
import type { RailsIntegration } from '../../../src/integrations/rails-integration.ts';
import { createReferenceRails, type ReferenceRails } from '../../../src/integrations/reference/rails.ts';
import {
  payoutRequestEventId,
  payoutResultEventId,
  pollEventId,
  runExecuteOutgoingPass,
  runPollOutgoingPass,
  startPayoutRelay,
  startWorker,
  toRailsTransaction,
  type ExecutePayoutPayload,
  type PayoutRelayOptions,
} from '../../../src/workers/index.ts';
import { payment } from '../../fixtures/transactions.ts';
import { testDatabases, type TestDatabase } from '../../helpers/database.ts';
import { natsUrlForTests } from '../../helpers/nats.ts';
import {
  CUSTOMER_TYPES,
  TEST_PAYOUT_RELAY,
  TEST_SEP12,
  awaitingPayment,
  captureLog,
  customer,
  eventIds,
  eventTypes,
  funded,
  openWorkerWorld,
  paymentEventId,
  payoutRows,
  quietLog,
  refusals,
  setCustomerStatus,
  waitUntil,
  type WorkerWorld,
} from './support.ts';

/** Counts the calls that reach the rails, and can "crash" the caller right after one returned. */
function spied(rails: RailsIntegration) {
  let calls = 0;
  let crashesLeft = 0;
  const keys: string[] = [];
  const wrapped: RailsIntegration = {
    async executeOutgoingTransaction(transaction, options) {
      calls++;
      keys.push(options.idempotencyKey);
      const result = await rails.executeOutgoingTransaction(transaction, options);
      if (crashesLeft > 0) {
        crashesLeft--;
        throw new Error('process died after the rails answered');
      }
      return result;
    },
    pollOutgoingTransactions: (transactions, options) =>
      rails.pollOutgoingTransactions(transactions, options),
  };
  return {
    rails: wrapped,
    calls: () => calls,
    keys,
    crashAfterNextCall() {
      crashesLeft = 1;
    },
  };
}

/** The operator halts a transaction (an ERROR event through the bus, as the operator's tools send it). */
function halt(bus: EventBus, transactionId: string, at: Date) {
  return bus.publish(
    transactionEventMessage(transactionId, `operator-halt:${transactionId}`, {
      type: 'ERROR',
      at: at.toISOString(),
      message: 'held by compliance',
    }),
  );
}

const payoutEvents = async (db: Kysely<Database>, id: string) =>
  (await eventTypes(db, id)).filter((type) => type.startsWith('PAYOUT_'));

describe.each(testDatabases())('payouts on $name', (database) => {
  let world: WorkerWorld;
  let db: Kysely<Database>;
  let bus: EventBus;
  let now: Date;
  const clock = () => now;
  const advance = (ms: number) => (now = new Date(now.getTime() + ms));
  const relays: OutboxRelay[] = [];

  beforeEach(async () => {
    world = await openWorkerWorld(database);
    ({ db, bus } = world);
    // Outbox rows are due at the database's now(); the workers' clock runs a little ahead of it.
    now = new Date(Math.ceil((Date.now() + 60_000) / 1000) * 1000);
  });
  afterEach(async () => {
    for (const relay of relays.splice(0)) await relay.stop();
    await world.close();
  });

  const bank = (options: { payoutDelaySeconds?: number; failureRate?: number } = {}): ReferenceRails =>
    createReferenceRails({
      db,
      payoutDelaySeconds: options.payoutDelaySeconds ?? 0,
      failureRate: options.failureRate ?? 0,
      clock,
      random: () => 0.5,
    });

  function payoutRelay(rails: RailsIntegration, overrides: Partial<PayoutRelayOptions> = {}) {
    const relay = startPayoutRelay({
      db,
      bus,
      rails,
      ...TEST_PAYOUT_RELAY,
      clock,
      log: captureLog().log,
      ...overrides,
    });
    relays.push(relay);
    return relay;
  }

  const execute = () => runExecuteOutgoingPass({ db, bus, clock });
  const poll = (rails: RailsIntegration) => runPollOutgoingPass({ db, bus, clock, rails });
  const row = async (id: string) => (await findTransaction(db, id))!;

  it('a funded transaction whose customers are ACCEPTED requests its payout itself; with delay 0 it completes', async () => {
    const { input } = await funded(world);
    const rails = bank();

    // No worker ran: the actor asked for the payout in the commit that took the payment.
    expect(await row(input.id)).toMatchObject({
      status: 'pending_receiver',
      state_value: { pending_receiver: 'paying_out' },
    });
    expect(await eventIds(db, input.id)).toEqual([
      `create-${input.id}`,
      `create-${input.id}:1`,
      paymentEventId(input.id),
      payoutRequestEventId(input.id, 0),
    ]);
    const [effect] = await payoutRows(db, input.id);
    expect(effect).toMatchObject({ state: 'pending', idempotency_key: `${input.id}:payout:1` });
    expect(effect!.payload).toMatchObject({ kind: 'execute_payout', attempt: 1 });

    expect(await payoutRelay(rails).runOnce()).toBe(1);

    const done = await row(input.id);
    const [payout] = await rails.payouts(input.id);
    expect(done).toMatchObject({
      status: 'completed',
      external_transaction_id: payout!.externalTransactionId,
    });
    expect(done.completed_at?.toISOString()).toBe(now.toISOString());
    expect(payout).toMatchObject({
      amount: '98.5000000',
      receiverId: input.receiverId,
      fundingMethod: 'SEPA',
    });
    expect(await rails.payoutCount(input.id)).toBe(1);
    expect((await payoutRows(db, input.id))[0]).toMatchObject({ state: 'done', attempts: 1 });
    expect(await eventTypes(db, input.id)).toEqual([
      'CREATED',
      'ACCOUNT_ASSIGNED',
      'PAYMENT_RECEIVED',
      'PAYOUT_REQUESTED',
      'PAYOUT_COMPLETED',
    ]);
    expect((await eventIds(db, input.id)).at(-1)).toBe(payoutResultEventId(`${input.id}:payout:1`));
  });

  it('with a delay: pending_external, then completed by a poll once the delay has passed', async () => {
    const { input } = await funded(world);
    const rails = bank({ payoutDelaySeconds: 120 });
    await payoutRelay(rails).runOnce();

    const [payout] = await rails.payouts(input.id);
    expect(await row(input.id)).toMatchObject({
      status: 'pending_external',
      external_transaction_id: payout!.externalTransactionId,
      completed_at: null,
    });

    advance(119_000);
    expect(await poll(rails)).toMatchObject({ polled: 1, pending: 1, completed: 0 });
    expect((await row(input.id)).status).toBe('pending_external');

    advance(1_000);
    expect(await poll(rails)).toMatchObject({ polled: 1, pending: 0, completed: 1 });
    const done = await row(input.id);
    expect(done).toMatchObject({
      status: 'completed',
      external_transaction_id: payout!.externalTransactionId,
    });
    expect(done.completed_at?.toISOString()).toBe(now.toISOString());
    expect((await eventIds(db, input.id)).at(-1)).toBe(pollEventId(input.id, 1));
    expect(await poll(rails)).toMatchObject({ polled: 0 });
    expect(await rails.payoutCount(input.id)).toBe(1);
  });

  it('a payout the bank refuses puts the transaction in error, with the message', async () => {
    const { input } = await funded(world);
    await payoutRelay(bank({ failureRate: 1 })).runOnce();
    expect(await row(input.id)).toMatchObject({
      status: 'error',
      status_message: 'the simulated bank refused the payout',
      completed_at: null,
    });
    expect(await payoutEvents(db, input.id)).toEqual(['PAYOUT_REQUESTED', 'PAYOUT_FAILED']);
  });

  it('a delayed payout that fails is reported failed by the poll', async () => {
    const { input } = await funded(world);
    const rails = bank({ payoutDelaySeconds: 10, failureRate: 1 });
    await payoutRelay(rails).runOnce();
    expect((await row(input.id)).status).toBe('pending_external');
    advance(10_000);
    expect(await poll(rails)).toMatchObject({ failed: 1 });
    expect(await row(input.id)).toMatchObject({
      status: 'error',
      status_message: 'the simulated bank refused the payout',
    });
  });

  it('customer_info_needed from the rails: pending_customer_info_update, and the fields it names are asked for', async () => {
    const { input, receiver } = await funded(world);
    const rails: RailsIntegration = {
      executeOutgoingTransaction: async () => ({
        status: 'customer_info_needed',
        message: 'the bank does not know this account number',
        fields: ['bank_account_number'],
      }),
      pollOutgoingTransactions: async () => [],
    };
    await payoutRelay(rails).runOnce();

    expect(await row(input.id)).toMatchObject({
      status: 'pending_customer_info_update',
      required_info_message: 'the bank does not know this account number',
    });
    // The fields were recorded for the round, which the receiver's actor applies (told through the
    // outbox): exactly those fields are REJECTED with the rails' message, not the whole type's.
    const { seq } = await db
      .selectFrom('transaction_events')
      .select('seq')
      .where('transaction_id', '=', input.id)
      .where('event_type', '=', 'CUSTOMER_INFO_NEEDED')
      .executeTakeFirstOrThrow();
    await waitUntil('the receiver to apply the round', async () => {
      const link = await db
        .selectFrom('customer_transactions')
        .select('applied_seq')
        .where('transaction_id', '=', input.id)
        .where('type', '=', 'sep31-receiver')
        .executeTakeFirst();
      return link?.applied_seq === seq;
    });
    const { statuses } = await db
      .selectFrom('customers')
      .select('statuses')
      .where('id', '=', receiver!.id)
      .executeTakeFirstOrThrow();
    expect(statuses['sep31-receiver']).toMatchObject({
      value: 'NEEDS_INFO',
      context: { rejected: { bank_account_number: 'the bank does not know this account number' } },
    });
    expect(Object.keys(statuses['sep31-receiver']!.context.rejected)).toEqual(['bank_account_number']);
    // The event names the customer type and the fields, so GET /customer?transaction_id= knows whom to
    // ask for what.
    const [event] = await db
      .selectFrom('transaction_events')
      .select(['event_id', 'payload'])
      .where('transaction_id', '=', input.id)
      .where('event_type', '=', 'CUSTOMER_INFO_NEEDED')
      .execute();
    expect(event).toMatchObject({
      event_id: payoutResultEventId(`${input.id}:payout:1`),
      payload: { customerType: 'sep31-receiver', fields: ['bank_account_number'] },
    });
  });

  it('a transaction whose customers are not all ACCEPTED (or not its anchor’s, or missing) is not paid out', async () => {
    const pending = await funded(world, { receiver: 'PROCESSING' });
    const rejected = await funded(world, { sender: 'REJECTED' });
    const foreign = await funded(world, {
      receiverAccount: 'GDQOE23CFSUMSVQK4Y5JHPPYK73VYCNHZHA7ENKCV37P6SUEO6XQBKPP',
    });
    const missing = await funded(world, { noReceiver: true });
    const all = [pending, rejected, foreign, missing];

    // Nor by the safety net: reminded of their customers, they keep waiting.
    expect(await execute()).toEqual({ due: 4 });
    for (const { input } of all) {
      expect(await row(input.id)).toMatchObject({
        status: 'pending_receiver',
        state_value: { pending_receiver: 'ready' },
      });
      expect(await payoutRows(db, input.id)).toEqual([]);
      expect(await payoutEvents(db, input.id)).toEqual([]);
      expect(await refusals(db, input.id)).toEqual([]);
    }
  });

  it('funded first, customer ACCEPTED later: the customer’s notice requests the payout, once, without the worker', async () => {
    const { input, receiver } = await funded(world, { receiver: 'PROCESSING' });
    expect((await row(input.id)).state_value).toEqual({ pending_receiver: 'ready' });
    expect(await payoutRows(db, input.id)).toEqual([]);

    await setCustomerStatus(db, receiver!.id, 'sep31-receiver', 'ACCEPTED');
    // What the customer actor sends the transactions waiting on it; twice, as two changes would.
    await bus.publishMany([
      customersChangedMessage(input.id, now, randomUUID()),
      customersChangedMessage(input.id, now, randomUUID()),
    ]);

    expect((await row(input.id)).state_value).toEqual({ pending_receiver: 'paying_out' });
    expect(await payoutEvents(db, input.id)).toEqual(['PAYOUT_REQUESTED']);
    expect((await eventIds(db, input.id)).at(-1)).toBe(payoutRequestEventId(input.id, 0));
    expect(await payoutRows(db, input.id)).toMatchObject([
      { state: 'pending', idempotency_key: `${input.id}:payout:1` },
    ]);
  });

  it('funded first, then the customer actor takes a verdict: it tells the transaction, which requests the payout', async () => {
    const { input, receiver } = await funded(world, { receiver: 'PROCESSING' });
    expect(await payoutRows(db, input.id)).toEqual([]);

    // A verdict given later (a manual review), for the customer's actor.
    await bus.publish({
      id: `verdict-${randomUUID()}`,
      to: customerAddress(receiver!.account, receiver!.memo),
      body: {
        type: 'status_event',
        customerId: receiver!.id,
        customerType: 'sep31-receiver',
        event: { type: 'FIELDS_VERIFIED', at: now.toISOString(), fields: ['first_name'] },
      },
    });

    await waitUntil('the payout to be requested', async () => (await payoutRows(db, input.id)).length === 1);
    expect((await row(input.id)).state_value).toEqual({ pending_receiver: 'paying_out' });
    expect(await payoutEvents(db, input.id)).toEqual(['PAYOUT_REQUESTED']);
  });

  it('the safety net: a funded transaction whose customers became ACCEPTED unannounced is paid out on the next execute-outgoing pass', async () => {
    // The receiver is accepted behind the actors' backs: no notice reaches the transaction.
    const late = await funded(world, { receiver: 'PROCESSING' });
    await setCustomerStatus(db, late.receiver!.id, 'sep31-receiver', 'ACCEPTED');
    // Funded around the actor host: its actor never looked at its (ACCEPTED) customers.
    const unseen = await funded(world, { via: 'direct' });
    for (const { input } of [late, unseen]) {
      expect((await row(input.id)).state_value).toEqual({ pending_receiver: 'ready' });
      expect(await payoutRows(db, input.id)).toEqual([]);
    }

    expect(await execute()).toEqual({ due: 2 });

    for (const { input } of [late, unseen]) {
      expect((await row(input.id)).state_value).toEqual({ pending_receiver: 'paying_out' });
      expect(await payoutEvents(db, input.id)).toEqual(['PAYOUT_REQUESTED']);
      expect(await payoutRows(db, input.id)).toMatchObject([
        { state: 'pending', idempotency_key: `${input.id}:payout:1` },
      ]);
    }
    // Nothing is due any more, and nothing was requested twice.
    expect(await execute()).toEqual({ due: 0 });
    expect(await payoutEvents(db, late.input.id)).toEqual(['PAYOUT_REQUESTED']);
  });

  it('a crash after the rails paid but before the result was published: redone with the same key, one payout', async () => {
    const { input } = await funded(world);
    const reference = bank();
    const spy = spied(reference);
    const relay = payoutRelay(spy.rails);

    spy.crashAfterNextCall();
    await relay.runOnce();
    expect(await reference.payoutCount(input.id)).toBe(1); // the money moved...
    expect(await row(input.id)).toMatchObject({
      status: 'pending_receiver',
      state_value: { pending_receiver: 'paying_out' },
    });
    const [effect] = await payoutRows(db, input.id);
    expect(effect).toMatchObject({ state: 'pending', last_error: 'process died after the rails answered' });

    advance(5_000); // the relay's backoff
    expect(await relay.runOnce()).toBe(1);

    expect(spy.calls()).toBe(2);
    expect(spy.keys).toEqual([`${input.id}:payout:1`, `${input.id}:payout:1`]);
    expect(await reference.payoutCount(input.id)).toBe(1); // ...once
    expect((await row(input.id)).status).toBe('completed');
    expect(await payoutEvents(db, input.id)).toEqual(['PAYOUT_REQUESTED', 'PAYOUT_COMPLETED']);
  });

  it('a relay that dies mid-flight: the lease expires, a restarted process pays nothing twice', async () => {
    const { input } = await funded(world);
    const first = bank({ payoutDelaySeconds: 30 });

    // The dying process claims the row and reaches the rails, then stops before anything is recorded.
    const [claimed] = await claimDue(db, {
      workerId: 'payouts-dead',
      limit: 10,
      leaseMs: 60_000,
      now,
      kinds: ['execute_payout'],
    });
    const payload = claimed!.payload as ExecutePayoutPayload;
    const answered = await first.executeOutgoingTransaction(
      toRailsTransaction(payload.transaction.status, payload.transaction.context),
      { idempotencyKey: payload.idempotencyKey },
    );
    expect(answered.status).toBe('pending_external');

    // A new process: new rails instance (same payout book), new relay.
    const restarted = spied(bank({ payoutDelaySeconds: 30 }));
    const relay = payoutRelay(restarted.rails, { workerId: 'payouts-b' });
    expect(await relay.runOnce()).toBe(0); // the lease still holds
    expect(restarted.calls()).toBe(0);

    advance(60_000);
    expect(await relay.runOnce()).toBe(1);
    expect(restarted.keys).toEqual([payload.idempotencyKey]);
    expect(await row(input.id)).toMatchObject({
      status: 'pending_external',
      external_transaction_id: answered.status === 'pending_external' ? answered.externalTransactionId : null,
    });
    expect(await first.payoutCount(input.id)).toBe(1);
    expect(await poll(restarted.rails)).toMatchObject({ completed: 1 });
    expect((await row(input.id)).status).toBe('completed');
    expect(await first.payoutCount(input.id)).toBe(1);
  });

  it('pays nothing for a transaction halted while its payout waited, and says so on the outbox row', async () => {
    const { input } = await funded(world);
    const rails = bank();
    await halt(bus, input.id, now);
    await payoutRelay(rails).runOnce();
    expect(await rails.payoutCount(input.id)).toBe(0);
    expect((await row(input.id)).status).toBe('error');
    const [effect] = await payoutRows(db, input.id);
    expect(effect!.state).toBe('failed');
    expect(effect!.last_error).toMatch(/not executed: .* is error/);
  });

  it('an answer the transaction no longer takes is refused and recorded, not applied (nor paid again)', async () => {
    const { input } = await funded(world);
    const reference = bank();
    // The operator halts the transaction while the rails are paying it out.
    const racing: RailsIntegration = {
      async executeOutgoingTransaction(transaction, options) {
        const answer = await reference.executeOutgoingTransaction(transaction, options);
        await halt(bus, input.id, now);
        return answer;
      },
      pollOutgoingTransactions: (transactions) => reference.pollOutgoingTransactions(transactions),
    };
    expect(await payoutRelay(racing).runOnce()).toBe(1);
    expect(await row(input.id)).toMatchObject({ status: 'error', status_message: 'held by compliance' });
    expect(await refusals(db, input.id)).toMatchObject([
      {
        message_id: payoutResultEventId(`${input.id}:payout:1`),
        kind: 'event:PAYOUT_COMPLETED',
        code: 'rejected',
      },
    ]);
    expect(await payoutEvents(db, input.id)).toEqual(['PAYOUT_REQUESTED']);
    expect(await reference.payoutCount(input.id)).toBe(1);
  });

  it('a redone row whose answer was already recorded is settled without calling the rails again', async () => {
    const { input } = await funded(world);
    const spy = spied(bank());
    await payoutRelay(spy.rails).runOnce();
    expect((await row(input.id)).status).toBe('completed');
    // As if marking the row done had failed: back in flight with an expired lease.
    await db
      .updateTable('outbox')
      .set({ state: 'in_flight', claim_expires_at: new Date(now.getTime() - 1) })
      .where('transaction_id', '=', input.id)
      .where('kind', '=', 'execute_payout')
      .execute();
    expect(await payoutRelay(spy.rails, { workerId: 'payouts-b' }).runOnce()).toBe(1);
    expect(spy.calls()).toBe(1);
    expect((await payoutRows(db, input.id))[0]!.state).toBe('done');
    // And the actor takes the rails' answer once, however often it is sent.
    expect(
      await bus.request(
        transactionEventMessage(input.id, payoutResultEventId(`${input.id}:payout:1`), {
          type: 'PAYOUT_COMPLETED',
          at: now.toISOString(),
        }),
      ),
    ).toMatchObject({ outcome: 'duplicate', status: 'completed' });
    expect(await payoutEvents(db, input.id)).toEqual(['PAYOUT_REQUESTED', 'PAYOUT_COMPLETED']);
  });

  it('an unknown outcome (the rails threw) is retried with the same key, never as a fresh payout', async () => {
    const { input } = await funded(world);
    const reference = bank();
    let down = true;
    const keys: string[] = [];
    const flaky: RailsIntegration = {
      async executeOutgoingTransaction(transaction, options) {
        keys.push(options.idempotencyKey);
        if (down) throw new Error('connection reset');
        return reference.executeOutgoingTransaction(transaction, options);
      },
      pollOutgoingTransactions: (transactions) => reference.pollOutgoingTransactions(transactions),
    };
    const relay = payoutRelay(flaky);
    await relay.runOnce();
    advance(5_000);
    await relay.runOnce();
    expect((await row(input.id)).state_value).toEqual({ pending_receiver: 'paying_out' });
    // Nothing requests a new payout while one is in flight: the safety net finds nothing due, and a
    // customer notice changes nothing.
    expect(await execute()).toEqual({ due: 0 });
    await bus.publish(customersChangedMessage(input.id, now, randomUUID()));
    expect(await payoutEvents(db, input.id)).toEqual(['PAYOUT_REQUESTED']);
    expect(await payoutRows(db, input.id)).toHaveLength(1);

    down = false;
    advance(10_000);
    await relay.runOnce();
    expect(new Set(keys)).toEqual(new Set([`${input.id}:payout:1`]));
    expect(keys).toHaveLength(3);
    expect((await row(input.id)).status).toBe('completed');
    expect(await reference.payoutCount(input.id)).toBe(1);
  });

  it('a poll the rails cannot answer leaves the payout pending (unknown is not failed)', async () => {
    const { input } = await funded(world);
    const reference = bank({ payoutDelaySeconds: 10 });
    await payoutRelay(reference).runOnce();
    advance(10_000);
    const { log, entries } = captureLog();
    const down: RailsIntegration = {
      executeOutgoingTransaction: (transaction, options) =>
        reference.executeOutgoingTransaction(transaction, options),
      pollOutgoingTransactions: () => Promise.reject(new Error('bank API unavailable')),
    };
    expect(await runPollOutgoingPass({ db, bus, clock, rails: down, log })).toMatchObject({
      polled: 0,
      errors: 1,
    });
    expect(entries.map((e) => e.msg)).toEqual(['payout poll failed: bank API unavailable']);
    expect((await row(input.id)).status).toBe('pending_external');
    expect(await payoutEvents(db, input.id)).toEqual(['PAYOUT_REQUESTED', 'PAYOUT_PENDING_EXTERNAL']);
    expect(await poll(reference)).toMatchObject({ completed: 1 });
    expect((await row(input.id)).status).toBe('completed');
  });

  it('a poll answer for a transaction that moved on is refused by its actor and recorded', async () => {
    const { input } = await funded(world);
    const reference = bank({ payoutDelaySeconds: 10 });
    await payoutRelay(reference).runOnce();
    advance(10_000);
    // An operator halts the transaction while the poller waits for the rails' answer.
    const racing: RailsIntegration = {
      executeOutgoingTransaction: (transaction, options) =>
        reference.executeOutgoingTransaction(transaction, options),
      async pollOutgoingTransactions(transactions) {
        await halt(bus, input.id, now);
        return reference.pollOutgoingTransactions(transactions);
      },
    };
    expect(await poll(racing)).toMatchObject({ polled: 1, completed: 1, errors: 0 });
    expect(await row(input.id)).toMatchObject({ status: 'error', status_message: 'held by compliance' });
    expect(await refusals(db, input.id)).toMatchObject([
      { message_id: pollEventId(input.id, 1), kind: 'event:PAYOUT_COMPLETED', code: 'rejected' },
    ]);
    expect(await payoutEvents(db, input.id)).toEqual(['PAYOUT_REQUESTED', 'PAYOUT_PENDING_EXTERNAL']);
  });

  it('poll answers are applied once: two pollers, and the same answer sent again', async () => {
    const { input } = await funded(world);
    const reference = bank({ payoutDelaySeconds: 10 });
    await payoutRelay(reference).runOnce();
    advance(10_000);

    await Promise.all([poll(reference), poll(reference)]);
    expect((await row(input.id)).status).toBe('completed');
    expect(await payoutEvents(db, input.id)).toEqual([
      'PAYOUT_REQUESTED',
      'PAYOUT_PENDING_EXTERNAL',
      'PAYOUT_COMPLETED',
    ]);
    // Beyond the bus's de-duplication (a request is never dropped by it), the actor knows the event id.
    expect(
      await bus.request(
        transactionEventMessage(input.id, pollEventId(input.id, 1), {
          type: 'PAYOUT_COMPLETED',
          at: now.toISOString(),
        }),
      ),
    ).toMatchObject({ outcome: 'duplicate', status: 'completed' });
    expect(await payoutEvents(db, input.id)).toHaveLength(3);
    expect(await refusals(db, input.id)).toEqual([]);
  });
});

describe.each(testDatabases())('the payout relay woken by signals on $name', (database) => {
  let world: WorkerWorld;
  let relay: OutboxRelay | undefined;
  beforeEach(async () => {
    world = await openWorkerWorld(database);
  });
  afterEach(async () => {
    await relay?.stop();
    relay = undefined;
    await world.close();
  });

  it('a signal runs a pass although the interval is long; one arriving during a pass runs one more', async () => {
    const { db, bus } = world;
    const a = await funded(world);
    const b = await funded(world);
    const reference = createReferenceRails({ db, payoutDelaySeconds: 0 });
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // The first payout hangs at the rails until the test lets it go.
    const blocking: RailsIntegration = {
      async executeOutgoingTransaction(transaction, options) {
        if (++calls === 1) await gate;
        return reference.executeOutgoingTransaction(transaction, options);
      },
      pollOutgoingTransactions: (transactions) => reference.pollOutgoingTransactions(transactions),
    };
    // Before `due` both rows are in the relay's future: its first (timer) pass finds nothing.
    let due = false;
    let clockReads = 0;
    const clock = () => {
      clockReads++;
      return new Date(Date.now() + (due ? 60_000 : -3_600_000));
    };
    const wake = new Subject<void>();
    relay = startPayoutRelay({
      db,
      bus,
      rails: blocking,
      workerId: 'payouts-woken',
      intervalMs: 600_000,
      // One row per pass: the second row can only be taken by another pass.
      batchSize: 1,
      maxRoundsPerPass: 1,
      leaseMs: 60_000,
      handlerTimeoutMs: 30_000,
      maxAttempts: 5,
      clock,
      wake,
      log: quietLog,
    });
    await waitUntil('the first pass to start', () => clockReads > 0);
    await relay.runOnce(); // after the first pass, which found nothing
    expect(calls).toBe(0);

    due = true;
    wake.next();
    await waitUntil('a woken pass to reach the rails', () => calls === 1, 5_000);
    wake.next(); // during the pass, which is held at the rails
    release();
    await waitUntil('one more pass to pay the second row', () => calls === 2, 5_000);
    for (const { input } of [a, b]) {
      await waitUntil(
        'the payout to complete',
        async () => (await findTransaction(db, input.id))!.status === 'completed',
      );
      expect(await reference.payoutCount(input.id)).toBe(1);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// Event-driven, end to end: the workers' intervals are 60 s, so only the actor requesting the payout itself
// and the relay woken by the bus can reach the rails before the (generous) deadline.

const natsUrl = natsUrlForTests();
const postgres = testDatabases().find((d) => d.name === 'postgres');
const worlds: { name: string; skip: boolean; database: TestDatabase; natsUrl?: string }[] = [
  { name: 'the in-process bus on PGlite', skip: false, database: testDatabases()[0]! },
  {
    name: 'NATS JetStream on PostgreSQL',
    skip: !postgres || !natsUrl,
    database: postgres ?? testDatabases()[0]!,
    ...(natsUrl && { natsUrl }),
  },
];
const DEADLINE_MS = 5_000;
const LONG_INTERVAL_MS = 60_000;

describe.each(worlds)('event-driven payouts on $name', ({ skip, database, natsUrl: url }) => {
  let world: WorkerWorld | undefined;
  const running: { stop(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const part of running.splice(0).reverse()) await part.stop();
    await world?.close();
    world = undefined;
  });

  /** The payout roles of a process, with 60 s intervals; resolves once each made its first pass. */
  async function startPayoutRoles(w: WorkerWorld) {
    const rails = createReferenceRails({ db: w.db, payoutDelaySeconds: 0 });
    let requested!: () => void;
    let polled!: () => void;
    const firstPasses = [new Promise<void>((r) => (requested = r)), new Promise<void>((r) => (polled = r))];
    const settings = { intervalMs: LONG_INTERVAL_MS, log: quietLog };
    running.push(
      startWorker('execute-outgoing', { db: w.db, bus: w.bus, ...settings, onPass: () => requested() }),
      startWorker('poll-outgoing', { db: w.db, bus: w.bus, rails, ...settings, onPass: () => polled() }),
    );
    const relay = startPayoutRelay({
      db: w.db,
      bus: w.bus,
      rails,
      workerId: 'payouts-event-driven',
      intervalMs: LONG_INTERVAL_MS,
      batchSize: 10,
      leaseMs: 60_000,
      handlerTimeoutMs: 30_000,
      maxAttempts: 5,
      wake: w.bus.signals('outbox.execute_payout'),
      log: quietLog,
    });
    running.push(relay);
    await Promise.all(firstPasses);
    // Let the relay's own first pass (on its timer) be over: this one runs after it.
    await new Promise((resolve) => setTimeout(resolve, 10));
    await relay.runOnce();
    return rails;
  }

  it.skipIf(skip)(
    'a payment for a transaction whose customers are ACCEPTED reaches the rails at once',
    async () => {
      const w = (world = await openWorkerWorld(database, url ? { natsUrl: url } : {}));
      const sender = await customer(w.db, { 'sep31-sender': 'ACCEPTED' });
      const receiver = await customer(w.db, { 'sep31-receiver': 'ACCEPTED' });
      const input = await awaitingPayment(w.host, { senderId: sender.id, receiverId: receiver.id });
      const rails = await startPayoutRoles(w);
      expect(await rails.payoutCount(input.id)).toBe(0);

      await w.bus.publish(
        transactionEventMessage(input.id, paymentEventId(input.id), {
          type: 'PAYMENT_RECEIVED',
          at: new Date().toISOString(),
          payment: payment(),
        }),
      );

      await waitUntil(
        'the rails to pay, and the transaction to complete',
        async () =>
          (await rails.payoutCount(input.id)) === 1 &&
          (await findTransaction(w.db, input.id))!.status === 'completed',
        DEADLINE_MS,
      );
      expect(await payoutEvents(w.db, input.id)).toEqual(['PAYOUT_REQUESTED', 'PAYOUT_COMPLETED']);
      expect(await rails.payouts(input.id)).toMatchObject([{ idempotencyKey: `${input.id}:payout:1` }]);
    },
  );

  it.skipIf(skip)(
    'funded first; the customer actor’s verdict reaches the rails at once, without a worker pass',
    async () => {
      const w = (world = await openWorkerWorld(database, url ? { natsUrl: url } : {}));
      const { input, receiver } = await funded(w, { receiver: 'PROCESSING' });
      const rails = await startPayoutRoles(w);
      expect((await findTransaction(w.db, input.id))!.state_value).toEqual({ pending_receiver: 'ready' });

      await w.bus.publish({
        id: `verdict-${randomUUID()}`,
        to: customerAddress(receiver!.account, receiver!.memo),
        body: {
          type: 'status_event',
          customerId: receiver!.id,
          customerType: 'sep31-receiver',
          event: { type: 'FIELDS_VERIFIED', at: new Date().toISOString(), fields: ['first_name'] },
        },
      });

      await waitUntil(
        'the rails to pay, and the transaction to complete',
        async () =>
          (await rails.payoutCount(input.id)) === 1 &&
          (await findTransaction(w.db, input.id))!.status === 'completed',
        DEADLINE_MS,
      );
      expect(await payoutEvents(w.db, input.id)).toEqual(['PAYOUT_REQUESTED', 'PAYOUT_COMPLETED']);
    },
  );
});

// ---------------------------------------------------------------------------------------------------------
// Racing safety nets: several execute-outgoing workers, each with its own connection pool (and, on NATS, its
// own bus connection, like separate processes), remind the same funded transactions of their customers.

const racingWorlds = [
  ...testDatabases().map((d) => ({
    name: `the in-process bus on ${d.name}`,
    skip: false,
    database: d,
    natsUrl: undefined,
  })),
  {
    name: 'NATS JetStream on PostgreSQL, two actor hosts',
    skip: !postgres || !natsUrl,
    database: postgres ?? testDatabases()[0]!,
    natsUrl,
  },
];

describe.each(racingWorlds)(
  'racing execute-outgoing workers on $name',
  ({ skip, database, natsUrl: url }) => {
    let world: WorkerWorld | undefined;
    const extra: { close(): Promise<void> }[] = [];
    afterEach(async () => {
      for (const part of extra.splice(0).reverse()) await part.close();
      await world?.close();
      world = undefined;
    });

    it.skipIf(skip)('request each payout once', async () => {
      const w = (world = await openWorkerWorld(database, url ? { natsUrl: url } : {}));
      const inputs = [];
      // Funded around the actor host: ready, and waiting for the safety net.
      for (let i = 0; i < 8; i++) inputs.push((await funded(w, { via: 'direct' })).input);

      const pools: Kysely<Database>[] = [];
      const buses: EventBus[] = [];
      for (let i = 0; i < 4; i++) {
        if (w.database.url) {
          const handle = await openDatabase({ url: w.database.url });
          extra.push(handle);
          pools.push(handle.db);
        } else {
          pools.push(w.db);
        }
        if (url) {
          const bus = await createNatsBus({
            url,
            prefix: w.natsPrefix!,
            partitions: w.bus.partitions,
            logger: silentLogger,
          });
          extra.push(bus);
          buses.push(bus);
        } else {
          buses.push(w.bus);
        }
      }
      if (url) {
        // A second actor host shares the partitions with the first.
        const pool = await openDatabase({ url: w.database.url! });
        const bus = await createNatsBus({
          url,
          prefix: w.natsPrefix!,
          partitions: w.bus.partitions,
          logger: silentLogger,
        });
        const second = startActorHost({
          db: pool.db,
          bus,
          transactions: { payoutCustomerTypes: CUSTOMER_TYPES, sep12: TEST_SEP12 },
          log: quietLog,
          leaseMs: 1_500,
        });
        extra.push(pool, bus, { close: () => second.stop() });
        await waitUntil('the hosts to share the partitions', () => second.partitions().length > 0);
        await waitUntil(
          'every partition to have one owner',
          () => new Set([...second.partitions(), ...w.actors.partitions()]).size === w.bus.partitions,
        );
      }

      const clock = () => new Date('2026-11-24T11:00:00.000Z');
      const results = await Promise.all(
        pools.map((db, i) => runExecuteOutgoingPass({ db, bus: buses[i]!, clock })),
      );
      expect(results.reduce((sum, r) => sum + r.due, 0)).toBeGreaterThanOrEqual(inputs.length);

      // Only the reminders can move them (nothing else is sent to these transactions until they have).
      for (const input of inputs) {
        await waitUntil(
          'the payout to be requested',
          async () =>
            ((await findTransaction(w.db, input.id))!.state_value as Record<string, string>)[
              'pending_receiver'
            ] === 'paying_out',
        );
      }
      for (const input of inputs) {
        // A marker sent after every reminder is stored: once it is refused, the reminders before it are applied.
        const marker = `marker:${input.id}`;
        await w.bus.publish(
          transactionEventMessage(input.id, marker, { type: 'EXPIRE', at: clock().toISOString() }),
        );
        await waitUntil('the reminders to be applied', async () =>
          (await refusals(w.db, input.id)).some((r) => r.message_id === marker),
        );
        expect((await findTransaction(w.db, input.id))!.state_value).toEqual({
          pending_receiver: 'paying_out',
        });
        expect(await payoutEvents(w.db, input.id)).toEqual(['PAYOUT_REQUESTED']);
        expect(await payoutRows(w.db, input.id)).toHaveLength(1);
        expect((await refusals(w.db, input.id)).map((r) => r.message_id)).toEqual([marker]);
      }
    });
  },
);
