/**
 * The JetStream resources of the NATS bus, created or updated idempotently at start-up (several
 * processes may do it at once; identical configurations make that safe).
 *
 * - Event stream `<streamName>`: subjects `<prefix>.<p>.*` for each partition `p`, file storage,
 *   work-queue retention (a message is removed once acknowledged, so the stream does not grow with
 *   history; the history lives in the database), `duplicate_window` for `Nats-Msg-Id` de-duplication.
 * - Dead-letter stream `<streamName>_DEAD`: subject `<prefix>.dead.*`, file storage, limits retention
 *   with no limits: dead letters stay until an operator removes them.
 * - One durable pull consumer per partition, `<streamName>_p<p>`, filtered on that partition, with
 *   explicit ack and `max_ack_pending: 1`: the server hands out one message of a partition at a time,
 *   to whichever process pulls, and the next only after an ack (or term). A nak with delay keeps the
 *   message pending, so the partition waits for the retry. That is what keeps one transaction's
 *   events serial and ordered across processes. `max_deliver` is -1 on the server: when a message
 *   runs out of deliveries the server parks it silently, so the bus counts deliveries itself and
 *   dead-letters instead.
 */
import { nanos } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiError,
  ReplayPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { deadLetterFilter, partitionFilter } from './subjects.ts';

/** JetStream error code: "stream name already in use with a different configuration". */
const STREAM_NAME_IN_USE = 10058;

export interface Topology {
  streamName: string;
  deadLetterStreamName: string;
  subjectPrefix: string;
  partitions: number;
  ackWaitMs: number;
  duplicateWindowMs: number;
}

export function consumerName(streamName: string, partition: number): string {
  return `${streamName}_p${partition}`;
}

export function eventStreamConfig(t: Topology): Partial<StreamConfig> & { name: string } {
  return {
    name: t.streamName,
    subjects: Array.from({ length: t.partitions }, (_, p) => partitionFilter(t.subjectPrefix, p)),
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    duplicate_window: nanos(t.duplicateWindowMs),
  };
}

export function deadLetterStreamConfig(t: Topology): Partial<StreamConfig> & { name: string } {
  return {
    name: t.deadLetterStreamName,
    subjects: [deadLetterFilter(t.subjectPrefix)],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    duplicate_window: nanos(t.duplicateWindowMs),
  };
}

export function partitionConsumerConfig(t: Topology, partition: number): Partial<ConsumerConfig> {
  return {
    durable_name: consumerName(t.streamName, partition),
    filter_subject: partitionFilter(t.subjectPrefix, partition),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    replay_policy: ReplayPolicy.Instant,
    ack_wait: nanos(t.ackWaitMs),
    max_ack_pending: 1,
    max_deliver: -1,
  };
}

/** Creates or updates the streams and the partition consumers. */
export async function ensureTopology(jsm: JetStreamManager, t: Topology): Promise<void> {
  await ensureStream(jsm, eventStreamConfig(t));
  await ensureStream(jsm, deadLetterStreamConfig(t));
  await Promise.all(Array.from({ length: t.partitions }, (_, p) => ensurePartitionConsumer(jsm, t, p)));
}

export async function ensurePartitionConsumer(
  jsm: JetStreamManager,
  t: Topology,
  partition: number,
): Promise<void> {
  // On an existing durable with a different (updatable) configuration, the server updates it.
  await jsm.consumers.add(t.streamName, partitionConsumerConfig(t, partition));
}

async function ensureStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
): Promise<void> {
  try {
    await jsm.streams.add(config);
  } catch (error) {
    if (!(error instanceof JetStreamApiError && error.code === STREAM_NAME_IN_USE)) throw error;
    try {
      await jsm.streams.update(config.name, config);
    } catch (updateError) {
      throw new Error(`Cannot update JetStream stream ${config.name} to the bus configuration`, {
        cause: updateError,
      });
    }
  }
}
