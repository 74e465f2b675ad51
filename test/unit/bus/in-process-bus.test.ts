import { describe, expect, it } from 'vitest';
import type { TransactionEventEnvelope } from '../../../machines/transaction/events.ts';
import { createBus, createInProcessBus, exponentialBackoff, silentLogger } from '../../../src/bus/index.ts';

const at = '2026-01-01T00:00:00.000Z';
const envelope = (eventId: string, transactionId = 't'): TransactionEventEnvelope => ({
  eventId,
  transactionId,
  event: { type: 'EXPIRE', at },
});

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('in-process bus', () => {
  it('remembers only the last dedupeWindow event ids (bounded memory)', async () => {
    const bus = createInProcessBus({ dedupeWindow: 2, logger: silentLogger });
    const seen: string[] = [];
    await bus.subscribe(async (e) => {
      seen.push(e.eventId);
    });
    for (const id of ['a', 'b', 'a', 'c', 'a']) await bus.publish(envelope(id));
    // 'a' was a duplicate while still among the last 2 ids, and new again once b and c pushed it out.
    await until(() => seen.length === 4);
    expect(seen).toEqual(['a', 'b', 'c', 'a']);
    await bus.close();
  });

  it('waits retryBackoff(deliveryCount) between deliveries', async () => {
    const asked: number[] = [];
    const bus = createInProcessBus({
      maxDeliver: 3,
      retryBackoff: (n) => {
        asked.push(n);
        return 30;
      },
      logger: silentLogger,
    });
    const times: number[] = [];
    await bus.subscribe(async () => {
      times.push(Date.now());
      throw new Error('no');
    });
    await bus.publish(envelope('x'));
    await until(() => times.length === 3);
    expect(asked).toEqual([1, 2]);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(25);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(25);
    await bus.close();
  });

  it('hands each event to one of several subscribers', async () => {
    const bus = createInProcessBus({ partitions: 4, logger: silentLogger });
    const by = { a: [] as string[], b: [] as string[] };
    await bus.subscribe(async (e) => {
      by.a.push(e.eventId);
    });
    await bus.subscribe(async (e) => {
      by.b.push(e.eventId);
    });
    for (let i = 0; i < 20; i++) await bus.publish(envelope(`e${i}`, `t${i % 5}`));
    await until(() => by.a.length + by.b.length === 20);
    expect(new Set([...by.a, ...by.b]).size).toBe(20);
    expect(by.a.length).toBeGreaterThan(0);
    expect(by.b.length).toBeGreaterThan(0);
    await bus.close();
  });

  it('keeps at most maxDeadLetters, logging the ones it drops', async () => {
    const errors: string[] = [];
    const bus = createInProcessBus({
      maxDeliver: 1,
      maxDeadLetters: 2,
      logger: { warn: () => {}, error: (_d, message) => errors.push(message) },
    });
    await bus.subscribe(async () => {
      throw new Error('poison');
    });
    for (const id of ['p1', 'p2', 'p3']) await bus.publish(envelope(id));
    await until(() => errors.filter((m) => m === 'bus: event dead-lettered').length === 3);
    expect((await bus.deadLetters()).map((l) => l.envelope?.eventId)).toEqual(['p2', 'p3']);
    expect(errors).toContain('bus: too many dead letters kept in memory; dropped the oldest');
    await bus.close();
  });

  it('warns about events still queued at close, and refuses to publish afterwards', async () => {
    const warnings: object[] = [];
    const bus = createInProcessBus({ logger: { warn: (d) => warnings.push(d), error: () => {} } });
    await bus.publish(envelope('never-delivered'));
    await bus.close();
    expect(warnings).toEqual([{ lost: 1 }]);
    await expect(bus.publish(envelope('late'))).rejects.toThrow(/closed/);
  });

  it('rejects a malformed envelope at publish', async () => {
    const bus = createInProcessBus({ logger: silentLogger });
    await expect(
      bus.publish({ eventId: '', transactionId: 't', event: { type: 'EXPIRE', at } }),
    ).rejects.toThrow(/eventId/);
    await bus.close();
  });
});

describe('exponentialBackoff', () => {
  it('doubles from initialMs up to maxMs', () => {
    const backoff = exponentialBackoff({ initialMs: 100, maxMs: 1000 });
    expect([1, 2, 3, 4, 5, 6].map(backoff)).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
});

describe('createBus', () => {
  it('is in-process without a NATS URL', async () => {
    const bus = await createBus({ logger: silentLogger });
    const seen: string[] = [];
    await bus.subscribe(async (e) => {
      seen.push(e.eventId);
    });
    await bus.publish(envelope('one'));
    await until(() => seen.length === 1);
    await bus.close();
  });
});
