/**
 * SEP-12 customer callbacks (SEPS.md §4.5): the handler for `customer_status_changed` outbox rows. It
 * POSTs the `GET /customer` body the SEP-12 code put in the payload, signed exactly like SEP-31
 * callbacks. When the payload names the customer, the customer's callback URL as registered now is used
 * (the latest `PUT /customer/callback` wins; a deleted customer or a removed URL means nothing is sent);
 * otherwise the payload's `url`.
 */
import { PermanentEffectError, type EffectHandler } from './relay.ts';
import type { OutboxRow } from '../db/outbox.table.ts';
import { deliverCallback } from './delivery.ts';
import type { CallbackHandlerOptions } from './sep31-callbacks.ts';

/** The outbox payload of a `customer_status_changed` effect, as the SEP-12 code writes it. */
export interface CustomerStatusChangedPayload {
  kind?: 'customer_status_changed';
  /** The callback URL registered when the status changed. */
  url: string;
  /** The `GET /customer` response body at that status change (an object, or its exact JSON text). */
  body: Record<string, unknown> | string;
  /** The customer's id: when present, the URL registered at send time is used instead of `url`. */
  customerId?: string;
}

export function sep12CallbackHandler(options: CallbackHandlerOptions): EffectHandler {
  const { db, config } = options;
  const sandbox = options.sandbox ?? config.sandbox;
  return async (row, { now, signal }) => {
    const payload = customerPayload(row);
    let url: string | null = payload.url;
    if (payload.customerId !== undefined) {
      const customer = await db
        .selectFrom('customers')
        .select('callback_url')
        .where('id', '=', payload.customerId)
        .executeTakeFirst();
      url = customer?.callback_url ?? null;
    }
    if (url === null) return; // customer gone or callback removed: nothing to send
    const body = typeof payload.body === 'string' ? payload.body : JSON.stringify(payload.body);
    await deliverCallback(
      { url, body, now, signal },
      {
        signingSecret: config.signingSecret,
        sandbox,
        timeoutMs: options.timeoutMs,
        resolve: options.resolve,
      },
    );
  };
}

function customerPayload(row: OutboxRow): CustomerStatusChangedPayload {
  const payload = row.payload as Partial<CustomerStatusChangedPayload> | null;
  const ok =
    typeof payload === 'object' &&
    payload !== null &&
    typeof payload.url === 'string' &&
    (typeof payload.body === 'string' || (typeof payload.body === 'object' && payload.body !== null)) &&
    (payload.customerId === undefined || typeof payload.customerId === 'string');
  if (!ok) {
    throw new PermanentEffectError(
      `outbox row ${row.id}: customer_status_changed payload needs { url: string, body: object, customerId?: string }`,
    );
  }
  return payload as CustomerStatusChangedPayload;
}
