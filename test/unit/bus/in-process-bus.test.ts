/**
 * What only the in-process bus does (the shared contract runs in test/integration/bus/bus-contract.test.ts,
 * where the in-process run needs no service either).
 */
import { describe, expect, it } from 'vitest';
import {
  BusTimeoutError,
  DEFAULT_PARTITIONS,
  createBus,
  createInProcessBus,
  partitionOf,
  silentLogger,
  type BusMessage,
  type Delivery,
  type EventBus,
  type PartitionReader,
} from '../../../src/bus/index.ts';
import { resolveBusOptions } from '../../../src/bus/event-bus.ts';

const to = 'transaction:unit';
const message = (id: string, body: unknown = {}): BusMessage => ({ id, to, body });

/** Reads `count` deliveries (the in-process bus has them at once once published). */
async function read(reader: PartitionReader, count: number): Promise<Delivery[]> {
  const deliveries: Delivery[] = [];
  const signal = AbortSignal.timeout(5000);
  while (deliveries.length < count) {
    const batch = await reader.next(count - deliveries.length, signal);
    if (batch.length === 0) throw new Error(`read ${deliveries.length} of ${count}`);
    deliveries.push(...batch);
  }
  return deliveries;
}

/** Publishes without waiting for the settle (in-process publishes resolve only then, or reject at close). */
function publishUnawaited(bus: EventBus, m: BusMessage): void {
  bus.publish(m).catch(() => {});
}

function partition(bus: EventBus): number {
  return partitionOf(to, bus.partitions);
}

describe('in-process bus', () => {
  it('describes itself: not durable, its own stream, a fresh epoch per instance', async () => {
    const [a, b] = [
      createInProcessBus({ logger: silentLogger }),
      createInProcessBus({ logger: silentLogger }),
    ];
    expect(a).toMatchObject({ kind: 'in-process', stream: 'in-process', durable: false });
    expect(a.partitions).toBe(DEFAULT_PARTITIONS);
    expect(createInProcessBus({ partitions: 3 }).partitions).toBe(3);
    // Created in the same millisecond or not, each instance starts positions at 1 again.
    expect(a.epoch).not.toBe(b.epoch);
    await Promise.all([a.close(), b.close()]);
  });

  it('starts positions at 1 in every partition, and counts them per partition', async () => {
    const bus = createInProcessBus({ partitions: 2, logger: silentLogger });
    const [x, y] = ['transaction:a', 'transaction:b', 'transaction:c', 'transaction:d']
      .map((address) => ({ address, p: partitionOf(address, 2) }))
      .reduce<Array<string | undefined>>((found, { address, p }) => {
        found[p] ??= address;
        return found;
      }, []);
    for (const address of [x!, y!, x!]) {
      publishUnawaited(bus, { id: `${address}-${Math.random()}`, to: address, body: {} });
    }
    const first = await read(bus.read(partitionOf(x!, 2), 0), 2);
    const second = await read(bus.read(partitionOf(y!, 2), 0), 1);
    expect(first.map((d) => d.position)).toEqual([1, 2]);
    expect(second.map((d) => d.position)).toEqual([1]);
    await bus.close();
  });

  it('remembers only the last dedupeWindow ids (bounded memory)', async () => {
    const bus = createInProcessBus({ dedupeWindow: 2, logger: silentLogger });
    for (const id of ['a', 'b', 'a', 'c', 'd', 'a']) publishUnawaited(bus, message(id));
    // 'a' was a duplicate while among the last 2 ids seen, and new again once c and d pushed it out.
    const deliveries = await read(bus.read(partition(bus), 0), 5);
    expect(deliveries.map((d) => d.message.id)).toEqual(['a', 'b', 'c', 'd', 'a']);
    await bus.close();
  });

  it('forgets settled messages: a reader opened later starts at the first unsettled one', async () => {
    const bus = createInProcessBus({ logger: silentLogger });
    const published = ['s1', 's2', 's3'].map((id) => bus.publish(message(id)));
    const [first, second] = await read(bus.read(partition(bus), 0), 2);
    bus.settle(partition(bus), second!.position);
    await Promise.all(published.slice(0, 2));
    const [next] = await read(bus.read(partition(bus), 0), 1);
    expect(next!.message.id).toBe('s3');
    expect(next!.position).toBe(first!.position + 2);
    bus.settle(partition(bus), next!.position);
    await Promise.all(published);
    await bus.close();
  });

  it('hands readers a copy: changing the published object later changes nothing', async () => {
    const bus = createInProcessBus({ logger: silentLogger });
    const body = { amount: '1', when: new Date(Date.UTC(2026, 0, 1)) };
    publishUnawaited(bus, { id: 'copy', to, body });
    body.amount = '2';
    const [delivery] = await read(bus.read(partition(bus), 0), 1);
    expect(delivery!.message.body).toEqual({ amount: '1', when: '2026-01-01T00:00:00.000Z' });
    await bus.close();
  });

  it('ignores answers nobody waits for, and a second answer to the same request', async () => {
    const bus = createInProcessBus({ logger: silentLogger });
    const answer = bus.request(message('asked'), { timeoutMs: 5000 });
    const [delivery] = await read(bus.read(partition(bus), 0), 1);
    expect(() => bus.reply('in-process-reply-unknown', { x: 1 })).not.toThrow();
    bus.reply(delivery!.replyTo!, { first: true });
    bus.reply(delivery!.replyTo!, { second: true });
    expect(await answer).toEqual({ first: true });
    bus.settle(partition(bus), delivery!.position);
    await bus.close();
  });

  it('uses requestTimeoutMs when a request names no timeout', async () => {
    const bus = createInProcessBus({ requestTimeoutMs: 50, logger: silentLogger });
    await expect(bus.request(message('slow'))).rejects.toBeInstanceOf(BusTimeoutError);
    await bus.close();
  });

  it('warns about unsettled messages at close, and completes its signals', async () => {
    const warnings: Array<[object, string]> = [];
    const bus = createInProcessBus({
      logger: { warn: (details, text) => warnings.push([details, text]), error: () => {} },
    });
    const published = [bus.publish(message('lost-1')), bus.publish(message('lost-2'))].map((p) =>
      p.then(
        () => 'settled',
        (error: unknown) => (error as Error).name,
      ),
    );
    let completed = false;
    bus.signals('outbox.status_changed').subscribe({ complete: () => (completed = true) });
    await bus.close();
    expect(await Promise.all(published)).toEqual(['BusClosedError', 'BusClosedError']);
    expect(warnings).toEqual([[{ lost: 2 }, expect.stringContaining('closed with messages not applied')]]);
    expect(completed).toBe(true);
  });

  it('rejects a partition it does not have', async () => {
    const bus = createInProcessBus({ partitions: 2, logger: silentLogger });
    for (const p of [-1, 2, 1.5]) {
      expect(() => bus.read(p, 0)).toThrow(RangeError);
      expect(() => bus.settle(p, 1)).toThrow(RangeError);
    }
    await bus.close();
  });
});

describe('bus options', () => {
  it('fills in defaults', () => {
    expect(resolveBusOptions()).toMatchObject({
      partitions: 16,
      dedupeWindow: 100_000,
      requestTimeoutMs: 10_000,
    });
  });

  it.each([
    [{ partitions: 0 }, /partitions/],
    [{ partitions: 1.5 }, /partitions/],
    [{ dedupeWindow: 0 }, /dedupeWindow/],
    [{ requestTimeoutMs: 0 }, /requestTimeoutMs/],
    [{ requestTimeoutMs: Number.NaN }, /requestTimeoutMs/],
  ])('rejects %o', (options, message) => {
    expect(() => resolveBusOptions(options)).toThrow(message);
    expect(() => createInProcessBus(options)).toThrow(RangeError);
  });
});

describe('createBus', () => {
  it('is in-process without a NATS URL', async () => {
    for (const natsUrl of [undefined, null, '']) {
      const bus = await createBus({ natsUrl, partitions: 2, logger: silentLogger });
      expect(bus.kind).toBe('in-process');
      expect(bus.partitions).toBe(2);
      await bus.close();
    }
  });
});
