import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { createTransactionHost, type TransactionHost } from '../../../src/actors/transaction-host.ts';
import { EventRejectedError, TransactionNotFoundError, UniquenessError } from '../../../src/actors/errors.ts';
import type { Database } from '../../../src/db/index.ts';
import { findTransaction, listEvents } from '../../../src/db/transactions.repository.ts';
import { testDatabases } from '../../helpers/database.ts';
import { accountAssigned, payment, transactionInput } from '../../fixtures/transactions.ts';

describe.each(testDatabases())('actor host on $name', (database) => {
  let db: Kysely<Database>;
  let close: () => Promise<void>;
  let host: TransactionHost;

  beforeAll(async () => {
    ({ db, close } = await database.open());
    host = createTransactionHost({ db });
  });
  afterAll(() => close());

  async function created() {
    const input = transactionInput();
    await host.create(input, { eventId: `create-${input.id}`, then: [accountAssigned()] });
    return input;
  }

  async function outboxOf(id: string) {
    return db.selectFrom('outbox').selectAll().where('transaction_id', '=', id).orderBy('id').execute();
  }

  it('creates a transaction and assigns its account in one step, logging both events', async () => {
    const input = await created();
    const row = await findTransaction(db, input.id);
    expect(row).toMatchObject({ status: 'pending_sender', version: 2, amount_in: '100.0000000' });
    expect(row?.stellar_memo).toBeTruthy();
    const events = await listEvents(db, input.id);
    expect(events.map((e) => [e.seq, e.event_type, e.status_before, e.status_after])).toEqual([
      [1, 'CREATED', null, 'pending_receiver'],
      [2, 'ACCOUNT_ASSIGNED', 'pending_receiver', 'pending_sender'],
    ]);
    // No callback URL can be registered before the create exists: no status change is written for nobody.
    expect(await outboxOf(input.id)).toEqual([]);
  });

  it('writes a status_changed effect per status change once a callback is registered, each as it was then', async () => {
    const input = transactionInput();
    await host.create(input, { eventId: `create-${input.id}` });
    await host.registerCallback(input.id, {
      messageId: `callback-${input.id}`,
      sendingAnchor: input.sendingAnchor,
      url: 'https://sender.example/callback',
    });
    await host.apply({ eventId: `assign-${input.id}`, transactionId: input.id, event: accountAssigned() });
    const credited = payment();
    await host.apply({
      eventId: credited.operationId,
      transactionId: input.id,
      event: { type: 'PAYMENT_RECEIVED', at: '2026-11-24T10:05:01.000Z', payment: credited },
    });
    const row = await findTransaction(db, input.id);
    expect(row?.callback_url).toBe('https://sender.example/callback');
    const effects = (await outboxOf(input.id)).map(
      (o) =>
        o.payload as {
          kind: string;
          status: string;
          transaction: { status: string; context: Record<string, unknown> };
        },
    );
    expect(effects.map(({ kind, status }) => ({ kind, status }))).toEqual([
      { kind: 'status_changed', status: 'pending_sender' },
      { kind: 'status_changed', status: 'pending_receiver' },
    ]);
    // Each effect keeps the transaction as it was then, not as it is at delivery.
    expect(effects[0]!.transaction).toMatchObject({
      status: 'pending_sender',
      context: { stellarMemo: row?.stellar_memo, payment: null },
    });
    expect(effects[1]!.transaction.context['payment']).toMatchObject({ operationId: credited.operationId });
  });

  it('applies an event: new snapshot, read model, event log and effects together', async () => {
    const input = await created();
    const credited = payment();
    const result = await host.apply({
      eventId: credited.operationId,
      transactionId: input.id,
      event: { type: 'PAYMENT_RECEIVED', at: '2026-11-24T10:05:01.000Z', payment: credited },
    });
    expect(result).toMatchObject({ outcome: 'applied', status: 'pending_receiver', version: 3 });
    const row = await findTransaction(db, input.id);
    expect(row).toMatchObject({
      status: 'pending_receiver',
      state_value: { pending_receiver: 'ready' },
      stellar_transaction_id: credited.transactionHash,
      stellar_operation_id: credited.operationId,
    });
    expect(row?.updated_at.toISOString()).toBe('2026-11-24T10:05:01.000Z');
    expect((await listEvents(db, input.id)).at(-1)).toMatchObject({ seq: 3, event_type: 'PAYMENT_RECEIVED' });
  });

  it('acknowledges an event id it already applied and writes nothing', async () => {
    const input = await created();
    const envelope = {
      eventId: 'err-1',
      transactionId: input.id,
      event: { type: 'ERROR' as const, at: '2026-11-24T11:00:00Z', message: 'first' },
    };
    expect((await host.apply(envelope)).outcome).toBe('applied');
    const again = await host.apply({ ...envelope, event: { ...envelope.event, message: 'second' } });
    expect(again).toMatchObject({ outcome: 'duplicate', status: 'error', version: 3 });
    const row = await findTransaction(db, input.id);
    expect(row).toMatchObject({ version: 3, status_message: 'first' });
    expect(await listEvents(db, input.id)).toHaveLength(3);
  });

  it('rejects an event the state does not take, naming what it accepts, and writes nothing', async () => {
    const input = await created();
    const attempt = host.apply({
      eventId: 'payout',
      transactionId: input.id,
      event: { type: 'PAYOUT_COMPLETED', at: '2026-11-24T11:00:00Z' },
    });
    await expect(attempt).rejects.toBeInstanceOf(EventRejectedError);
    await expect(attempt).rejects.toThrow(/accepts: .*PAYMENT_RECEIVED/);
    expect(await findTransaction(db, input.id)).toMatchObject({ version: 2, status: 'pending_sender' });
    expect(await listEvents(db, input.id)).toHaveLength(2);
  });

  it('refuses to credit one Stellar operation to two transactions', async () => {
    const first = await created();
    const second = await created();
    const credited = payment();
    const event = { type: 'PAYMENT_RECEIVED' as const, at: '2026-11-24T10:05:01Z', payment: credited };
    await host.apply({ eventId: 'pay-a', transactionId: first.id, event });
    await expect(host.apply({ eventId: 'pay-b', transactionId: second.id, event })).rejects.toBeInstanceOf(
      UniquenessError,
    );
    expect(await findTransaction(db, second.id)).toMatchObject({ status: 'pending_sender', version: 2 });
    expect(await listEvents(db, second.id)).toHaveLength(2);
  });

  it('refuses a memo already used on the same receiving account, creating nothing', async () => {
    const memo = `same-${randomUUID()}`;
    const first = transactionInput();
    await host.create(first, { eventId: 'c1', then: [accountAssigned(memo)] });
    const second = transactionInput();
    await expect(
      host.create(second, { eventId: 'c2', then: [accountAssigned(memo)] }),
    ).rejects.toBeInstanceOf(UniquenessError);
    expect(await findTransaction(db, second.id)).toBeUndefined();
    expect(await outboxOf(second.id)).toHaveLength(0);
  });

  it('records a payout effect with an idempotency key the rails can rely on', async () => {
    const input = await created();
    const at = '2026-11-24T10:06:00Z';
    await host.apply({
      eventId: 'p',
      transactionId: input.id,
      event: { type: 'PAYMENT_RECEIVED', at, payment: payment() },
    });
    await host.apply({ eventId: 'po', transactionId: input.id, event: { type: 'PAYOUT_REQUESTED', at } });
    const payout = (await outboxOf(input.id)).find((o) => o.kind === 'execute_payout');
    expect(payout).toMatchObject({ idempotency_key: `${input.id}:payout:1`, state: 'pending' });
  });

  it('answers an unknown transaction with a typed error', async () => {
    await expect(
      host.apply({
        eventId: 'x',
        transactionId: randomUUID(),
        event: { type: 'EXPIRE', at: '2026-11-24T10:00:00Z' },
      }),
    ).rejects.toBeInstanceOf(TransactionNotFoundError);
  });

  it('resumes from the stored snapshot in a fresh host (nothing lives in memory)', async () => {
    const input = await created();
    const fresh = createTransactionHost({ db });
    await fresh.apply({
      eventId: 'late',
      transactionId: input.id,
      event: { type: 'EXPIRE', at: '2026-11-25T10:00:00.000Z' },
    });
    expect(await findTransaction(db, input.id)).toMatchObject({ status: 'expired', version: 3 });
  });
});
