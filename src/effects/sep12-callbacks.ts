/**
 * SEP-12 customer callbacks (SEPS.md §4.5): the handler for `customer_status_changed` outbox rows. It
 * POSTs the `GET /customer` body of the payload (the customer at that status change), signed exactly like
 * SEP-31 callbacks, to the customer's callback URL as registered now (the latest `PUT /customer/callback`
 * wins; a deleted customer or a removed URL means nothing is sent).
 */
import { readPayload } from './payloads.ts';
import type { EffectHandler } from './relay.ts';
import { deliverCallback } from './delivery.ts';
import type { CallbackHandlerOptions } from './sep31-callbacks.ts';

export function sep12CallbackHandler(options: CallbackHandlerOptions): EffectHandler {
  const { db, config } = options;
  const allowLoopback = options.allowLoopback ?? config.callbacks.allowLoopback;
  return async (row, { now, signal }) => {
    const payload = readPayload(row, 'customer_status_changed');
    const customer = await db
      .selectFrom('customers')
      .select('callback_url')
      .where('id', '=', payload.customerId)
      .executeTakeFirst();
    const url = customer?.callback_url ?? null;
    if (url === null) return; // customer gone or callback removed: nothing to send
    const body = JSON.stringify(payload.body);
    await deliverCallback(
      { url, body, now, signal },
      {
        signingSecret: config.signingSecret,
        allowLoopback,
        timeoutMs: options.timeoutMs,
        resolve: options.resolve,
      },
    );
  };
}
