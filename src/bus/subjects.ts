/**
 * NATS subject catalog of the bus, all under the deployment's prefix (config `nats.prefix`), so two
 * deployments on one server never see each other's messages:
 *
 * - `<prefix>.in.<partition>.<actor>`: messages, in the stream `<prefix>_events`.
 * - `<prefix>.reply.<bus instance>.<n>`: answers to requests (core NATS, not stored).
 * - `<prefix>.signal.<topic>`: best-effort notices (core NATS, not stored).
 * - `<prefix>.events.<entity>.<what>`: business events for the anchor's business server, in the stream
 *   `<prefix>_business_events` (kept for consumers; see docs/events.md).
 *
 * `<actor>` is the address when it is a safe subject token (letters, digits, `_`, `-`, `:`), else `~`
 * followed by the base64url of its UTF-8 bytes. `~` never appears in a safe token, so the encoding is
 * one-to-one. The token is for routing and reading only; the message carries the address.
 */

const SAFE_TOKEN = /^[A-Za-z0-9_:-]+$/;
const PREFIX = /^[A-Za-z0-9_-]{1,32}$/;
const TOPIC = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** `address` as one subject token (no `.`, `*`, `>` or whitespace). */
export function encodeSubjectToken(address: string): string {
  if (SAFE_TOKEN.test(address)) return address;
  return `~${Buffer.from(address, 'utf8').toString('base64url')}`;
}

/** Inverse of {@link encodeSubjectToken}. */
export function decodeSubjectToken(token: string): string {
  if (token.startsWith('~')) return Buffer.from(token.slice(1), 'base64url').toString('utf8');
  return token;
}

export function streamName(prefix: string): string {
  return `${prefix}_events`;
}

export function messageSubject(prefix: string, partition: number, address: string): string {
  return `${prefix}.in.${partition}.${encodeSubjectToken(address)}`;
}

/** Every message subject of the deployment (the stream's subject). */
export function messagesFilter(prefix: string): string {
  return `${prefix}.in.>`;
}

/** Subjects of one partition (a reader's filter). */
export function partitionFilter(prefix: string, partition: number): string {
  return `${prefix}.in.${partition}.*`;
}

export function replySubject(prefix: string, instance: string, n: number): string {
  return `${prefix}.reply.${instance}.${n}`;
}

export function repliesFilter(prefix: string, instance: string): string {
  return `${prefix}.reply.${instance}.*`;
}

export function signalSubject(prefix: string, topic: string): string {
  return `${prefix}.signal.${topic}`;
}

/** The stream of business events (apart from the bus's own, which is purged as soon as it is applied). */
export function businessEventsStreamName(prefix: string): string {
  return `${prefix}_business_events`;
}

/** A business event's subject, e.g. `mooring.events.transaction.created` for the topic `transaction.created`. */
export function businessEventSubject(prefix: string, topic: string): string {
  assertTopic(topic);
  return `${prefix}.events.${topic}`;
}

/** Every business event subject of the deployment (the stream's subject). */
export function businessEventsFilter(prefix: string): string {
  return `${prefix}.events.>`;
}

/** The last token of a subject (the encoded address of a message subject). */
export function lastToken(subject: string): string {
  return subject.slice(subject.lastIndexOf('.') + 1);
}

/** @throws Error unless `prefix` is one safe token of at most 32 characters (it names the stream too). */
export function assertPrefix(prefix: string): void {
  if (!PREFIX.test(prefix)) {
    throw new Error(`Invalid NATS prefix "${prefix}": use 1-32 letters, digits, "_" and "-"`);
  }
}

/** @throws Error unless `topic` is dot-separated safe tokens. */
export function assertTopic(topic: string): void {
  if (!TOPIC.test(topic)) throw new Error(`Invalid signal topic "${topic}"`);
}
