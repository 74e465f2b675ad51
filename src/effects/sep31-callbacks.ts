/**
 * SEP-31 status callbacks (SEPS.md §5.8): the handler for `status_changed` outbox rows. It POSTs
 * `{"transaction": <GET /transactions/:id body>}` rendered from the transaction as it was at THAT status
 * change (the outbox payload's copy), to the transaction's callback URL as registered now (the latest
 * `PUT /transactions/:id/callback` wins), signed with SIGNING_KEY.
 */
import type { Kysely } from 'kysely';
import {
  isTransactionStatus,
  type TransactionContext,
  type TransactionStatus,
} from '../../machines/index.ts';
import type { Config } from '../config/index.ts';
import type { Database } from '../db/database.ts';
import type { OutboxRow } from '../db/outbox.table.ts';
import { toSep31Transaction } from '../http/sep31.view.ts';
import type { ResolveHost } from './callback-url.ts';
import { deliverCallback } from './delivery.ts';
import { PermanentEffectError, type EffectHandler } from './relay.ts';

/** An outbox `status_changed` payload, as the actor host writes it. */
export interface StatusChangedPayload {
  kind: 'status_changed';
  status: TransactionStatus;
  transaction: { status: TransactionStatus; context: TransactionContext };
}

export interface CallbackHandlerOptions {
  db: Kysely<Database>;
  config: Pick<Config, 'signingSecret' | 'sandbox'>;
  /** Overrides `config.sandbox` (which decides whether loopback callback URLs are accepted). */
  sandbox?: boolean;
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
  const sandbox = options.sandbox ?? config.sandbox;
  return async (row, { now, signal }) => {
    const payload = statusChangedPayload(row);
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
        sandbox,
        timeoutMs: options.timeoutMs,
        resolve: options.resolve,
      },
    );
  };
}

function statusChangedPayload(row: OutboxRow): StatusChangedPayload {
  const payload = row.payload as Partial<StatusChangedPayload> | null;
  const transaction = payload?.transaction;
  if (
    typeof transaction !== 'object' ||
    transaction === null ||
    typeof transaction.status !== 'string' ||
    !isTransactionStatus(transaction.status) ||
    typeof transaction.context !== 'object' ||
    transaction.context === null
  ) {
    throw new PermanentEffectError(
      `outbox row ${row.id}: status_changed payload has no transaction { status, context }`,
    );
  }
  return payload as StatusChangedPayload;
}
