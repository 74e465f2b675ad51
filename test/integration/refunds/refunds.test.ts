/**
 * Refunds and reconciliation end to end on the actor host and the bus, with the fake Horizon taking real
 * signed submissions: an over-payment's excess goes back by itself (with the refund memo) and shows in
 * `refunds`; a full refund of an under-payment ends `refunded`; an unmatched payment is refunded once, even
 * asked twice and with the answer to its submission lost; a payout without an answer lands in reconciliation
 * and `resolve_payout` retries it with the same idempotency key.
 */
import { Asset, Keypair, Memo } from '@stellar/stellar-sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PersistedTransaction } from '../../../machines/index.ts';
import { createTransactionCommands } from '../../../src/actors/commands.ts';
import { transactionEventMessage } from '../../../src/actors/messages.ts';
import { findTransaction } from '../../../src/db/transactions.repository.ts';
import { recordUnmatchedPayment } from '../../../src/db/unmatched-payments.repository.ts';
import { startOutboxRelay, type OutboxRelay } from '../../../src/effects/index.ts';
import type { RailsIntegration } from '../../../src/integrations/rails-integration.ts';
import { operatorQueries } from '../../../src/read-model/operator.ts';
import { createRefundMethods } from '../../../src/operator/refund-methods.ts';
import { horizonPayerOf } from '../../../src/refunds/payer.ts';
import { refundHandlers } from '../../../src/refunds/refund-effects.ts';
import { stellarRefunds } from '../../../src/refunds/stellar-refund.ts';
import { toSep31Transaction } from '../../../src/views/sep31-transaction.ts';
import { payoutResultEventId, startPayoutRelay } from '../../../src/workers/index.ts';
import { startFakeHorizon, type FakeHorizon } from '../../fakes/fake-horizon.ts';
import { ISSUER, transactionInput } from '../../fixtures/transactions.ts';
import { testDatabases } from '../../helpers/database.ts';
import { funded, openWorkerWorld, quietLog, waitUntil, type WorkerWorld } from '../workers/support.ts';

const USDC = new Asset('USDC', ISSUER);
const operator = { operator: 'ops@example.com' };

describe.each(testDatabases())('refunds on $name', (database) => {
  let world: WorkerWorld;
  let horizon: FakeHorizon;
  let relay: OutboxRelay;
  const distribution = Keypair.random();
  const sender = Keypair.random();

  beforeEach(async () => {
    world = await openWorkerWorld(database);
    horizon = await startFakeHorizon();
    horizon.addAccount(distribution.publicKey());
    relay = startOutboxRelay({
      db: world.db,
      handlers: refundHandlers({
        db: world.db,
        bus: world.bus,
        kind: 'stellar',
        excess: 'auto',
        stellar: stellarRefunds({
          db: world.db,
          horizonUrl: horizon.url,
          networkPassphrase: 'Test SDF Network ; September 2015',
          signer: distribution,
        }),
        payerOf: horizonPayerOf(horizon.url),
      }),
      workerId: 'refunds-test',
      intervalMs: 50,
      batchSize: 10,
      leaseMs: 10_000,
      handlerTimeoutMs: 5_000,
      maxAttempts: 10,
      backoff: { initialMs: 50, factor: 1, maxMs: 50 },
      log: quietLog,
    });
  });

  afterEach(async () => {
    await relay.stop();
    await horizon.close();
    await world.close();
  });

  const methods = () =>
    createRefundMethods({
      db: world.db,
      commands: createTransactionCommands(world.bus),
      refunds: { kind: 'stellar', excess: 'auto' },
      methodsFor: () => [],
      queries: operatorQueries(world.db),
      sendingAnchors: [],
    });

  /** Horizon's JSON at `path` on the fake. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Horizon's JSON, read field by field
  async function horizonJson(path: string): Promise<Record<string, any>> {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return (await (await fetch(`${horizon.url}${path}`)).json()) as Record<string, any>;
  }

  async function view(id: string) {
    const row = await findTransaction(world.db, id);
    return toSep31Transaction(row!.status, (row!.snapshot as unknown as PersistedTransaction).context);
  }

  /** A transaction paid `amount` on the fake Horizon by `sender`, the payment applied by its actor. */
  async function paid(amount: string, overrides: Parameters<typeof transactionInput>[0] = {}) {
    const input = transactionInput(overrides);
    const memo = `m-${input.id.slice(0, 8)}`;
    await world.host.create(input, {
      eventId: `create-${input.id}`,
      then: [
        {
          type: 'ACCOUNT_ASSIGNED',
          at: '2026-11-24T10:00:00.100Z',
          stellarAccountId: distribution.publicKey(),
          stellarMemoType: 'text',
          stellarMemo: memo,
        },
      ],
    });
    const built = horizon.pay({
      from: sender,
      destination: distribution.publicKey(),
      asset: USDC,
      amount,
      memo: Memo.text(memo),
    });
    const op = built.operations[0]!;
    await world.bus.publish(
      transactionEventMessage(input.id, `pay-${input.id}`, {
        type: 'PAYMENT_RECEIVED',
        at: op.created_at,
        payment: {
          operationId: op.id,
          transactionHash: built.transaction.hash,
          amount,
          assetCode: 'USDC',
          assetIssuer: ISSUER,
          createdAt: op.created_at,
        },
      }),
    );
    return { input, memo };
  }

  it("refunds an over-payment's excess on Stellar with the refund memo, keeping the status", async () => {
    const { input } = await paid('110.5', { refundMemo: 'back-to-sa', refundMemoType: 'text' });
    await waitUntil('the excess refund', async () => (await view(input.id)).refunds !== undefined);
    const shown = await view(input.id);
    expect(shown.status).toBe('pending_receiver');
    expect(shown.amount_out).toBe('98.5');
    expect(shown.refunds).toEqual({
      amount_refunded: '10.5',
      amount_fee: '0',
      payments: [{ id: horizon.submitted[0], id_type: 'stellar', amount: '10.5', fee: '0' }],
    });
    const tx = await horizonJson(`/transactions/${horizon.submitted[0]}`);
    expect(tx).toMatchObject({
      memo_type: 'text',
      memo: 'back-to-sa',
      source_account: distribution.publicKey(),
    });
    const payments = await horizonJson(`/accounts/${sender.publicKey()}/payments?order=desc&limit=1`);
    expect(payments._embedded.records[0]).toMatchObject({ to: sender.publicKey(), amount: '10.5000000' });
  });

  it('fully refunds an under-payment: pending_stellar, then refunded, with the original memo', async () => {
    const { input, memo } = await paid('50');
    await waitUntil('the under-payment', async () => (await view(input.id)).status === 'error');
    const answer = (await methods().do_refund.call(
      { transaction_id: input.id, refund_id: 'r1' },
      operator,
    )) as {
      status: string;
    };
    expect(['pending_stellar', 'refunded']).toContain(answer.status);
    await waitUntil('refunded', async () => (await view(input.id)).status === 'refunded');
    const shown = await view(input.id);
    expect(shown.refunds?.amount_refunded).toBe('50');
    expect(shown.refunds?.payments).toEqual([
      { id: horizon.submitted[0], id_type: 'stellar', amount: '50', fee: '0' },
    ]);
    const tx = await horizonJson(`/transactions/${horizon.submitted[0]}`);
    expect(tx.memo).toBe(memo);
    // Asked again with the same id: the same refund, nothing sent twice.
    await expect(
      methods().do_refund.call({ transaction_id: input.id, refund_id: 'r1' }, operator),
    ).rejects.toThrow();
    expect(horizon.submitted).toHaveLength(1);
    const events = await world.db
      .selectFrom('transaction_events')
      .select(['event_type', 'payload'])
      .where('transaction_id', '=', input.id)
      .where('event_type', '=', 'REFUND_REQUESTED')
      .execute();
    expect(events.map((e) => (e.payload as { by?: string }).by)).toEqual(['ops@example.com']);
  });

  it('refunds an unmatched payment once: asked twice, and its submission answer lost', async () => {
    const built = horizon.pay({
      from: sender,
      destination: distribution.publicKey(),
      asset: USDC,
      amount: '7',
    });
    const op = built.operations[0]!;
    await recordUnmatchedPayment(world.db, {
      operationId: op.id,
      transactionHash: built.transaction.hash,
      account: distribution.publicKey(),
      fromAccount: sender.publicKey(),
      amount: '7',
      assetCode: 'USDC',
      assetIssuer: ISSUER,
      memoType: 'none',
      memo: null,
      reason: 'no_memo',
      transactionId: null,
      payload: op,
    });
    // The first submission lands on the ledger but its answer is lost: the retry must find it, not pay again.
    horizon.loseNextSubmissionAnswers(1);
    const m = methods();
    await Promise.all([
      m.refund_unmatched_payment.call({ operation_id: op.id }, operator),
      m.refund_unmatched_payment.call({ operation_id: op.id }, operator),
    ]);
    await waitUntil('the unmatched refund', async () => {
      const row = await world.db
        .selectFrom('unmatched_payments')
        .select('refunded_at')
        .where('operation_id', '=', op.id)
        .executeTakeFirstOrThrow();
      return row.refunded_at !== null;
    });
    const shown = (await m.refund_unmatched_payment.call({ operation_id: op.id }, operator)) as {
      refund_transaction_hash: string;
      refund: { state: string };
    };
    expect(horizon.submitted).toHaveLength(1);
    expect(shown.refund_transaction_hash).toBe(horizon.submitted[0]);
    expect(shown.refund.state).toBe('confirmed');
    const outgoing = await horizonJson(`/accounts/${sender.publicKey()}/payments?order=desc`);
    expect(
      outgoing._embedded.records.filter((r: { to: string }) => r.to === sender.publicKey()),
    ).toHaveLength(1);
  });
});

describe.each(testDatabases())('payout reconciliation on $name', (database) => {
  let world: WorkerWorld;
  beforeEach(async () => {
    world = await openWorkerWorld(database);
  });
  afterEach(async () => {
    await world.close();
  });

  it('a payout without an answer lands in reconciliation; resolve_payout retries it with the same key', async () => {
    const keys: string[] = [];
    let answer = false;
    const rails: RailsIntegration = {
      async executeOutgoingTransaction(_tx, { idempotencyKey }) {
        keys.push(idempotencyKey);
        if (!answer) throw new Error('bank timeout');
        return { status: 'completed', externalTransactionId: 'bank-1' };
      },
      pollOutgoingTransactions: async () => [],
    };
    const payouts = startPayoutRelay({
      db: world.db,
      bus: world.bus,
      rails,
      workerId: 'payouts-test',
      intervalMs: 50,
      batchSize: 10,
      leaseMs: 10_000,
      handlerTimeoutMs: 5_000,
      maxAttempts: 2,
      backoff: { initialMs: 20, factor: 1, maxMs: 20 },
      log: quietLog,
    });
    try {
      const { input } = await funded(world);
      const status = async () => (await findTransaction(world.db, input.id))!;
      await waitUntil('reconciliation', async () => (await status()).status === 'error');
      const stuck = await status();
      const context = (stuck.snapshot as unknown as PersistedTransaction).context;
      expect(context.payoutReconciliation).toMatchObject({
        outcome: 'unknown',
        idempotencyKey: `${input.id}:payout:1`,
      });
      expect(context.statusMessage).toMatch(/bank timeout/);
      expect(keys).toEqual([`${input.id}:payout:1`, `${input.id}:payout:1`]);

      const methods = createRefundMethods({
        db: world.db,
        commands: createTransactionCommands(world.bus),
        refunds: { kind: 'stellar', excess: 'auto' },
        methodsFor: () => [],
        queries: operatorQueries(world.db),
        sendingAnchors: [],
      });
      // RECOVER would start a payout under a new key: refused while the outcome is unknown.
      await expect(
        world.bus.request(
          transactionEventMessage(input.id, 'recover-1', { type: 'RECOVER', at: new Date().toISOString() }),
          { timeoutMs: 5_000 },
        ),
      ).resolves.toMatchObject({ outcome: 'refused' });
      answer = true;
      await methods.resolve_payout.call({ transaction_id: input.id, action: 'retry' }, operator);
      await waitUntil('completed', async () => (await status()).status === 'completed');
      expect(new Set(keys)).toEqual(new Set([`${input.id}:payout:1`]));
      const ids = await world.db
        .selectFrom('transaction_events')
        .select('event_id')
        .where('transaction_id', '=', input.id)
        .execute();
      expect(ids.map((r) => r.event_id)).toContain(payoutResultEventId(`${input.id}:payout:1`, 1));
    } finally {
      await payouts.stop();
    }
  });
});
