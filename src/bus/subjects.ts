/**
 * NATS subject catalog of the bus.
 *
 * - `<prefix>.<partition>.<transaction>`: events, one stream subject per partition.
 * - `<prefix>.dead.<transaction>`: dead letters, in a separate stream.
 *
 * `<transaction>` is the transaction id when it is a safe subject token (letters, digits, `_`, `-`:
 * UUIDs are), else `~` followed by the base64url of its UTF-8 bytes. `~` never appears in a safe token,
 * so the encoding is one-to-one. The token is for routing and reading only; the envelope carries the id.
 */

const SAFE_TOKEN = /^[A-Za-z0-9_-]+$/;
const NAME = /^[A-Za-z0-9_-]+$/;
const PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** `id` as one subject token (no `.`, `*`, `>` or whitespace). */
export function encodeSubjectToken(id: string): string {
  if (SAFE_TOKEN.test(id)) return id;
  return `~${Buffer.from(id, 'utf8').toString('base64url')}`;
}

/** Inverse of {@link encodeSubjectToken}. */
export function decodeSubjectToken(token: string): string {
  if (token.startsWith('~')) return Buffer.from(token.slice(1), 'base64url').toString('utf8');
  return token;
}

export function eventSubject(prefix: string, partition: number, transactionId: string): string {
  return `${prefix}.${partition}.${encodeSubjectToken(transactionId)}`;
}

/** Subjects of one partition (a consumer's filter). */
export function partitionFilter(prefix: string, partition: number): string {
  return `${prefix}.${partition}.*`;
}

export function deadLetterSubject(prefix: string, transactionToken: string): string {
  return `${prefix}.dead.${transactionToken}`;
}

export function deadLetterFilter(prefix: string): string {
  return `${prefix}.dead.*`;
}

/** The last token of a subject (the encoded transaction id of an event subject). */
export function lastToken(subject: string): string {
  return subject.slice(subject.lastIndexOf('.') + 1);
}

/** @throws Error unless `name` is usable as a JetStream stream or consumer name. */
export function assertName(kind: string, name: string): void {
  if (!NAME.test(name)) throw new Error(`Invalid ${kind} "${name}": use letters, digits, "_" and "-"`);
}

/** @throws Error unless `prefix` is dot-separated safe tokens (no wildcards, no spaces). */
export function assertSubjectPrefix(prefix: string): void {
  if (!PREFIX.test(prefix)) {
    throw new Error(`Invalid subject prefix "${prefix}": use dot-separated letters, digits, "_" and "-"`);
  }
}
