/**
 * `Idempotency-Key` on `POST /transactions`: a sending anchor that lost our answer (a connection reset
 * after we committed) retries with the same key and gets the same transaction, instead of an orphan it
 * never learned the id or memo of. Keys are scoped to the sending anchor (its SEP-10 `sub`) and do not
 * expire.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { v5 as uuidV5 } from 'uuid';
import { MooringError } from '../../errors.ts';

/** 1 to 255 printable ASCII characters (a UUID, a Stripe-style key, an RFC 8941 string all fit). */
export const IDEMPOTENCY_KEY_PATTERN = '^[\\x20-\\x7E]{1,255}$';
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

/** The UUIDv5 namespace of transaction ids derived from idempotency keys (fixed: ids must never change). */
const TRANSACTION_ID_NAMESPACE = '6d0c2a51-58a4-4c43-9f4e-0b3c1f7a9e21';

/**
 * The id of the transaction a keyed POST creates: the same sending anchor and key always name the same
 * transaction actor, so a retry, or a twin in flight on another HTTP process, reaches the one that has it.
 */
export function idempotentTransactionId(sendingAnchor: string, key: string): string {
  // JSON keeps the pair unambiguous whatever characters either holds.
  return uuidV5(JSON.stringify([sendingAnchor, key]), TRANSACTION_ID_NAMESPACE);
}

/**
 * SHA-256 (hex) of the request body in RFC 8785 canonical JSON: key order and whitespace do not matter,
 * any other difference (a value, a field more, `"100"` for `100`) makes another request. A body JSON can
 * carry but RFC 8785 cannot (a lone surrogate, a number beyond a double) is a 400.
 */
export function requestHash(body: unknown): string {
  let canonical: string | undefined;
  try {
    canonical = canonicalize(body);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new MooringError('bad_request', `with an Idempotency-Key the body must be I-JSON: ${reason}`);
  }
  if (canonical === undefined) throw new MooringError('bad_request', 'the request body must be JSON');
  return createHash('sha256').update(canonical).digest('hex');
}
