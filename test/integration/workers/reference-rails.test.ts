import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initialContext } from '../../../machines/index.ts';
import type { Database } from '../../../src/db/index.ts';
import { createRailsIntegration } from '../../../src/integrations/rails-integration.ts';
import { createReferenceRails } from '../../../src/integrations/reference/rails.ts';
import { toRailsTransaction } from '../../../src/workers/index.ts';
import { transactionInput } from '../../fixtures/transactions.ts';
import { testDatabases, type OpenTestDatabase } from '../../helpers/database.ts';

const START = new Date('2026-11-24T12:00:00.000Z');

function railsTransaction(overrides: { id?: string; externalTransactionId?: string } = {}) {
  const context = initialContext(transactionInput(overrides.id === undefined ? {} : { id: overrides.id }));
  return toRailsTransaction('pending_receiver', {
    ...context,
    receiverId: 'receiver-1',
    externalTransactionId: overrides.externalTransactionId ?? null,
  });
}

describe.each(testDatabases())('the reference rails (simulated bank) on $name', (database) => {
  let t: OpenTestDatabase;
  let db: Kysely<Database>;
  let now: Date;
  const clock = () => now;

  beforeEach(async () => {
    t = await database.open();
    db = t.db;
    now = START;
  });
  afterEach(() => t.close());

  it('a repeated key is the same payout: first answer again, one payout, also after a restart', async () => {
    const bank = createReferenceRails({ db, payoutDelaySeconds: 0, clock });
    const transaction = railsTransaction();
    const key = `${transaction.id}:payout:1`;
    const first = await bank.executeOutgoingTransaction(transaction, { idempotencyKey: key });
    expect(first).toMatchObject({
      status: 'completed',
      externalTransactionId: expect.stringMatching(/^ref-/),
    });
    expect(await bank.executeOutgoingTransaction(transaction, { idempotencyKey: key })).toEqual(first);

    const restarted = createReferenceRails({ db, payoutDelaySeconds: 0, clock, random: () => 0 });
    expect(await restarted.executeOutgoingTransaction(transaction, { idempotencyKey: key })).toEqual(first);
    expect(await restarted.payoutCount(transaction.id)).toBe(1);
    expect(await bank.payouts(transaction.id)).toMatchObject([
      { idempotencyKey: key, amount: '98.5000000', receiverId: 'receiver-1', fundingMethod: 'SEPA' },
    ]);

    // A new attempt is a new payout.
    await bank.executeOutgoingTransaction(transaction, { idempotencyKey: `${transaction.id}:payout:2` });
    expect(await bank.payoutCount(transaction.id)).toBe(2);
  });

  it('concurrent requests with one key make one payout and get one answer', async () => {
    const banks = [1, 2, 3, 4].map(() => createReferenceRails({ db, payoutDelaySeconds: 5, clock }));
    const transaction = railsTransaction();
    const answers = await Promise.all(
      banks.map((bank) =>
        bank.executeOutgoingTransaction(transaction, { idempotencyKey: `${transaction.id}:payout:1` }),
      ),
    );
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(await banks[0]!.payoutCount(transaction.id)).toBe(1);
  });

  it('refuses a key already used by another transaction', async () => {
    const bank = createReferenceRails({ db, payoutDelaySeconds: 0, clock });
    await bank.executeOutgoingTransaction(railsTransaction(), { idempotencyKey: 'shared' });
    await expect(
      bank.executeOutgoingTransaction(railsTransaction(), { idempotencyKey: 'shared' }),
    ).rejects.toThrow(/was used for transaction/);
  });

  it('fails the share of payouts given by the failure rate, drawn with the injected random', async () => {
    const draws = [0.2, 0.7];
    const bank = createReferenceRails({
      db,
      payoutDelaySeconds: 0,
      failureRate: 0.5,
      clock,
      random: () => draws.shift()!,
    });
    const a = railsTransaction();
    const b = railsTransaction();
    expect(await bank.executeOutgoingTransaction(a, { idempotencyKey: 'a' })).toEqual({
      status: 'failed',
      message: 'the simulated bank refused the payout',
    });
    expect(await bank.executeOutgoingTransaction(b, { idempotencyKey: 'b' })).toMatchObject({
      status: 'completed',
    });
  });

  it('a delayed payout is pending until the clock passes the delay; unknown transactions are left out', async () => {
    const bank = createRailsIntegration({ kind: 'reference', payoutDelaySeconds: 30 }, { db, clock });
    const transaction = railsTransaction();
    const answer = await bank.executeOutgoingTransaction(transaction, { idempotencyKey: 'k' });
    expect(answer).toMatchObject({ status: 'pending_external' });
    const externalTransactionId = answer.status === 'pending_external' ? answer.externalTransactionId : '';
    const known = railsTransaction({ id: transaction.id, externalTransactionId });
    const unknown = railsTransaction();

    now = new Date(START.getTime() + 29_999);
    expect(await bank.pollOutgoingTransactions([known, unknown])).toEqual([
      { id: transaction.id, status: 'pending_external', externalTransactionId },
    ]);
    now = new Date(START.getTime() + 30_000);
    expect(await bank.pollOutgoingTransactions([known, unknown])).toEqual([
      {
        id: transaction.id,
        status: 'completed',
        externalTransactionId,
        message: 'paid by the simulated bank',
      },
    ]);
    // Settled for good, and the first answer is still the first answer.
    now = START;
    expect(await bank.pollOutgoingTransactions([known])).toMatchObject([{ status: 'completed' }]);
    expect(await bank.executeOutgoingTransaction(transaction, { idempotencyKey: 'k' })).toEqual(answer);
  });
});
