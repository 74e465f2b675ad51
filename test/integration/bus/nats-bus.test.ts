/**
 * What only the NATS bus promises: namespaces by prefix, malformed stored bytes handed over as such,
 * settled messages purged, an epoch per stream, and no acknowledged publish lost (nor read twice) when
 * the server crashes. The contract itself is in bus-contract.test.ts.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BusClosedError,
  createNatsBus,
  partitionOf,
  type BusMessage,
  type EventBus,
} from '../../../src/bus/index.ts';
import { messageSubject } from '../../../src/bus/subjects.ts';
import { natsUrlForTests, startPrivateNatsServer, type PrivateNatsServer } from '../../helpers/nats.ts';
import {
  TEST_PARTITIONS,
  actorsInDistinctPartitions,
  message,
  natsFixture,
  readAtLeast,
  sleep,
  startHost,
  waitFor,
  within,
  type NatsFixture,
  type TestHost,
} from './support.ts';

const natsUrl = natsUrlForTests();

describe.skipIf(natsUrl === undefined)('NATS bus', () => {
  const url = natsUrl!;
  let fixtures: NatsFixture[] = [];
  let connections: NatsConnection[] = [];

  afterEach(async () => {
    await Promise.all(connections.map((nc) => nc.close()));
    connections = [];
    await Promise.all(fixtures.map((f) => f.cleanup()));
    fixtures = [];
  });

  function fixture(options: Parameters<typeof natsFixture>[1] = {}): NatsFixture {
    const f = natsFixture(url, options);
    fixtures.push(f);
    return f;
  }

  /** A plain client, as another program on the server would use. */
  async function plainConnection(): Promise<NatsConnection> {
    const nc = await connect({ servers: url, name: 'bus-test-plain' });
    connections.push(nc);
    return nc;
  }

  async function streamMessages(stream: string): Promise<number> {
    const jsm = await jetstreamManager(await plainConnection());
    return (await jsm.streams.info(stream)).state.messages;
  }

  it('keeps two prefixes on one server apart: streams, messages, ids and signals', async () => {
    const [a, b] = [fixture(), fixture()];
    const [busA, busB] = [await a.bus(), await b.bus()];
    expect(busA.stream).toBe(a.stream);
    expect(busB.stream).toBe(b.stream);
    expect(busA.stream).not.toBe(busB.stream);

    const to = 'transaction:same-address';
    const p = partitionOf(to, TEST_PARTITIONS);
    const fromA = [message(to, { ns: 'a' }), message(to, { ns: 'a' }, 'same-id'), message(to, { ns: 'a' })];
    const fromB = [message(to, { ns: 'b' }), message(to, { ns: 'b' }, 'same-id'), message(to, { ns: 'b' })];
    // Interleaved: a message of the other namespace would show up between these.
    for (let i = 0; i < 3; i++) {
      await busA.publish(fromA[i]!);
      await busB.publish(fromB[i]!);
    }
    const readA = await readAtLeast(busA.read(p, 0), 3);
    const readB = await readAtLeast(busB.read(p, 0), 3);
    expect(readA.deliveries.map((d) => d.message)).toEqual(fromA);
    expect(readB.deliveries.map((d) => d.message)).toEqual(fromB);

    const seenByB: string[] = [];
    const seenByA: string[] = [];
    const subscriptions = [
      busB.signals('outbox.status_changed').subscribe(() => seenByB.push('status_changed')),
      busA.signals('test.sentinel').subscribe(() => seenByA.push('sentinel')),
    ];
    await Promise.all([busA.ready(), busB.ready()]);
    busA.signal('outbox.status_changed');
    busA.signal('test.sentinel');
    await waitFor('the sentinel in namespace A', () => seenByA.includes('sentinel'));
    // The server delivered A's signal before the sentinel; a round trip on B's connection comes after it.
    await busB.ready();
    expect(seenByB).toEqual([]);
    for (const subscription of subscriptions) subscription.unsubscribe();
  });

  it('hands over stored bytes that are not a message as a delivery marked malformed, and reads on', async () => {
    const f = fixture();
    const bus = await f.bus();
    const to = 'customer:GABC:memo with spaces';
    const p = partitionOf(to, TEST_PARTITIONS);
    const js = jetstream(await plainConnection());
    const subject = messageSubject(f.prefix, p, to);
    const replyHeader = headers();
    replyHeader.set('Mooring-Reply-To', 'somewhere.reply.1');
    await js.publish(subject, 'not json');
    await js.publish(subject, new Uint8Array([0x7b, 0xff, 0xfe]));
    await js.publish(subject, JSON.stringify({ id: 'no-body', to }), { headers: replyHeader });
    await js.publish(subject, JSON.stringify({ id: 'a\nb', to, body: {} }));
    const valid = message(to, { valid: true });
    await bus.publish(valid);

    const { deliveries } = await readAtLeast(bus.read(p, 0), 5);
    const [bad1, bad2, bad3, bad4, good] = deliveries;
    expect(bad1).toEqual({
      message: { id: `malformed:${bad1!.position}`, to, body: 'not json' },
      partition: p,
      position: bad1!.position,
      replyTo: null,
      malformed: expect.stringContaining('MalformedMessageError'),
    });
    expect(bad2!.malformed).toContain('not UTF-8 JSON');
    expect(bad2!.message).toEqual({ id: `malformed:${bad2!.position}`, to, body: '{\uFFFD\uFFFD' });
    expect(bad3).toMatchObject({
      message: { id: `malformed:${bad3!.position}`, to, body: JSON.stringify({ id: 'no-body', to }) },
      replyTo: 'somewhere.reply.1',
      malformed: expect.stringContaining('no body'),
    });
    expect(bad4!.malformed).toContain('no id');
    expect(good).toMatchObject({ message: valid, replyTo: null });
    expect(good!.malformed).toBeUndefined();
    expect(deliveries.map((d) => d.position)).toEqual(
      [...deliveries.map((d) => d.position)].sort((x, y) => x - y),
    );
  });

  it('purges settled messages from the stream, partition by partition, and on close', async () => {
    const f = fixture({ purgeIntervalMs: 50 });
    const bus = await f.bus();
    const [a, other] = actorsInDistinctPartitions(2, TEST_PARTITIONS, 'purge');
    const p = partitionOf(a!, TEST_PARTITIONS);
    const sent = [message(a!), message(a!), message(a!)];
    const unsettled = message(other!);
    await bus.publishMany([...sent, unsettled]);
    expect(await streamMessages(f.stream)).toBe(4);

    const { deliveries } = await readAtLeast(bus.read(p, 0), 3);
    bus.settle(p, deliveries[1]!.position);
    await waitFor('the purge of two settled messages', async () => (await streamMessages(f.stream)) === 2);
    // What is left: the third message of the partition, and the other partition's message.
    const [left] = (await readAtLeast(bus.read(p, 0), 1)).deliveries;
    expect(left!.message).toEqual(sent[2]);
    const [untouched] = (await readAtLeast(bus.read(partitionOf(other!, TEST_PARTITIONS), 0), 1)).deliveries;
    expect(untouched!.message).toEqual(unsettled);

    bus.settle(p, deliveries[2]!.position);
    await bus.close();
    expect(await streamMessages(f.stream)).toBe(1);
  });

  it('changes epoch when the stream is deleted and created again; positions start again at 1', async () => {
    const f = fixture();
    const [first, second] = [await f.bus(), await f.bus()];
    expect(second.epoch).toBe(first.epoch);
    expect(Number.isNaN(Date.parse(first.epoch))).toBe(false);
    await first.publish(message('transaction:epoch'));
    await first.publish(message('transaction:epoch'));
    await Promise.all([first.close(), second.close()]);

    const jsm = await jetstreamManager(await plainConnection());
    await jsm.streams.delete(f.stream);
    const recreated = await f.bus();
    expect(recreated.epoch).not.toBe(first.epoch);
    const m = message('transaction:epoch');
    await recreated.publish(m);
    const [delivery] = (await readAtLeast(recreated.read(partitionOf(m.to, TEST_PARTITIONS), 0), 1))
      .deliveries;
    expect(delivery).toMatchObject({ message: m, position: 1 });
  });

  it('on a connection it was given: close() leaves the connection open, and the bus refuses work', async () => {
    const f = fixture();
    await f.bus(); // creates the stream the cleanup deletes
    const nc = await plainConnection();
    const bus = await createNatsBus({ connection: nc, prefix: f.prefix, partitions: TEST_PARTITIONS });
    await bus.publish(message('transaction:given-connection'));
    await bus.close();
    expect(nc.isClosed()).toBe(false);
    await expect(bus.ready()).rejects.toBeInstanceOf(BusClosedError);
    await expect(bus.publish(message('transaction:given-connection'))).rejects.toBeInstanceOf(BusClosedError);
  });

  it('rejects a prefix that is not one safe token, before touching the server', async () => {
    for (const prefix of ['', 'a.b', 'a b', 'a*', 'a>', 'x'.repeat(33)]) {
      await expect(createNatsBus({ url, prefix }), prefix).rejects.toThrow(/Invalid NATS prefix/);
    }
  });
});

describe.skipIf(natsUrl === undefined)('NATS bus across a server crash (SIGKILL)', () => {
  let server: PrivateNatsServer;
  let fixture: NatsFixture | undefined;
  let hosts: TestHost[] = [];

  beforeAll(async () => {
    server = await startPrivateNatsServer();
  });
  afterEach(async () => {
    await Promise.all(hosts.map((host) => host.stop()));
    hosts = [];
    await fixture?.cleanup();
    fixture = undefined;
  });
  afterAll(async () => {
    await server?.dispose();
  });

  /** Publishes until the bus says stored; a retry reuses the id, so a lost PubAck cannot store it twice. */
  async function publishUntilStored(bus: EventBus, m: BusMessage): Promise<number> {
    let failures = 0;
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        await bus.publish(m);
        return failures;
      } catch (error) {
        failures += 1;
        if (Date.now() > deadline) throw error;
        await sleep(50);
      }
    }
  }

  it('loses no publish that resolved, reads none twice, and a reader keeps reading after the restart', async () => {
    // Nothing is purged during the test, so a fresh reader can check the whole stream afterwards.
    fixture = natsFixture(server.url, { publishTimeoutMs: 500, purgeIntervalMs: 3_600_000 });
    const bus = await fixture.bus();
    const actors = [
      ...actorsInDistinctPartitions(TEST_PARTITIONS, TEST_PARTITIONS, 'crash'),
      ...actorsInDistinctPartitions(TEST_PARTITIONS, TEST_PARTITIONS, 'crash-b'),
    ];
    expect(new Set(actors).size).toBe(actors.length);
    // Started before the crash, it must read through it.
    const live = startHost(bus);
    hosts.push(live);

    const stored: BusMessage[] = [];
    let failedAttempts = 0;
    let crash: Promise<void> | undefined;
    let storedBeforeKill: string[] = [];
    for (let i = 0; i < 240; i++) {
      if (i === 120) {
        storedBeforeKill = stored.map((m) => m.id);
        crash = (async () => {
          await server.stop('SIGKILL');
          // Longer than publishTimeoutMs: the publish under way at the kill fails and is retried.
          await sleep(700);
          await server.start();
        })();
      }
      const m = message(actors[(i * 5 + (i >> 3)) % actors.length]!, { i });
      failedAttempts += await publishUntilStored(bus, m);
      stored.push(m);
    }
    await crash;
    // Published once the server is surely back: the live reader must get these too.
    const afterRestart = actors.map((to) => message(to, { after: true }));
    for (const m of afterRestart) failedAttempts += await publishUntilStored(bus, m);
    stored.push(...afterRestart);

    expect(storedBeforeKill).toHaveLength(120);
    expect(failedAttempts).toBeGreaterThan(0); // the crash really happened while publishing

    await waitFor(
      'the live reader to read every stored message',
      () => afterRestart.every((m) => live.ids().includes(m.id)),
      20_000,
    );
    const ids = stored.map((m) => m.id);
    expect(live.ids().filter((id) => !ids.includes(id))).toEqual([]);
    expect([...live.ids()].sort()).toEqual([...ids].sort()); // each once
    for (const to of actors) {
      expect(
        live.of(to).map((d) => d.message.id),
        to,
      ).toEqual(stored.filter((m) => m.to === to).map((m) => m.id));
    }

    // A reader started afterwards from the beginning finds the same: everything once, in order.
    const fresh = await fixture.bus();
    const again: string[] = [];
    for (let p = 0; p < TEST_PARTITIONS; p++) {
      const expected = stored.filter((m) => partitionOf(m.to, TEST_PARTITIONS) === p).map((m) => m.id);
      const reader = fresh.read(p, 0);
      const { deliveries } = await readAtLeast(reader, expected.length);
      expect(
        deliveries.map((d) => d.message.id),
        `partition ${p}`,
      ).toEqual(expected);
      again.push(...deliveries.map((d) => d.message.id));
      // Nothing more is stored in the partition.
      const extra = await reader.next(10, AbortSignal.timeout(300));
      expect(extra).toEqual([]);
      await reader.close();
    }
    expect(again).toHaveLength(ids.length);
    expect(storedBeforeKill.filter((id) => !again.includes(id))).toEqual([]);
    await within('closing', fresh.close());
  });
});
