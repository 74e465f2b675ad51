import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTransactionHost, type TransactionHost } from '../../../src/actors/transaction-host.ts';
import { claimDue, openDatabase, type Database } from '../../../src/db/index.ts';
import { findTransaction } from '../../../src/db/transactions.repository.ts';
import type { OutboxRelay } from '../../../src/effects/index.ts';
import type { RailsIntegration } from '../../../src/integrations/rails-integration.ts';
import { createReferenceRails, type ReferenceRails } from '../../../src/integrations/reference/rails.ts';
import {
  runExecuteOutgoingPass,
  runPollOutgoingPass,
  startPayoutRelay,
  toRailsTransaction,
  type ExecutePayoutPayload,
  type PayoutRelayOptions,
} from '../../../src/workers/index.ts';
import { testDatabases, type OpenTestDatabase } from '../../helpers/database.ts';
import {
  CUSTOMER_TYPES,
  captureLog,
  customer,
  eventTypes,
  funded,
  payoutRows,
  TEST_PAYOUT_RELAY,
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

describe.each(testDatabases())('payouts on $name', (database) => {
  let t: OpenTestDatabase;
  let db: Kysely<Database>;
  let host: TransactionHost;
  let now: Date;
  const clock = () => now;
  const advance = (ms: number) => (now = new Date(now.getTime() + ms));
  const relays: OutboxRelay[] = [];

  beforeEach(async () => {
    t = await database.open();
    db = t.db;
    host = createTransactionHost({ db });
    // Outbox rows are due at the database's now(); the workers' clock runs a little ahead of it.
    now = new Date(Math.ceil((Date.now() + 60_000) / 1000) * 1000);
  });
  afterEach(async () => {
    for (const relay of relays.splice(0)) await relay.stop();
    await t.close();
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
      host,
      rails,
      ...TEST_PAYOUT_RELAY,
      clock,
      log: captureLog().log,
      ...overrides,
    });
    relays.push(relay);
    return relay;
  }

  const execute = () => runExecuteOutgoingPass({ db, host, clock, customerTypes: CUSTOMER_TYPES });
  const poll = (rails: RailsIntegration) => runPollOutgoingPass({ db, host, clock, rails });
  const row = async (id: string) => (await findTransaction(db, id))!;

  it('pays out at once with delay 0: completed, with completed_at and the external id', async () => {
    const input = await funded(db, host);
    const rails = bank();

    expect(await execute()).toEqual({
      due: 1,
      requested: 1,
      duplicates: 0,
      skipped: 0,
      movedOn: 0,
      errors: 0,
    });
    expect(await row(input.id)).toMatchObject({
      status: 'pending_receiver',
      state_value: { pending_receiver: 'paying_out' },
    });
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
  });

  it('with a delay: pending_external, then completed by a poll once the delay has passed', async () => {
    const input = await funded(db, host);
    const rails = bank({ payoutDelaySeconds: 120 });
    await execute();
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
    expect(await poll(rails)).toMatchObject({ polled: 0 });
    expect(await rails.payoutCount(input.id)).toBe(1);
  });

  it('a payout the bank refuses puts the transaction in error, with the message', async () => {
    const input = await funded(db, host);
    await execute();
    await payoutRelay(bank({ failureRate: 1 })).runOnce();
    expect(await row(input.id)).toMatchObject({
      status: 'error',
      status_message: 'the simulated bank refused the payout',
      completed_at: null,
    });
  });

  it('a delayed payout that fails is reported failed by the poll', async () => {
    const input = await funded(db, host);
    const rails = bank({ payoutDelaySeconds: 10, failureRate: 1 });
    await execute();
    await payoutRelay(rails).runOnce();
    expect((await row(input.id)).status).toBe('pending_external');
    advance(10_000);
    expect(await poll(rails)).toMatchObject({ failed: 1 });
    expect(await row(input.id)).toMatchObject({
      status: 'error',
      status_message: 'the simulated bank refused the payout',
    });
  });

  it('customer_info_needed from the rails: pending_customer_info_update, with the fields flagged', async () => {
    const input = await funded(db, host);
    const rails: RailsIntegration = {
      executeOutgoingTransaction: async () => ({
        status: 'customer_info_needed',
        message: 'the bank does not know this account number',
        fields: ['bank_account_number'],
      }),
      pollOutgoingTransactions: async () => [],
    };
    await execute();
    await payoutRelay(rails).runOnce();

    expect(await row(input.id)).toMatchObject({
      status: 'pending_customer_info_update',
      required_info_message: 'the bank does not know this account number',
    });
    const flagged = await db
      .selectFrom('customer_transactions')
      .selectAll()
      .where('transaction_id', '=', input.id)
      .execute();
    expect(flagged).toMatchObject([
      {
        type: 'sep31-receiver',
        requested_fields: ['bank_account_number'],
        requested_message: 'the bank does not know this account number',
      },
    ]);
    // The event names the customer type, so GET /customer?transaction_id= knows whom to ask.
    const [event] = await db
      .selectFrom('transaction_events')
      .select('payload')
      .where('transaction_id', '=', input.id)
      .where('event_type', '=', 'CUSTOMER_INFO_NEEDED')
      .execute();
    expect(event!.payload).toMatchObject({ customerType: 'sep31-receiver' });
  });

  it('skips (does not fail) transactions whose customers are not accepted, and pays them once they are', async () => {
    const pending = await funded(db, host, { receiver: 'PROCESSING' });
    const foreign = await funded(db, host, {
      receiverAccount: 'GDQOE23CFSUMSVQK4Y5JHPPYK73VYCNHZHA7ENKCV37P6SUEO6XQBKPP',
    });
    const missing = await funded(db, host);
    await db.updateTable('transactions').set({ receiver_id: null }).where('id', '=', missing.id).execute();

    expect(await execute()).toMatchObject({ due: 3, requested: 0, skipped: 3, errors: 0 });
    for (const { id } of [pending, foreign, missing]) {
      expect(await row(id)).toMatchObject({
        status: 'pending_receiver',
        state_value: { pending_receiver: 'ready' },
      });
      expect(await payoutRows(db, id)).toEqual([]);
    }

    // SEP-12 accepts the receiver: the next pass requests the payout.
    const accepted = await customer(db, { 'sep31-receiver': 'ACCEPTED' });
    await db
      .updateTable('transactions')
      .set({ receiver_id: accepted })
      .where('id', '=', pending.id)
      .execute();
    expect(await execute()).toMatchObject({ due: 3, requested: 1, skipped: 2 });
    expect((await row(pending.id)).state_value).toEqual({ pending_receiver: 'paying_out' });
  });

  it('a crash after the rails paid but before the result was recorded: redone with the same key, one payout', async () => {
    const input = await funded(db, host);
    const reference = bank();
    const spy = spied(reference);
    await execute();
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
    expect((await eventTypes(db, input.id)).filter((type) => type.startsWith('PAYOUT_'))).toEqual([
      'PAYOUT_REQUESTED',
      'PAYOUT_COMPLETED',
    ]);
  });

  it('a relay that dies mid-flight: the lease expires, a restarted process pays nothing twice', async () => {
    const input = await funded(db, host, {});
    await execute();
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
    const input = await funded(db, host);
    const rails = bank();
    await execute();
    await host.apply({
      eventId: 'operator-halt',
      transactionId: input.id,
      event: { type: 'ERROR', at: now.toISOString(), message: 'held by compliance' },
    });
    await payoutRelay(rails).runOnce();
    expect(await rails.payoutCount(input.id)).toBe(0);
    expect((await row(input.id)).status).toBe('error');
    const [effect] = await payoutRows(db, input.id);
    expect(effect!.state).toBe('failed');
    expect(effect!.last_error).toMatch(/not executed: .* is error/);
  });

  it('a redone row whose answer was already recorded is settled without calling the rails again', async () => {
    const input = await funded(db, host);
    const spy = spied(bank());
    await execute();
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
  });

  it('an unknown outcome (the rails threw) is retried with the same key, never as a fresh payout', async () => {
    const input = await funded(db, host);
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
    await execute();
    const relay = payoutRelay(flaky);
    await relay.runOnce();
    advance(5_000);
    await relay.runOnce();
    expect((await row(input.id)).state_value).toEqual({ pending_receiver: 'paying_out' });
    // The worker never requests a new payout while one is in flight.
    expect(await execute()).toMatchObject({ due: 0, requested: 0 });
    down = false;
    advance(10_000);
    await relay.runOnce();
    expect(new Set(keys)).toEqual(new Set([`${input.id}:payout:1`]));
    expect(keys).toHaveLength(3);
    expect((await row(input.id)).status).toBe('completed');
    expect(await reference.payoutCount(input.id)).toBe(1);
  });

  it('a poll the rails cannot answer leaves the payout pending (unknown is not failed)', async () => {
    const input = await funded(db, host);
    const reference = bank({ payoutDelaySeconds: 10 });
    await execute();
    await payoutRelay(reference).runOnce();
    advance(10_000);
    const { log, entries } = captureLog();
    const down: RailsIntegration = {
      executeOutgoingTransaction: (transaction, options) =>
        reference.executeOutgoingTransaction(transaction, options),
      pollOutgoingTransactions: () => Promise.reject(new Error('bank API unavailable')),
    };
    expect(await runPollOutgoingPass({ db, host, clock, rails: down, log })).toMatchObject({
      polled: 0,
      errors: 1,
    });
    expect(entries.map((e) => e.msg)).toEqual(['payout poll failed: bank API unavailable']);
    expect((await row(input.id)).status).toBe('pending_external');
    expect(await poll(reference)).toMatchObject({ completed: 1 });
  });

  it('a poll answer for a transaction that moved on is "already settled", not an error', async () => {
    const input = await funded(db, host);
    const reference = bank({ payoutDelaySeconds: 10 });
    await execute();
    await payoutRelay(reference).runOnce();
    advance(10_000);
    // An operator halts the transaction while the poller waits for the rails' answer.
    const racing: RailsIntegration = {
      executeOutgoingTransaction: (transaction, options) =>
        reference.executeOutgoingTransaction(transaction, options),
      async pollOutgoingTransactions(transactions) {
        await host.apply({
          eventId: 'operator-halt',
          transactionId: input.id,
          event: { type: 'ERROR', at: now.toISOString(), message: 'held by compliance' },
        });
        return reference.pollOutgoingTransactions(transactions);
      },
    };
    expect(await poll(racing)).toMatchObject({ polled: 1, completed: 0, movedOn: 1, errors: 0 });
    expect(await row(input.id)).toMatchObject({ status: 'error', status_message: 'held by compliance' });
  });
});

// Two execute workers, each with its own connection pool, race on the same ready transactions.
const postgres = testDatabases().find((d) => d.name === 'postgres');
describe.each(testDatabases())('racing execute-outgoing workers on $name', (database) => {
  let t: OpenTestDatabase;
  const extra: { close(): Promise<void> }[] = [];

  beforeEach(async () => {
    t = await database.open();
  });
  afterEach(async () => {
    for (const handle of extra.splice(0)) await handle.close();
    await t.close();
  });

  it('request each payout once', async () => {
    const host = createTransactionHost({ db: t.db });
    const inputs = [];
    for (let i = 0; i < 8; i++) inputs.push(await funded(t.db, host));
    const pools: Kysely<Database>[] = [t.db];
    if (database === postgres) {
      for (let i = 0; i < 3; i++) {
        const handle = await openDatabase({ url: t.url! });
        extra.push(handle);
        pools.push(handle.db);
      }
    } else {
      pools.push(t.db, t.db, t.db);
    }
    const clock = () => new Date('2026-11-24T11:00:00.000Z');
    const results = await Promise.all(
      pools.map((db) =>
        runExecuteOutgoingPass({
          db,
          host: createTransactionHost({ db }),
          clock,
          customerTypes: CUSTOMER_TYPES,
        }),
      ),
    );
    expect(results.reduce((sum, r) => sum + r.requested, 0)).toBe(inputs.length);
    expect(results.reduce((sum, r) => sum + r.errors, 0)).toBe(0);
    for (const input of inputs) {
      const types = await eventTypes(t.db, input.id);
      expect(types.filter((type) => type === 'PAYOUT_REQUESTED')).toHaveLength(1);
      expect(await payoutRows(t.db, input.id)).toHaveLength(1);
    }
  });
});
