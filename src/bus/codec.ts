/**
 * Wire format of an event on the bus: the {@link TransactionEventEnvelope} as UTF-8 JSON. Decoding
 * checks the envelope's shape, not the event's fields (the machine rejects events it does not know).
 */
import type { TransactionEventEnvelope } from '../../machines/transaction/events.ts';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** Thrown by {@link decodeEnvelope} for a message that is not an envelope. */
export class MalformedEnvelopeError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MalformedEnvelopeError';
  }
}

export function encodeEnvelope(envelope: TransactionEventEnvelope): Uint8Array {
  return utf8Encoder.encode(JSON.stringify(envelope));
}

/** @throws MalformedEnvelopeError when `data` is not UTF-8 JSON of an envelope. */
export function decodeEnvelope(data: Uint8Array): TransactionEventEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(utf8Decoder.decode(data));
  } catch (error) {
    throw new MalformedEnvelopeError('Bus message is not UTF-8 JSON', { cause: error });
  }
  assertEnvelope(value);
  return value;
}

/** @throws MalformedEnvelopeError unless `value` has the envelope's shape. */
export function assertEnvelope(value: unknown): asserts value is TransactionEventEnvelope {
  if (typeof value !== 'object' || value === null) {
    throw new MalformedEnvelopeError('Bus message is not an object');
  }
  const { eventId, transactionId, event } = value as Record<string, unknown>;
  if (typeof eventId !== 'string' || eventId === '' || /[\r\n]/.test(eventId)) {
    // The id travels as the Nats-Msg-Id header, which cannot hold line breaks.
    throw new MalformedEnvelopeError('Bus message has no eventId (a non-empty string without line breaks)');
  }
  if (typeof transactionId !== 'string' || transactionId === '') {
    throw new MalformedEnvelopeError('Bus message has no transactionId');
  }
  if (typeof event !== 'object' || event === null || typeof (event as { type?: unknown }).type !== 'string') {
    throw new MalformedEnvelopeError('Bus message has no event type');
  }
}

/** `data` as text for a dead letter, even when it is not valid UTF-8. */
export function rawText(data: Uint8Array): string {
  return new TextDecoder('utf-8').decode(data);
}
