/**
 * SEP-31 status callbacks (SEPS.md §5.8): the handler for `status_changed` outbox rows. It POSTs
 * `{"transaction": <GET /transactions/:id body>}` rendered from the transaction as it was at THAT status
 * change (the outbox payload's copy), to the transaction's callback URL as registered now (the latest
 * `PUT /transactions/:id/callback` wins), signed with SIGNING_KEY.
 */
import type { Kysely } from 'kysely';
import type { Config } from '../config/index.ts';
import type { Database } from '../db/database.ts';
import { toSep31Transaction } from '../views/sep31-transaction.ts';
import type { ResolveHost } from './callback-url.ts';
import { deliverCallback } from './delivery.ts';
import { readPayload, type StatusChangedPayload } from './payloads.ts';
import type { EffectHandler } from './relay.ts';

export interface CallbackHandlerOptions {
  db: Kysely<Database>;
  config: Pick<Config, 'signingSecret' | 'callbacks'>;
  /** Overrides `config.callbacks.allowLoopback` (whether loopback callback URLs are accepted). */
  allowLoopback?: boolean;
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number;
  /** Host resolution, for tests. */
  resolve?: ResolveHost;
}

/** The body a SEP-31 callback carries for one status change: the exact JSON text that is signed. */
export function sep31CallbackBody(payload: StatusChangedPayload): string {
  const { status, context } = payload.transaction;
  return JSON.stringify({ transaction: toSep31Transaction(status, context) });
}

export function sep31CallbackHandler(options: CallbackHandlerOptions): EffectHandler {
  const { db, config } = options;
  const allowLoopback = options.allowLoopback ?? config.callbacks.allowLoopback;
  return async (row, { now, signal }) => {
    const payload = readPayload(row, 'status_changed');
    const transaction = await db
      .selectFrom('transactions')
      .select('callback_url')
      .where('id', '=', row.transaction_id ?? payload.transaction.context.id)
      .executeTakeFirst();
    const url = transaction?.callback_url ?? null;
    if (url === null) return; // no callback registered: nothing to send
    await deliverCallback(
      { url, body: sep31CallbackBody(payload), now, signal },
      {
        signingSecret: config.signingSecret,
        allowLoopback,
        timeoutMs: options.timeoutMs,
        resolve: options.resolve,
      },
    );
  };
}
