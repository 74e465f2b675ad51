/**
 * The expire worker publishes EXPIRE (`expire:<id>`) to every unfunded transaction past its deadline;
 * the transaction's actor has the last word. Checked on the ledger once the bus delivered.
 */
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { transactionEventMessage } from '../../../src/actors/messages.ts';
import type { EventBus } from '../../../src/bus/index.ts';
import type { Database } from '../../../src/db/index.ts';
import { findTransaction } from '../../../src/db/transactions.repository.ts';
import { expireEventId, runExpirePass } from '../../../src/workers/index.ts';
import { payment, transactionInput } from '../../fixtures/transactions.ts';
import { testDatabases } from '../../helpers/database.ts';
import {
  awaitingPayment,
  eventIds,
  eventTypes,
  funded,
  openWorkerWorld,
  refusals,
  type WorkerWorld,
} from './support.ts';

const DEADLINE = '2026-11-24T12:00:00.000Z';
const before = new Date('2026-11-24T11:59:59.999Z');
const at = new Date(DEADLINE);

describe.each(testDatabases())('the expire worker on $name', (database) => {
  let world: WorkerWorld;
  let db: Kysely<Database>;
  let bus: EventBus;

  beforeEach(async () => {
    world = await openWorkerWorld(database);
    ({ db, bus } = world);
  });
  afterEach(() => world.close());

  const expire = (now: Date) => runExpirePass({ db, bus, clock: () => now });
  const status = async (id: string) => (await findTransaction(db, id))!.status;

  it('expires only unfunded transactions whose deadline has passed, once', async () => {
    const { host } = world;
    const waiting = await awaitingPayment(host, { expiresAt: DEADLINE });
    const later = await awaitingPayment(host, { expiresAt: '2026-11-24T12:00:01.000Z' });
    const noDeadline = await awaitingPayment(host, { expiresAt: null });
    // Created, but its account was never assigned (pending_receiver.preparing).
    const preparing = transactionInput({ expiresAt: DEADLINE });
    await host.create(preparing, { eventId: `create-${preparing.id}` });
    // Funded in time (its customers not accepted yet): paying it out is what is left, whatever the deadline says.
    const { input: paid } = await funded(world, { receiver: 'PROCESSING' });
    await db.updateTable('transactions').set({ expires_at: DEADLINE }).where('id', '=', paid.id).execute();
    // Halted by an operator before any funds: the deadline still ends it.
    const halted = await awaitingPayment(host, { expiresAt: DEADLINE });
    await host.apply({
      eventId: 'halt',
      transactionId: halted.id,
      event: { type: 'ERROR', at: '2026-11-24T11:00:00.000Z', message: 'held' },
    });
    // Under-paid: in error WITH funds, which must be refunded, never expired.
    const underpaid = await awaitingPayment(host, { expiresAt: DEADLINE });
    await host.apply({
      eventId: 'pay',
      transactionId: underpaid.id,
      event: { type: 'PAYMENT_RECEIVED', at: '2026-11-24T11:00:00.000Z', payment: payment({ amount: '50' }) },
    });
    expect(await status(underpaid.id)).toBe('error');

    expect(await expire(before)).toEqual({ due: 0 });
    expect(await expire(at)).toEqual({ due: 3 });

    for (const { id } of [waiting, preparing, halted]) {
      expect(await status(id)).toBe('expired');
      expect((await eventTypes(db, id)).at(-1)).toBe('EXPIRE');
      expect((await eventIds(db, id)).at(-1)).toBe(expireEventId(id));
    }
    expect(await status(later.id)).toBe('pending_sender');
    expect(await status(noDeadline.id)).toBe('pending_sender');
    expect(await status(paid.id)).toBe('pending_receiver');
    expect(await status(underpaid.id)).toBe('error');
    // Not even asked: nothing was refused.
    for (const { id } of [later, noDeadline, paid, underpaid]) {
      expect(await eventTypes(db, id)).not.toContain('EXPIRE');
      expect(await refusals(db, id)).toEqual([]);
    }

    // Done once: the next pass finds only the one whose deadline has now passed.
    expect(await expire(new Date('2026-11-24T13:00:00.000Z'))).toEqual({ due: 1 });
    expect(await status(later.id)).toBe('expired');
    expect(await expire(new Date('2026-11-24T14:00:00.000Z'))).toEqual({ due: 0 });

    // The same EXPIRE again (two passes racing, a retry beyond the bus's window) is a duplicate.
    expect(
      await bus.request(
        transactionEventMessage(waiting.id, expireEventId(waiting.id), { type: 'EXPIRE', at: DEADLINE }),
      ),
    ).toMatchObject({ outcome: 'duplicate', status: 'expired' });
    expect((await eventTypes(db, waiting.id)).filter((type) => type === 'EXPIRE')).toHaveLength(1);
  });

  it('two passes racing expire each transaction once', async () => {
    const inputs = [];
    for (let i = 0; i < 4; i++) inputs.push(await awaitingPayment(world.host, { expiresAt: DEADLINE }));
    await Promise.all([expire(at), expire(at), expire(at)]);
    for (const { id } of inputs) {
      expect(await status(id)).toBe('expired');
      expect((await eventTypes(db, id)).filter((type) => type === 'EXPIRE')).toHaveLength(1);
      expect(await refusals(db, id)).toEqual([]);
    }
  });

  it('a payment that lands first wins: the actor refuses EXPIRE, and the refusal is recorded', async () => {
    const input = await awaitingPayment(world.host, { expiresAt: DEADLINE });
    // The payment reaches the actor while the pass is between reading the candidates and publishing EXPIRE.
    const racing: Pick<EventBus, 'publishMany'> = {
      async publishMany(messages) {
        await bus.publish(
          transactionEventMessage(input.id, 'pay', {
            type: 'PAYMENT_RECEIVED',
            at: '2026-11-24T11:59:59.000Z',
            payment: payment(),
          }),
        );
        return bus.publishMany(messages);
      },
    };
    expect(await runExpirePass({ db, bus: racing, clock: () => at })).toEqual({ due: 1 });
    expect(await findTransaction(db, input.id)).toMatchObject({
      status: 'pending_receiver',
      state_value: { pending_receiver: 'ready' },
    });
    expect(await eventTypes(db, input.id)).not.toContain('EXPIRE');
    expect(await refusals(db, input.id)).toMatchObject([
      { message_id: expireEventId(input.id), kind: 'event:EXPIRE', code: 'rejected' },
    ]);
  });

  it('pages through more due transactions than one batch', async () => {
    const inputs = [];
    for (let i = 0; i < 5; i++) inputs.push(await awaitingPayment(world.host, { expiresAt: DEADLINE }));
    expect(await runExpirePass({ db, bus, clock: () => at, batchSize: 2 })).toEqual({ due: 5 });
    for (const { id } of inputs) expect(await status(id)).toBe('expired');
  });
});
