/**
 * The command port of the SEP-12 customer actors, for callers that need the actor's answer (HTTP,
 * operators, integrations giving a late verdict): each command is a bus request to
 * `customer:<account>:<memo>`, answered by the owning host once it has committed. A command that gets no
 * answer in time rejects with {@link CommandUnavailableError}; HTTP answers 503 and the sending anchor
 * retries (a PUT is idempotent: the same fields again change nothing).
 */
import { randomUUID } from 'node:crypto';
import type { CustomerEvent } from '../../machines/index.ts';
import type { EventBus } from '../bus/index.ts';
import { requestActor, type CommandOptions } from './commands.ts';
import { customerAddress, type CustomerMessageBody, type CustomerReply } from './messages.ts';

/** Where a customer lives: the sending anchor's base account and the memo it registered it under. */
export interface CustomerAt {
  account: string;
  memo: string | null;
}

export type CustomerPut = Omit<Extract<CustomerMessageBody, { type: 'put' }>, 'type'>;

export interface CustomerCommands {
  /** PUT /customer: answers with the customer's id (decided by the actor for a new one). */
  put(customer: CustomerAt, put: CustomerPut): Promise<CustomerReply>;
  /** PUT /customer/callback; `customerId` (when given) must be the customer at that address. */
  registerCallback(customer: CustomerAt, customerId: string | null, url: string): Promise<CustomerReply>;
  /** DELETE /customer: deletes the customer at the address if it is still `customerId`. */
  delete(customer: CustomerAt, customerId: string): Promise<CustomerReply>;
  /**
   * A change to one customer's status for one type outside a PUT (an operator, or an integration giving a
   * late verdict after a manual review). `eventId` makes a retried call a duplicate on the bus.
   */
  updateStatus(
    customer: CustomerAt,
    customerId: string,
    type: string,
    event: CustomerEvent,
    eventId?: string,
  ): Promise<CustomerReply>;
}

export function createCustomerCommands(bus: EventBus, options: CommandOptions = {}): CustomerCommands {
  const timeoutMs = options.timeoutMs ?? 10_000;

  const ask = (customer: CustomerAt, id: string, body: CustomerMessageBody): Promise<CustomerReply> =>
    requestActor(bus, { id, to: customerAddress(customer.account, customer.memo), body }, timeoutMs, asReply);

  return {
    put: (customer, put) => ask(customer, `customer-put:${randomUUID()}`, { type: 'put', ...put }),
    registerCallback: (customer, customerId, url) =>
      ask(customer, `customer-callback:${randomUUID()}`, { type: 'register_callback', customerId, url }),
    delete: (customer, customerId) =>
      ask(customer, `customer-delete:${customerId}:${randomUUID()}`, { type: 'delete', customerId }),
    updateStatus: (customer, customerId, type, event, eventId = randomUUID()) =>
      ask(customer, `customer-status:${customerId}:${eventId}`, {
        type: 'status_event',
        customerId,
        customerType: type,
        event,
      }),
  };
}

function asReply(value: unknown): CustomerReply {
  const outcome = (value as { outcome?: unknown } | null)?.outcome;
  if (outcome === 'applied' || outcome === 'refused') return value as CustomerReply;
  throw new Error(`unexpected answer from a customer actor: ${JSON.stringify(value)}`);
}
