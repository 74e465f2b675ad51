/**
 * The bus contract (src/bus/event-bus.ts), run against both implementations. The NATS run needs
 * NATS_URL (see test/helpers/nats.ts); each NATS test gets its own prefix, whose stream is deleted after.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  BusClosedError,
  BusTimeoutError,
  MalformedMessageError,
  partitionOf,
  type BusMessage,
  type Delivery,
  type EventBus,
} from '../../../src/bus/index.ts';
import { natsUrlForTests } from '../../helpers/nats.ts';
import {
  actorInSamePartition,
  actorsInDistinctPartitions,
  inProcessImplementation,
  letEverythingRun,
  message,
  natsImplementation,
  readAtLeast,
  startHost,
  track,
  waitFor,
  within,
  type BusFixture,
  type HostAnswer,
  type TestHost,
} from './support.ts';

const implementations = [inProcessImplementation(), natsImplementation(natsUrlForTests())];

describe.each(implementations)('EventBus contract: $name', (implementation) => {
  const test = it.skipIf(implementation.skip);
  /** A test of what only `name` does. */
  const testOf = (name: typeof implementation.name) =>
    it.runIf(!implementation.skip && implementation.name === name);
  let fixture: BusFixture | undefined;
  let hosts: TestHost[] = [];

  afterEach(async () => {
    await Promise.all(hosts.map((host) => host.stop()));
    hosts = [];
    await fixture?.cleanup();
    fixture = undefined;
  });

  function setUp(): BusFixture {
    fixture = implementation.fixture();
    return fixture;
  }

  function host(bus: EventBus, answer?: HostAnswer): TestHost {
    const started = startHost(bus, { answer });
    hosts.push(started);
    return started;
  }

  /** Publishes each message with `publish`, back to back (one publisher), and waits for all of them. */
  function publishBackToBack(bus: EventBus, messages: readonly BusMessage[]): Promise<void[]> {
    return Promise.all(messages.map((m) => bus.publish(m)));
  }

  /** `count` messages for the given actors, interleaved irregularly (not round-robin). */
  function interleaved(actors: readonly string[], count: number): BusMessage[] {
    return Array.from({ length: count }, (_, i) =>
      message(actors[(i * 7 + (i >> 2)) % actors.length]!, { seq: i }),
    );
  }

  /** Per partition, the ids in the order they were read must be the ids in the order they were published. */
  function expectPartitionOrder(
    bus: EventBus,
    published: readonly BusMessage[],
    read: readonly Delivery[],
  ): void {
    for (let p = 0; p < bus.partitions; p++) {
      const sent = published.filter((m) => partitionOf(m.to, bus.partitions) === p).map((m) => m.id);
      const got = read.filter((d) => d.partition === p);
      expect(
        got.map((d) => d.message.id),
        `partition ${p}`,
      ).toEqual(sent);
      const positions = got.map((d) => d.position);
      expect(positions, `positions of partition ${p}`).toEqual([...positions].sort((a, b) => a - b));
      expect(new Set(positions).size).toBe(positions.length);
    }
  }

  describe('messages', () => {
    test('hands a message over intact, in the partition of its address, at increasing positions', async () => {
      const bus = await setUp().bus();
      const body = {
        type: 'event',
        event: {
          type: 'TRANSACTION_INFO_NEEDED',
          message: 'Need the receiver’s bank — ✓ 日本 🚀 "quoted" \\ back\nslash',
          fields: { receiver_account: { description: 'IBAN', optional: false, choices: ['a', 'b'] } },
          amounts: ['100.0000001', '0'],
          nested: [[{ deep: { deeper: [null, true, 0, -1.5] } }], {}],
        },
      };
      // Addresses that are not NATS-subject-safe travel encoded and come back as sent.
      const addresses = [
        'transaction:0b6c2f54-7a55-4a43-9a43-2f2d8f4f8c11',
        'customer:GABCDEF:',
        'customer:GABCDEF:mémo 42 *>.~',
      ];
      const sent = addresses.flatMap((to) => [message(to, body), message(to, { second: true })]);
      const reading = host(bus);
      const publishedFrom = Date.now();
      await within('the publishes', publishBackToBack(bus, sent));
      const publishedBy = Date.now();
      await waitFor('every message', () => reading.deliveries.length === sent.length);

      for (const m of sent) {
        const delivery = reading.deliveries.find((d) => d.message.id === m.id)!;
        expect(delivery).toEqual({
          message: m,
          partition: partitionOf(m.to, bus.partitions),
          position: expect.any(Number),
          replyTo: null,
          publishedAt: expect.any(Number),
        });
        expect(delivery.position).toBeGreaterThan(0);
        // When the bus took it (the NATS server's clock, here on the same machine): the bus lag's start.
        expect(delivery.publishedAt).toBeGreaterThanOrEqual(publishedFrom - 1_000);
        expect(delivery.publishedAt).toBeLessThanOrEqual(publishedBy + 1_000);
        expect(delivery.malformed).toBeUndefined();
      }
      expectPartitionOrder(bus, sent, reading.deliveries);
    });

    test('keeps one publisher’s publish order per partition, across many actors and partitions', async () => {
      const bus = await setUp().bus();
      const actors = Array.from({ length: 12 }, (_, i) => `transaction:order-${i}`);
      expect(new Set(actors.map((a) => partitionOf(a, bus.partitions))).size).toBe(bus.partitions);
      const sent = interleaved(actors, 120);
      const reading = host(bus);
      await within('the publishes', publishBackToBack(bus, sent));
      await waitFor('every message', () => reading.deliveries.length === sent.length);
      expectPartitionOrder(bus, sent, reading.deliveries);
    });

    test('publishMany keeps the order of its list per partition, and resolves once all are durable', async () => {
      const bus = await setUp().bus();
      const actors = Array.from({ length: 12 }, (_, i) => `transaction:many-${i}`);
      const first = interleaved(actors, 60);
      const second = interleaved(actors, 60);
      const reading = host(bus);
      await within('publishMany', bus.publishMany(first));
      await within('publishMany', bus.publishMany(second));
      await waitFor('every message', () => reading.deliveries.length === 120);
      expectPartitionOrder(bus, [...first, ...second], reading.deliveries);
      await within('an empty publishMany', bus.publishMany([]));
    });

    test('the same id published twice is read once, also after the first was settled', async () => {
      const bus = await setUp().bus();
      const to = 'transaction:dedupe';
      const original = message(to, { version: 1 }, 'same-id');
      const repeat = { ...original, body: { version: 2 } };
      const reading = host(bus);
      await within('the publishes', publishBackToBack(bus, [original, repeat]));
      await within('the repeat after settling', bus.publish(repeat));
      // A later message of the same actor: once it is read, a stored duplicate would have been too.
      const sentinel = message(to);
      await within('the sentinel', bus.publish(sentinel));
      await waitFor('the sentinel', () => reading.ids().includes(sentinel.id));
      expect(reading.of(to).map((d) => d.message)).toEqual([original, sentinel]);
    });
  });

  describe('reading', () => {
    test('read(partition, after) starts after `after`; a reopened reader re-reads what came after it', async () => {
      const bus = await setUp().bus();
      const to = 'transaction:positions';
      const p = partitionOf(to, bus.partitions);
      const sent = [1, 2, 3, 4].map((n) => message(to, { n }));
      // Not awaited: in-process publishes resolve at settle, which comes at the end.
      const published = sent.map((m) => track(bus.publish(m)));

      const first = bus.read(p, 0);
      const { deliveries } = await readAtLeast(first, 4);
      expect(deliveries.map((d) => d.message)).toEqual(sent);
      const positions = deliveries.map((d) => d.position);
      await first.close();
      expect(await first.next(10)).toEqual([]);

      const reopened = bus.read(p, positions[1]!);
      const again = await readAtLeast(reopened, 2);
      expect(again.deliveries.map((d) => [d.message.id, d.position])).toEqual([
        [sent[2]!.id, positions[2]],
        [sent[3]!.id, positions[3]],
      ]);
      await reopened.close();

      const fromTheEnd = bus.read(p, positions[3]!);
      const fifth = message(to, { n: 5 });
      const fifthPublished = track(bus.publish(fifth));
      const [next] = (await readAtLeast(fromTheEnd, 1)).deliveries;
      expect(next!.message).toEqual(fifth);
      expect(next!.position).toBeGreaterThan(positions[3]!);
      await fromTheEnd.close();

      bus.settle(p, next!.position);
      await waitFor('every publish resolved', () =>
        [...published, fifthPublished].every((t) => t.state === 'resolved'),
      );
    });

    test('next() returns [] once its signal aborts, the reader closes or the bus closes', async () => {
      const bus = await setUp().bus();
      const to = 'transaction:abort';
      const p = partitionOf(to, bus.partitions);
      const reader = bus.read(p, 0);

      const aborted = new AbortController();
      const waiting = reader.next(10, aborted.signal);
      aborted.abort();
      expect(await within('next() after abort', waiting)).toEqual([]);
      expect(await reader.next(10, AbortSignal.abort())).toEqual([]);

      // The reader still works after an aborted wait.
      const m = message(to);
      const published = track(bus.publish(m));
      const [delivery] = (await readAtLeast(reader, 1)).deliveries;
      expect(delivery!.message).toEqual(m);
      bus.settle(p, delivery!.position);
      await waitFor('the publish', () => published.state === 'resolved');

      const waitingAtClose = reader.next(10);
      await reader.close();
      expect(await within('next() after reader.close()', waitingAtClose)).toEqual([]);
      await reader.close(); // idempotent

      const other = bus.read(p, 0);
      const waitingAtBusClose = other.next(10);
      await bus.close();
      expect(await within('next() after bus.close()', waitingAtBusClose)).toEqual([]);
      expect(await other.next(10)).toEqual([]);
    });

    test('next(max) returns at most max messages, and as soon as one is there', async () => {
      const bus = await setUp().bus();
      const to = 'transaction:batches';
      const p = partitionOf(to, bus.partitions);
      const reader = bus.read(p, 0);

      // Only one message ever exists when this resolves: next() did not wait for ten.
      const waiting = reader.next(10);
      const lone = message(to, { lone: true });
      const lonePublished = track(bus.publish(lone));
      const batch = await within('next(10) with one message there', waiting);
      expect(batch.map((d) => d.message)).toEqual([lone]);

      const sent = Array.from({ length: 20 }, (_, n) => message(to, { n }));
      const published = sent.map((m) => track(bus.publish(m)));
      // Another reader sees all of them first, so this reader's next() calls find several waiting.
      await readAtLeast(bus.read(p, batch[0]!.position), sent.length);
      const { deliveries, batches } = await readAtLeast(reader, sent.length, { max: 3 });
      expect(deliveries.map((d) => d.message)).toEqual(sent);
      for (const b of batches) expect(b.length).toBeLessThanOrEqual(3);
      expect(batches.some((b) => b.length === 3)).toBe(true);

      bus.settle(p, deliveries.at(-1)!.position);
      await waitFor('every publish resolved', () =>
        [lonePublished, ...published].every((t) => t.state === 'resolved'),
      );
    });
  });

  describe('durability of publish', () => {
    testOf('in-process')('in-process: publish resolves only once the message is settled', async () => {
      const bus = await setUp().bus();
      const to = 'transaction:settle';
      const p = partitionOf(to, bus.partitions);
      const [a, b] = [message(to), message(to)];
      const publishedA = track(bus.publish(a));
      const publishedB = track(bus.publish(b));
      const reader = bus.read(p, 0);
      const [readA, readB] = (await readAtLeast(reader, 2)).deliveries;
      expect([readA!.message, readB!.message]).toEqual([a, b]);

      // Read is not enough, and settling below a message's position does not settle it.
      await letEverythingRun();
      expect([publishedA.state, publishedB.state]).toEqual(['pending', 'pending']);
      bus.settle(p, readA!.position - 1);
      await letEverythingRun();
      expect([publishedA.state, publishedB.state]).toEqual(['pending', 'pending']);

      bus.settle(p, readA!.position);
      await letEverythingRun();
      expect([publishedA.state, publishedB.state]).toEqual(['resolved', 'pending']);

      bus.settle(p, readB!.position);
      await letEverythingRun();
      expect(publishedB.state).toBe('resolved');
      expect(bus.durable).toBe(false);
    });

    testOf('nats')(
      'NATS: publish resolves once stored, with no reader at all, and the message outlives the publisher',
      async () => {
        const f = setUp();
        const publisher = await f.bus();
        const to = 'transaction:stored';
        const m = message(to, { stored: true });
        await within('a publish without any reader', publisher.publish(m));
        await publisher.close();

        const later = await f.bus();
        const [delivery] = (await readAtLeast(later.read(partitionOf(to, later.partitions), 0), 1))
          .deliveries;
        expect(delivery!.message).toEqual(m);
        expect(later.durable).toBe(true);
        expect(later.epoch).toBe(publisher.epoch);
      },
    );
  });

  describe('requests', () => {
    test('request resolves with the answer to its delivery, as a JSON round trip', async () => {
      const bus = await setUp().bus();
      const to = 'transaction:request';
      const reading = host(bus, () => ({
        outcome: 'applied',
        at: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
        lines: [{ amount: '10.5', note: 'ünïcode ✓' }],
        dropped: undefined,
      }));
      const m = message(to, { type: 'create', amount: '10.5' });
      const answer = await within('the answer', bus.request(m, { timeoutMs: 5_000 }));
      expect(answer).toEqual({
        outcome: 'applied',
        at: '2026-01-02T03:04:05.000Z',
        lines: [{ amount: '10.5', note: 'ünïcode ✓' }],
      });
      expect(answer).not.toHaveProperty('dropped');
      const [delivery] = reading.of(to);
      expect(delivery!.message).toEqual(m);
      expect(delivery!.replyTo).toEqual(expect.any(String));
    });

    test('request rejects with BusTimeoutError when nobody answers; the message stays readable', async () => {
      const bus = await setUp().bus({ requestTimeoutMs: 300 });
      const to = 'transaction:unanswered';
      const m = message(to);
      await expect(bus.request(m)).rejects.toBeInstanceOf(BusTimeoutError);
      await expect(bus.request(message(to), { timeoutMs: 200 })).rejects.toBeInstanceOf(BusTimeoutError);

      // Nobody answered, but the request was published: a host may still apply it later.
      const reader = bus.read(partitionOf(to, bus.partitions), 0);
      const { deliveries } = await readAtLeast(reader, 2);
      expect(deliveries[0]!.message).toEqual(m);
      expect(deliveries.every((d) => d.replyTo !== null)).toBe(true);
      bus.reply(deliveries[0]!.replyTo!, { late: true }); // an answer nobody waits for is harmless
      bus.settle(deliveries[0]!.partition, deliveries[1]!.position);
      await reader.close();
    });

    test('a request whose id was already published is delivered and answered, not dropped', async () => {
      const bus = await setUp().bus();
      const to = 'transaction:repeated-request';
      const reading = host(bus, (delivery, h) => ({
        readsOfThisId: h.deliveries.filter((d) => d.message.id === delivery.message.id).length,
      }));
      const m = message(to, { type: 'send' });
      await within('the publish', bus.publish(m));
      expect(await within('the first request', bus.request(m, { timeoutMs: 5_000 }))).toEqual({
        readsOfThisId: 2,
      });
      expect(await within('the second request', bus.request(m, { timeoutMs: 5_000 }))).toEqual({
        readsOfThisId: 3,
      });
      expect(reading.of(to).map((d) => [d.message, d.replyTo === null])).toEqual([
        [m, true],
        [m, false],
        [m, false],
      ]);
    });
  });

  describe('signals', () => {
    test('a signal reaches the subscribers of its topic on every bus of the namespace, and no others', async () => {
      const f = setUp();
      const [sender, receiver] = [await f.bus(), await f.bus()];
      const seen: string[] = [];
      const subscriptions = [
        receiver.signals('outbox.status_changed').subscribe(() => seen.push('receiver:status_changed')),
        receiver.signals('outbox.execute_payout').subscribe(() => seen.push('receiver:execute_payout')),
        receiver.signals('outbox').subscribe(() => seen.push('receiver:outbox')),
        sender.signals('outbox.status_changed').subscribe(() => seen.push('sender:status_changed')),
        receiver.signals('test.sentinel').subscribe(() => seen.push('receiver:sentinel')),
      ];
      // The subscriptions are in place once a round trip to the server came back.
      await Promise.all([sender.ready(), receiver.ready()]);

      sender.signal('outbox.status_changed');
      // Sent after it: once it arrived, a misrouted copy of the first would have too.
      sender.signal('test.sentinel');
      await waitFor(
        'the sentinel',
        () => seen.includes('receiver:sentinel') && seen.includes('sender:status_changed'),
      );
      expect(seen.filter((s) => s.startsWith('receiver:'))).toEqual([
        'receiver:status_changed',
        'receiver:sentinel',
      ]);
      expect(seen.filter((s) => s.startsWith('sender:'))).toEqual(['sender:status_changed']);

      // After unsubscribing, nothing more arrives.
      subscriptions[0]!.unsubscribe();
      seen.length = 0;
      sender.signal('outbox.status_changed');
      sender.signal('test.sentinel');
      await waitFor('the second sentinel', () => seen.includes('receiver:sentinel'));
      expect(seen.filter((s) => s.startsWith('receiver:'))).toEqual(['receiver:sentinel']);
      for (const subscription of subscriptions) subscription.unsubscribe();
    });

    test('invalid topics throw', async () => {
      const bus = await setUp().bus();
      for (const topic of ['', 'a..b', '.a', 'a.', 'a b', 'a.*', '>', 'outbox.>', 'ü']) {
        expect(() => bus.signal(topic), topic).toThrow(/Invalid signal topic/);
        expect(() => bus.signals(topic), topic).toThrow(/Invalid signal topic/);
      }
      expect(() => bus.signal('outbox.execute_payout')).not.toThrow();
    });
  });

  describe('close', () => {
    testOf('in-process')(
      'in-process: close() rejects publishes and requests waiting for their settle with BusClosedError',
      async () => {
        const bus = await setUp().bus();
        const to = 'transaction:closing';
        const published = bus.publish(message(to));
        const requested = bus.request(message(to), { timeoutMs: 5_000 });
        const many = bus.publishMany([message(to), message('transaction:closing-too')]);
        await within('the reader', readAtLeast(bus.read(partitionOf(to, bus.partitions), 0), 2));
        await bus.close();
        await expect(published).rejects.toBeInstanceOf(BusClosedError);
        await expect(requested).rejects.toBeInstanceOf(BusClosedError);
        await expect(many).rejects.toBeInstanceOf(BusClosedError);
      },
    );

    test('after close(), ready(), publish and request reject with BusClosedError; close is idempotent', async () => {
      const bus = await setUp().bus();
      await expect(bus.ready()).resolves.toBeUndefined();
      await bus.close();
      await bus.close();
      await expect(bus.ready()).rejects.toBeInstanceOf(BusClosedError);
      await expect(bus.publish(message('transaction:late'))).rejects.toBeInstanceOf(BusClosedError);
      await expect(bus.publishMany([message('transaction:late')])).rejects.toBeInstanceOf(BusClosedError);
      await expect(bus.request(message('transaction:late'), { timeoutMs: 5_000 })).rejects.toBeInstanceOf(
        BusClosedError,
      );
      expect(() => bus.signal('outbox.late')).not.toThrow(); // best effort: silently nothing
    });
  });

  describe('malformed messages', () => {
    const to = 'transaction:malformed';
    const malformed: Array<[string, unknown]> = [
      ['an empty id', { id: '', to, body: {} }],
      ['an id with a line feed', { id: 'a\nb', to, body: {} }],
      ['an id with a carriage return', { id: 'a\rb', to, body: {} }],
      ['an id of 513 characters', { id: 'x'.repeat(513), to, body: {} }],
      ['an id that is not a string', { id: 42, to, body: {} }],
      ['an empty address', { id: 'bad-to', to: '', body: {} }],
      ['no address', { id: 'no-to', body: {} }],
      ['no body', { id: 'no-body', to }],
      ['an undefined body', { id: 'undefined-body', to, body: undefined }],
    ];

    test('publish, publishMany and request reject them, and nothing of them is stored', async () => {
      const bus = await setUp().bus();
      for (const [what, bad] of malformed) {
        const m = bad as BusMessage;
        await expect(bus.publish(m), what).rejects.toBeInstanceOf(MalformedMessageError);
        await expect(bus.publishMany([m]), what).rejects.toBeInstanceOf(MalformedMessageError);
        await expect(bus.request(m, { timeoutMs: 5_000 }), what).rejects.toBeInstanceOf(
          MalformedMessageError,
        );
      }
      // The first thing the partition holds is the message published after all of them.
      const sentinel = message(to);
      const published = track(bus.publish(sentinel));
      const p = partitionOf(to, bus.partitions);
      const reader = bus.read(p, 0);
      const [first] = (await readAtLeast(reader, 1)).deliveries;
      expect(first!.message).toEqual(sentinel);
      bus.settle(p, first!.position);
      await waitFor('the sentinel publish', () => published.state === 'resolved');
      await reader.close();
    });

    test('a message rejected for its body is not remembered as seen: fixed and sent again, it is read', async () => {
      const bus = await setUp().bus();
      const reading = host(bus);
      const id = 'fixed-later';
      await expect(bus.publish({ id, to, body: { amount: 10n } })).rejects.toThrow();
      const fixed = message(to, { amount: '10' }, id);
      await within('the fixed publish', bus.publish(fixed));
      await waitFor('the fixed message', () => reading.ids().includes(id));
      expect(reading.of(to).map((d) => d.message)).toEqual([fixed]);
    });
  });

  test('a message for another actor of the same partition does not jump the queue', async () => {
    const bus = await setUp().bus();
    const [a] = actorsInDistinctPartitions(1, bus.partitions, 'queue');
    const b = actorInSamePartition(a!, bus.partitions, 'queue-neighbour');
    const sent = [message(a!), message(b), message(a!), message(b)];
    const reading = host(bus);
    await within('the publishes', publishBackToBack(bus, sent));
    await waitFor('every message', () => reading.deliveries.length === sent.length);
    expect(reading.deliveries.map((d) => d.message.id)).toEqual(sent.map((m) => m.id));
  });
});
