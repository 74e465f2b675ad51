/**
 * The command port of the transaction actors, for callers that need the actor's answer (HTTP): each
 * command is a bus request, answered by the owning host once it has committed. A command that gets no
 * answer in time rejects with {@link CommandUnavailableError}; the caller answers 503 and the sending
 * anchor retries. A create carries its deadline, so one that arrives after the caller gave up is refused
 * by the actor instead of creating a transaction nobody was told about.
 */
import type { TransactionEvent, TransactionInput } from '../../machines/index.ts';
import {
  BusClosedError,
  BusTimeoutError,
  BusUnavailableError,
  type BusMessage,
  type EventBus,
} from '../bus/index.ts';
import { randomUUID } from 'node:crypto';
import type { Idempotency } from './messages.ts';
import {
  createTransactionMessage,
  customersChangedMessage,
  transactionAddress,
  transactionEventMessage,
  type TransactionReply,
} from './messages.ts';

/** The actor did not answer (bus or host away, or too slow). The command may or may not be applied. */
export class CommandUnavailableError extends Error {
  constructor(options?: ErrorOptions) {
    super('the actors did not answer in time', options);
    this.name = 'CommandUnavailableError';
  }
}

export interface TransactionCommands {
  /**
   * Creates a transaction with its first events; answers once it is committed (or refused). With
   * `idempotency`, an id that exists is answered `exists` with the request hash it was created with.
   */
  create(
    input: TransactionInput,
    then: TransactionEvent[],
    idempotency?: Idempotency,
  ): Promise<TransactionReply>;
  /**
   * Sends a machine event; `eventId` makes a retried command a duplicate. `operator` names who sent it
   * (the operator API), recorded in the event log.
   */
  send(
    transactionId: string,
    eventId: string,
    event: TransactionEvent,
    options?: { operator?: string },
  ): Promise<TransactionReply>;
  /** PUT /transactions/:id/callback: refused as `not_found` unless `sendingAnchor` created it. */
  registerCallback(
    transactionId: string,
    sendingAnchor: string,
    url: string,
    requestId: string,
  ): Promise<TransactionReply>;
  /**
   * Tells transactions that one of their customers changed: each re-checks what waits on its customers
   * (a payout, a `pending_customer_info_update` round). Resolves once the bus holds the notices.
   */
  customersChanged(transactionIds: readonly string[]): Promise<void>;
}

export interface CommandOptions {
  /** How long a caller waits for the actor. Default 10 s. */
  timeoutMs?: number;
  clock?: () => Date;
}

/**
 * Sends `message` as a request and reads the actor's answer; a bus that could not deliver it or an answer
 * that did not come in time is {@link CommandUnavailableError}.
 */
export async function requestActor<R>(
  bus: Pick<EventBus, 'request'>,
  message: BusMessage,
  timeoutMs: number,
  read: (answer: unknown) => R,
): Promise<R> {
  try {
    return read(await bus.request(message, { timeoutMs }));
  } catch (error) {
    if (
      error instanceof BusTimeoutError ||
      error instanceof BusUnavailableError ||
      error instanceof BusClosedError
    ) {
      throw new CommandUnavailableError({ cause: error });
    }
    throw error;
  }
}

export function createTransactionCommands(bus: EventBus, options: CommandOptions = {}): TransactionCommands {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const clock = options.clock ?? (() => new Date());

  const ask = (message: BusMessage) => requestActor(bus, message, timeoutMs, asReply);

  return {
    create(input, then, idempotency) {
      // The actor refuses the create once this deadline passed: we will have answered 503 by then.
      const notAfter = new Date(clock().getTime() + timeoutMs);
      return ask(createTransactionMessage(input, then, notAfter, idempotency));
    },
    send: (transactionId, eventId, event, options) =>
      ask(transactionEventMessage(transactionId, eventId, event, undefined, options?.operator)),
    async customersChanged(transactionIds) {
      const at = clock();
      await bus.publishMany(transactionIds.map((id) => customersChangedMessage(id, at, randomUUID())));
    },
    registerCallback: (transactionId, sendingAnchor, url, requestId) =>
      ask({
        id: `callback:${transactionId}:${requestId}`,
        to: transactionAddress(transactionId),
        body: { type: 'register_callback', sendingAnchor, url },
      }),
  };
}

function asReply(value: unknown): TransactionReply {
  const outcome = (value as { outcome?: unknown } | null)?.outcome;
  if (outcome === 'applied' || outcome === 'duplicate' || outcome === 'refused')
    return value as TransactionReply;
  throw new Error(`unexpected answer from a transaction actor: ${JSON.stringify(value)}`);
}
