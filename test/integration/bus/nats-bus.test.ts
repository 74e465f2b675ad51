/**
 * What only the NATS bus promises: durability, redelivery after a crash, surviving a server restart,
 * several processes sharing the work, and the JetStream resources it sets up.
 */
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TransactionEventEnvelope } from '../../../machines/transaction/events.ts';
import { createNatsBus, partitionOf } from '../../../src/bus/index.ts';
import { eventSubject } from '../../../src/bus/subjects.ts';
import { natsUrlForTests, startPrivateNatsServer, type PrivateNatsServer } from '../../helpers/nats.ts';
import {
  envelope,
  gate,
  idsInDistinctPartitions,
  natsFixture,
  recordingLogger,
  sleep,
  waitFor,
  type NatsFixture,
} from './support.ts';

const natsUrl = natsUrlForTests();

describe.skipIf(natsUrl === undefined)('NATS bus', () => {
  const url = natsUrl!;
  let fixture: NatsFixture;

  afterEach(async () => {
    await fixture?.cleanup();
  });

  it('keeps an event published while no subscriber runs, and delivers it to the next one', async () => {
    fixture = natsFixture(url);
    const first = await fixture.bus();
    const subscription = await first.subscribe(async () => {});
    await subscription.stop();
    const sent = envelope('durable-tx');
    await first.publish(sent);
    await first.close();

    const received: TransactionEventEnvelope[] = [];
    await (
      await fixture.bus()
    ).subscribe(async (env) => {
      received.push(env);
    });
    await waitFor('the stored event', () => received.length === 1);
    expect(received).toEqual([sent]);
  });

  it('redelivers to a new subscriber an event whose handler was cut off (crash), after ackWait', async () => {
    fixture = natsFixture(url, { ackWaitMs: 1000 });
    const crashed = await fixture.bus({ stopTimeoutMs: 50 });
    const stuck = gate();
    const crashedCalls: number[] = [];
    const subscription = await crashed.subscribe(async (_env, { deliveryCount }) => {
      crashedCalls.push(deliveryCount);
      await stuck.promise;
    });
    const sent = envelope('crash-tx');
    await crashed.publish(sent);
    await waitFor('the first delivery', () => crashedCalls.length === 1);
    await subscription.stop(); // gives up on the stuck handler: no ack, no nak
    const stoppedAt = Date.now();

    const received: Array<{ env: TransactionEventEnvelope; deliveryCount: number; at: number }> = [];
    await (
      await fixture.bus()
    ).subscribe(async (env, { deliveryCount }) => {
      received.push({ env, deliveryCount, at: Date.now() });
    });
    await waitFor('the redelivery', () => received.length === 1);
    expect(received[0]!.env).toEqual(sent);
    expect(received[0]!.deliveryCount).toBe(2);
    // The stuck handler kept the message (working()) until it was cut off; the redelivery waited ackWait.
    expect(received[0]!.at - stoppedAt).toBeGreaterThanOrEqual(500);

    stuck.open(); // the straggler finishes late; its outcome must not ack anything or throw
    await sleep(20);
    expect(crashedCalls).toEqual([1]);
  });

  it('dead-letters an event that keeps coming back unacknowledged (maxDeliver exceeded by crashes)', async () => {
    fixture = natsFixture(url, { ackWaitMs: 500, maxDeliver: 1 });
    const crashed = await fixture.bus({ stopTimeoutMs: 20 });
    const stuck = gate();
    let crashedCalls = 0;
    const subscription = await crashed.subscribe(async () => {
      crashedCalls += 1;
      await stuck.promise;
    });
    const sent = envelope('crash-loop-tx');
    await crashed.publish(sent);
    await waitFor('the first delivery', () => crashedCalls === 1);
    await subscription.stop();

    const next = await fixture.bus({ logger: recordingLogger() });
    const received: string[] = [];
    await next.subscribe(async (env) => {
      received.push(env.eventId);
    });
    const sentinel = envelope('crash-loop-tx');
    await next.publish(sentinel);
    await waitFor('the sentinel', () => received.includes(sentinel.eventId));
    expect(received).toEqual([sentinel.eventId]);
    const letters = await next.deadLetters();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ envelope: sent, reason: 'max_deliver_exceeded', deliveryCount: 2 });
    stuck.open();
  });

  it('dead-letters malformed messages and keeps consuming', async () => {
    fixture = natsFixture(url);
    const bus = await fixture.bus();
    const received: string[] = [];
    await bus.subscribe(async (env) => {
      received.push(env.eventId);
    });
    const nc = await connect({ servers: url });
    try {
      const js = jetstream(nc);
      const subject = eventSubject(fixture.subjectPrefix, partitionOf('bad-tx', 4), 'bad-tx');
      await js.publish(subject, 'not json');
      await js.publish(subject, JSON.stringify({ eventId: 42, event: { type: 'EXPIRE' } }));
    } finally {
      await nc.close();
    }
    const valid = envelope('bad-tx');
    await bus.publish(valid);
    await waitFor('the valid event', () => received.includes(valid.eventId));
    await waitFor('two dead letters', async () => (await bus.deadLetters()).length === 2);
    const letters = await bus.deadLetters();
    expect(letters.map((l) => [l.reason, l.envelope, l.transactionId, l.raw])).toEqual([
      ['malformed', null, 'bad-tx', 'not json'],
      ['malformed', null, 'bad-tx', '{"eventId":42,"event":{"type":"EXPIRE"}}'],
    ]);
    expect(letters[0]!.error).toContain('MalformedEnvelopeError');
    expect(received).toEqual([valid.eventId]);
  });

  it('keeps a slow handler’s message (working()) instead of redelivering it after ackWait', async () => {
    fixture = natsFixture(url, { ackWaitMs: 300 });
    const calls: Array<[string, number]> = [];
    const handler = async (env: TransactionEventEnvelope, { deliveryCount }: { deliveryCount: number }) => {
      calls.push([env.eventId, deliveryCount]);
      if (calls.length === 1) await sleep(1000); // > 3 × ackWait
    };
    await (await fixture.bus()).subscribe(handler);
    const other = await fixture.bus();
    await other.subscribe(handler); // a second process that would get a redelivery
    const slow = envelope('slow-tx');
    const sentinel = envelope('slow-tx');
    await other.publish(slow);
    await other.publish(sentinel);
    await waitFor('the sentinel', () => calls.some(([id]) => id === sentinel.eventId));
    expect(calls).toEqual([
      [slow.eventId, 1],
      [sentinel.eventId, 1],
    ]);
  });

  it('shares the work between two processes and still runs each transaction serially, in order', async () => {
    fixture = natsFixture(url, { maxDeliver: 5 });
    const [a, b] = [await fixture.bus(), await fixture.bus()];
    const transactions = Array.from({ length: 6 }, (_, i) => `shared-${i}`);
    const published = new Map<string, string[]>(transactions.map((t) => [t, []]));
    const handled = new Map<string, string[]>(transactions.map((t) => [t, []]));
    const byProcess = { a: 0, b: 0 };
    const running = new Map<string, number>();
    const overlaps: string[] = [];
    const handlerFor = (name: 'a' | 'b') => async (env: TransactionEventEnvelope) => {
      const now = (running.get(env.transactionId) ?? 0) + 1;
      running.set(env.transactionId, now);
      if (now > 1) overlaps.push(env.eventId);
      try {
        await sleep(2 + Math.random() * 4);
        handled.get(env.transactionId)!.push(env.eventId);
        byProcess[name] += 1;
      } finally {
        running.set(env.transactionId, running.get(env.transactionId)! - 1);
      }
    };
    await a.subscribe(handlerFor('a'));
    await b.subscribe(handlerFor('b'));
    for (let i = 0; i < 60; i++) {
      const e = envelope(transactions[(i * 5 + (i >> 3)) % 6]!);
      published.get(e.transactionId)!.push(e.eventId);
      await (i % 2 === 0 ? a : b).publish(e);
    }
    await waitFor('all 60 events', () => byProcess.a + byProcess.b === 60);
    for (const t of transactions) expect(handled.get(t), t).toEqual(published.get(t));
    expect(overlaps).toEqual([]);
    expect(byProcess.a).toBeGreaterThan(0);
    expect(byProcess.b).toBeGreaterThan(0);
  });

  it('creates its stream and consumers idempotently, and updates them on a new configuration', async () => {
    fixture = natsFixture(url);
    await Promise.all([fixture.bus(), fixture.bus(), fixture.bus()]);
    await fixture.bus({ ackWaitMs: 2500 });

    const nc = await connect({ servers: url });
    try {
      const jsm = await jetstreamManager(nc);
      const stream = await jsm.streams.info(fixture.streamName);
      expect(stream.config).toMatchObject({
        subjects: [0, 1, 2, 3].map((p) => `${fixture.subjectPrefix}.${p}.*`),
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
        duplicate_window: nanos(120_000),
      });
      const dead = await jsm.streams.info(`${fixture.streamName}_DEAD`);
      expect(dead.config.subjects).toEqual([`${fixture.subjectPrefix}.dead.*`]);
      const consumers = await jsm.consumers.list(fixture.streamName).next();
      expect(consumers.map((c) => c.name).sort()).toEqual(
        [0, 1, 2, 3].map((p) => `${fixture.streamName}_p${p}`),
      );
      for (const c of consumers) {
        expect(c.config).toMatchObject({
          ack_policy: AckPolicy.Explicit,
          max_ack_pending: 1,
          max_deliver: -1,
          ack_wait: nanos(2500),
        });
      }
    } finally {
      await nc.close();
    }
  });

  it('recreates a partition consumer that was deleted under it, and keeps consuming', async () => {
    fixture = natsFixture(url);
    const logger = recordingLogger();
    const bus = await fixture.bus({ logger });
    const received: string[] = [];
    await bus.subscribe(async (env) => {
      received.push(env.eventId);
    });
    const before = envelope('deleted-consumer-tx');
    await bus.publish(before);
    await waitFor('the first event', () => received.includes(before.eventId));

    const nc = await connect({ servers: url });
    try {
      const jsm = await jetstreamManager(nc);
      const partition = partitionOf('deleted-consumer-tx', 4);
      await jsm.consumers.delete(fixture.streamName, `${fixture.streamName}_p${partition}`);
    } finally {
      await nc.close();
    }
    const after = envelope('deleted-consumer-tx');
    await bus.publish(after);
    await waitFor('the event after the deletion', () => received.includes(after.eventId));
    expect(received).toEqual([before.eventId, after.eventId]);
    expect(logger.entries.map((e) => e.message)).toContain('bus: partition consumer is gone; recreating it');
  });

  it('rejects an invalid stream name or subject prefix', async () => {
    await expect(createNatsBus({ url, streamName: 'bad.name' })).rejects.toThrow(/Invalid stream name/);
    await expect(createNatsBus({ url, subjectPrefix: 'events.>' })).rejects.toThrow(/Invalid subject prefix/);
  });
});

describe.skipIf(natsUrl === undefined)('NATS bus across a server restart', () => {
  let server: PrivateNatsServer;
  let fixture: NatsFixture | undefined;

  beforeAll(async () => {
    server = await startPrivateNatsServer();
  });
  afterEach(async () => {
    await fixture?.cleanup();
    fixture = undefined;
  });
  afterAll(async () => {
    await server?.dispose();
  });

  // SIGTERM: a clean restart. SIGKILL: a crash; the server then forgets recent consumer acks and
  // redelivers already-handled events, which the bus must recognise by eventId.
  it.each(['SIGTERM', 'SIGKILL'] as const)(
    '%s: loses no acknowledged publish and applies nothing twice',
    async (signal) => {
      const partitions = 4;
      fixture = natsFixture(server.url, { ackWaitMs: 1000, publishTimeoutMs: 500, partitions });
      const logger = recordingLogger();
      const bus = await fixture.bus({ logger });
      const calls = new Map<string, number>();
      let restarted = false;
      let handledAfterRestart = 0;
      await bus.subscribe(async (env) => {
        calls.set(env.eventId, (calls.get(env.eventId) ?? 0) + 1);
        if (restarted) handledAfterRestart += 1;
        await sleep(1);
      });

      const acknowledged: string[] = [];
      let failedAttempts = 0;
      const publishUntilAcknowledged = async (e: TransactionEventEnvelope): Promise<void> => {
        const deadline = Date.now() + 20_000;
        for (;;) {
          try {
            await bus.publish(e); // a retry reuses the eventId, so a lost PubAck cannot store it twice
            acknowledged.push(e.eventId);
            return;
          } catch (error) {
            failedAttempts += 1;
            if (Date.now() > deadline) throw error;
            await sleep(50);
          }
        }
      };

      let restart: Promise<void> | undefined;
      for (let i = 0; i < 300; i++) {
        if (i === 150) {
          restart = (async () => {
            await server.stop(signal);
            await sleep(1000);
            await server.start();
            restarted = true;
          })();
        }
        await publishUntilAcknowledged(envelope(`restart-${i % 12}`));
      }
      await restart;
      // One last event per partition: each partition hands out one message at a time, in order, so once
      // these are handled every earlier event (and any redelivery of a lost ack) has been too.
      const sentinels = idsInDistinctPartitions(partitions, partitions, 'after-restart').map((t) =>
        envelope(t),
      );
      for (const e of sentinels) await publishUntilAcknowledged(e);
      await waitFor('every acknowledged event', () => acknowledged.every((id) => calls.has(id)), 30_000);

      expect(acknowledged).toHaveLength(300 + partitions);
      const twice = [...calls].filter(([, n]) => n > 1);
      expect(twice).toEqual([]);
      expect(handledAfterRestart).toBeGreaterThan(0);
      expect(failedAttempts).toBeGreaterThan(0); // the restart really happened while publishing
    },
  );
});
