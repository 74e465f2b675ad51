/**
 * The bus contract (src/bus/event-bus.ts), run against both implementations. The NATS run needs
 * NATS_URL (see test/helpers/nats.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TransactionEventEnvelope } from '../../../machines/transaction/events.ts';
import type { DeliveryMeta } from '../../../src/bus/index.ts';
import { natsUrlForTests } from '../../helpers/nats.ts';
import {
  envelope,
  gate,
  idInOtherPartition,
  idInSamePartition,
  idsInDistinctPartitions,
  inProcessImplementation,
  natsImplementation,
  recordingLogger,
  sleep,
  waitFor,
  type BusFixture,
} from './support.ts';

const implementations = [inProcessImplementation(), natsImplementation(natsUrlForTests())];

describe.each(implementations)('EventBus contract: $name', (implementation) => {
  const test = it.skipIf(implementation.skip);
  let fixture: BusFixture;

  afterEach(async () => {
    await fixture?.cleanup();
  });

  function setUp(): BusFixture {
    fixture = implementation.fixture();
    return fixture;
  }

  test('delivers a published event with its payload intact', async () => {
    const bus = await setUp().bus();
    const sent: TransactionEventEnvelope = {
      eventId: 'e-payload',
      transactionId: 'd8a2c1e0-5b0e-4c1e-9d2f-1a2b3c4d5e6f',
      event: {
        type: 'TRANSACTION_INFO_NEEDED',
        at: '2026-01-02T03:04:05.678Z',
        message: 'Need the receiver’s bank — ✓ 日本',
        fields: { receiver_account: { description: 'IBAN', optional: false, choices: ['a', 'b'] } },
      },
    };
    const received: Array<[TransactionEventEnvelope, DeliveryMeta]> = [];
    await bus.subscribe(async (env, meta) => {
      received.push([env, meta]);
    });
    await bus.publish(sent);
    await waitFor('the event', () => received.length === 1);
    expect(received[0]).toEqual([sent, { deliveryCount: 1 }]);
  });

  test('routes transaction ids that are not subject-safe (dots, wildcards, spaces)', async () => {
    const bus = await setUp().bus();
    const ids = ['a.b.c', 'star*', 'gt>', 'with space', '~tilde', 'ünïcode'];
    const received: string[] = [];
    await bus.subscribe(async (env) => {
      received.push(env.transactionId);
    });
    for (const id of ids) await bus.publish(envelope(id));
    await waitFor('all ids', () => received.length === ids.length);
    expect(received.sort()).toEqual([...ids].sort());
  });

  test('delivers events published before anyone subscribed', async () => {
    const bus = await setUp().bus();
    const sent = [envelope('early-1'), envelope('early-2'), envelope('early-1')];
    for (const e of sent) await bus.publish(e);
    const received: string[] = [];
    await bus.subscribe(async (env) => {
      received.push(env.eventId);
    });
    await waitFor('the buffered events', () => received.length === sent.length);
    expect(received.sort()).toEqual(sent.map((e) => e.eventId).sort());
  });

  test('publishing the same eventId twice delivers it once', async () => {
    const bus = await setUp().bus();
    const calls: TransactionEventEnvelope[] = [];
    await bus.subscribe(async (env) => {
      calls.push(env);
    });
    const first = envelope('dup-tx', 'dup-event');
    await bus.publish(first);
    await bus.publish({ ...first, event: { type: 'EXPIRE', at: '2030-01-01T00:00:00.000Z' } });
    // A later event of the same transaction: once it is handled, the duplicate would have been too.
    const sentinel = envelope('dup-tx');
    await bus.publish(sentinel);
    await waitFor('the sentinel', () => calls.some((e) => e.eventId === sentinel.eventId));
    expect(calls.map((e) => e.eventId)).toEqual(['dup-event', sentinel.eventId]);
    expect(calls[0]).toEqual(first);
  });

  test('redelivers after a throw, with a growing deliveryCount, until the handler succeeds', async () => {
    const logger = recordingLogger();
    const bus = await setUp().bus({ maxDeliver: 5, logger });
    const flaky = envelope('retry-tx');
    const next = envelope('retry-tx');
    const deliveries: Array<[string, number]> = [];
    await bus.subscribe(async (env, { deliveryCount }) => {
      deliveries.push([env.eventId, deliveryCount]);
      if (env.eventId === flaky.eventId && deliveryCount < 3) throw new Error('database unavailable');
    });
    await bus.publish(flaky);
    await bus.publish(next);
    // The lane is serial, so a wrong extra redelivery of the acked event would come before `next`.
    await waitFor('the next event', () => deliveries.some(([id]) => id === next.eventId));
    expect(deliveries).toEqual([
      [flaky.eventId, 1],
      [flaky.eventId, 2],
      [flaky.eventId, 3],
      [next.eventId, 1],
    ]);
    expect(await bus.deadLetters()).toEqual([]);
    expect(logger.entries.filter((e) => e.level === 'error')).toEqual([]);
  });

  test('keeps each transaction serial and in publish order while slow handlers work', async () => {
    const bus = await setUp().bus({ maxDeliver: 5 });
    const transactions = ['order-a', 'order-b', 'order-c'];
    const published = new Map<string, string[]>(transactions.map((t) => [t, []]));
    const handled = new Map<string, string[]>(transactions.map((t) => [t, []]));
    const running = new Map<string, number>();
    const overlaps: string[] = [];
    let failOnce: string | undefined;

    await bus.subscribe(async (env, { deliveryCount }) => {
      const now = (running.get(env.transactionId) ?? 0) + 1;
      running.set(env.transactionId, now);
      if (now > 1) overlaps.push(env.eventId);
      try {
        await sleep(Math.random() * 4);
        // One event fails once: its retry must still come before the transaction's next event.
        if (env.eventId === failOnce && deliveryCount === 1) throw new Error('transient');
        handled.get(env.transactionId)!.push(env.eventId);
      } finally {
        running.set(env.transactionId, running.get(env.transactionId)! - 1);
      }
    });

    for (let i = 0; i < 50; i++) {
      const transactionId = transactions[(i * 7 + (i >> 2)) % 3]!; // interleaved, not round-robin
      const e = envelope(transactionId);
      if (i === 10) failOnce = e.eventId;
      published.get(transactionId)!.push(e.eventId);
      await bus.publish(e);
    }

    await waitFor('all 50 events', () => [...handled.values()].reduce((n, ids) => n + ids.length, 0) === 50);
    for (const t of transactions) expect(handled.get(t), t).toEqual(published.get(t));
    expect(overlaps).toEqual([]);
  });

  test('handles different transactions concurrently', async () => {
    const bus = await setUp().bus({ partitions: 4 });
    const [a, b, c] = idsInDistinctPartitions(3, 4, 'parallel');
    let inFlight = 0;
    let maxInFlight = 0;
    await bus.subscribe(async () => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      // Hold on until a second handler runs (or give up: then the assertion below fails).
      const deadline = Date.now() + 3000;
      while (inFlight < 2 && Date.now() < deadline) await sleep(5);
      await sleep(20);
      inFlight -= 1;
    });
    for (const id of [a!, b!, c!]) await bus.publish(envelope(id));
    await waitFor('all handlers done', () => maxInFlight > 0 && inFlight === 0);
    expect(maxInFlight).toBeGreaterThanOrEqual(2);
  });

  test('dead-letters a poison event after maxDeliver without blocking other transactions', async () => {
    const logger = recordingLogger();
    const bus = await setUp().bus({ partitions: 4, maxDeliver: 3, retryBackoff: () => 200, logger });
    const poisonTx = 'poison-tx';
    const otherTx = idInOtherPartition(poisonTx, 4, 'other');
    const sameLaneTx = idInSamePartition(poisonTx, 4, 'neighbour');

    const poison = envelope(poisonTx);
    const afterPoison = envelope(poisonTx);
    const others = Array.from({ length: 5 }, () => envelope(otherTx));
    const neighbour = envelope(sameLaneTx);
    const log: Array<{ eventId: string; deliveryCount: number; at: number; ok: boolean }> = [];

    await bus.subscribe(async (env, { deliveryCount }) => {
      const ok = env.eventId !== poison.eventId;
      log.push({ eventId: env.eventId, deliveryCount, at: Date.now(), ok });
      if (!ok) throw new Error('poison');
    });
    await bus.publish(poison);
    for (const e of others) await bus.publish(e);
    await bus.publish(neighbour);
    await bus.publish(afterPoison);

    await waitFor('the event after the poison', () => log.some((l) => l.eventId === afterPoison.eventId));
    await waitFor('the dead letter', async () => (await bus.deadLetters()).length === 1);

    const poisonCalls = log.filter((l) => l.eventId === poison.eventId);
    expect(poisonCalls.map((l) => l.deliveryCount)).toEqual([1, 2, 3]);
    const lastPoisonAt = poisonCalls[2]!.at;
    // Another lane is not held up by the poison's retries…
    for (const e of others) {
      const call = log.find((l) => l.eventId === e.eventId);
      expect(call?.at, `${e.eventId} before the poison gave up`).toBeLessThan(lastPoisonAt);
    }
    // …and the poison's own lane moves on once it is dead-lettered, in order.
    const neighbourCall = log.find((l) => l.eventId === neighbour.eventId)!;
    const afterCall = log.find((l) => l.eventId === afterPoison.eventId)!;
    expect(neighbourCall.at).toBeGreaterThanOrEqual(lastPoisonAt);
    expect(afterCall.at).toBeGreaterThanOrEqual(neighbourCall.at);

    const [letter] = await bus.deadLetters();
    expect(letter).toMatchObject({
      envelope: poison,
      transactionId: poisonTx,
      reason: 'handler_failed',
      deliveryCount: 3,
    });
    expect(letter!.error).toContain('poison');
    expect(JSON.parse(letter!.raw)).toEqual(poison);
    expect(Number.isNaN(Date.parse(letter!.deadAt))).toBe(false);
    expect(logger.entries).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'bus: event dead-lettered',
        details: expect.objectContaining({ eventId: poison.eventId }),
      }),
    );
  });

  test('stop() lets the handler in flight finish and acknowledges it', async () => {
    const f = setUp();
    const bus = await f.bus();
    const held = gate();
    const first = envelope('stop-tx');
    const firstCalls: number[] = [];
    const subscription = await bus.subscribe(async (env, { deliveryCount }) => {
      firstCalls.push(deliveryCount);
      await held.promise;
    });
    await bus.publish(first);
    await waitFor('the first delivery', () => firstCalls.length === 1);
    const stopped = subscription.stop();
    await sleep(50);
    held.open();
    await stopped;

    const later: string[] = [];
    await (
      await f.bus()
    ).subscribe(async (env) => {
      later.push(env.eventId);
    });
    const sentinel = envelope('stop-tx');
    await bus.publish(sentinel);
    await waitFor('the sentinel', () => later.includes(sentinel.eventId));
    expect(later).toEqual([sentinel.eventId]);
    expect(firstCalls).toEqual([1]);
  });
});
