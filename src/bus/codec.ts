/**
 * Wire format of a message on the bus: the {@link BusMessage} as UTF-8 JSON. Decoding checks the
 * message's frame (id, address, body present), not the body: the actor host checks that.
 */
import type { BusMessage } from './event-bus.ts';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** Thrown for a message that is not a {@link BusMessage}. */
export class MalformedMessageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MalformedMessageError';
  }
}

export function encodeJson(value: unknown): Uint8Array {
  return utf8Encoder.encode(JSON.stringify(value));
}

/** @throws MalformedMessageError when `data` is not UTF-8 JSON. */
export function decodeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(utf8Decoder.decode(data));
  } catch (error) {
    throw new MalformedMessageError('Bus message is not UTF-8 JSON', { cause: error });
  }
}

export function encodeMessage(message: BusMessage): Uint8Array {
  return encodeJson({ id: message.id, to: message.to, body: message.body });
}

/** @throws MalformedMessageError when `data` is not UTF-8 JSON of a message. */
export function decodeMessage(data: Uint8Array): BusMessage {
  const value = decodeJson(data);
  assertMessage(value);
  return value;
}

/** @throws MalformedMessageError unless `value` has a message's frame. */
export function assertMessage(value: unknown): asserts value is BusMessage {
  if (typeof value !== 'object' || value === null)
    throw new MalformedMessageError('Bus message is not an object');
  const { id, to, body } = value as Record<string, unknown>;
  if (typeof id !== 'string' || id === '' || id.length > 512 || /[\r\n]/.test(id)) {
    // The id travels as the Nats-Msg-Id header, which cannot hold line breaks.
    throw new MalformedMessageError('Bus message has no id (a non-empty string without line breaks)');
  }
  if (typeof to !== 'string' || to === '') throw new MalformedMessageError('Bus message has no address (to)');
  if (body === undefined) throw new MalformedMessageError('Bus message has no body');
}

/** `data` as text, even when it is not valid UTF-8 (for records of malformed messages). */
export function rawText(data: Uint8Array): string {
  return new TextDecoder('utf-8').decode(data);
}
