import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { Sep31Transaction } from '../views/sep31-transaction.ts';
import { createHttpRails } from './http-rails.ts';
import { createReferenceRails } from './reference/rails.ts';

/**
 * The anchor's off-chain payout rails, as Mooring calls them. Mirrors Polaris's `RailsIntegration`
 * (`execute_outgoing_transaction`, `poll_outgoing_transactions`), typed, with one addition that carries
 * the money guarantee: every payout comes with an idempotency key (`<transaction id>:payout:<attempt>`).
 *
 * Mooring may call `executeOutgoingTransaction` more than once with the same key: after a crash between the
 * call and recording its result, or after the call threw (timeout, network error). The rails MUST treat a
 * repeated key as the same payout: pay at most once, and answer with the first answer. Throw when the
 * outcome is unknown (Mooring retries with the same key); never answer `failed` unless no money moved.
 * @see https://django-polaris.readthedocs.io/en/stable/api/integrations/index.html#polaris.integrations.RailsIntegration
 */
export interface RailsIntegration {
  executeOutgoingTransaction(
    transaction: RailsTransaction,
    options: { idempotencyKey: string; signal?: AbortSignal },
  ): Promise<ExecuteOutgoingResult>;

  /**
   * The payouts' current state, for transactions in `pending_external`. Transactions the rails do not
   * mention stay as they are; `pending_external` means "not yet".
   */
  pollOutgoingTransactions(
    transactions: readonly RailsTransaction[],
    options?: { signal?: AbortSignal },
  ): Promise<PollOutgoingResult[]>;
}

/**
 * A transaction as the rails see it: the SEP-31 view, plus what a bank payout needs and the view leaves
 * out. Wire names stay snake_case (the HTTP adapter sends this object as is).
 */
export interface RailsTransaction extends Sep31Transaction {
  /** SEP-10 subject of the sending anchor. */
  sending_anchor: string;
  /** SEP-12 customer ids (`GET /customer?id=` on our SEP-12 server gives their KYC data). */
  sender_id: string | null;
  receiver_id: string | null;
  /** How the receiver is paid, e.g. `SEPA` (one of the asset's `funding_methods`). */
  funding_method: string | null;
  /** Legacy SEP-31 `fields.transaction` values. */
  fields: Record<string, string>;
}

export type ExecuteOutgoingResult =
  /** The payout was sent and is not yet confirmed: the transaction waits in `pending_external`. */
  | { status: 'pending_external'; externalTransactionId: string; message?: string }
  /** The receiver has the funds. */
  | { status: 'completed'; externalTransactionId?: string; message?: string }
  /** The rails refused the payout and no money moved: the transaction goes to `error` with `message`. */
  | { status: 'failed'; message: string }
  /**
   * The receiver's (or sender's) KYC data is not good enough to pay; no money moved. `fields` names the
   * SEP-9 fields to ask for again (default: the whole type), `customerType` defaults to `sep31-receiver`.
   */
  | { status: 'customer_info_needed'; message: string; customerType?: string; fields?: string[] };

export interface PollOutgoingResult {
  /** The Mooring transaction id. */
  id: string;
  status: 'completed' | 'pending_external' | 'failed';
  message?: string;
  externalTransactionId?: string;
}

/** Which rails to use: the built-in simulated bank, or a business server over HTTP (docs/rails-http.md). */
export type RailsSettings =
  | { kind: 'reference'; payoutDelaySeconds: number; failureRate?: number }
  | { kind: 'http'; baseUrl: string; timeoutSeconds?: number; authToken?: string };

export interface RailsDeps {
  /** The reference rails keep their payouts here, so a restart keeps their idempotency promise. */
  db: Kysely<Database>;
  /** Default: the real clock. */
  clock?: () => Date;
  /** Default: Math.random (the reference rails' failure draw). */
  random?: () => number;
  /** Default: the global fetch (the HTTP rails). */
  fetch?: typeof fetch;
}

/** The rails named by config. */
export function createRailsIntegration(settings: RailsSettings, deps: RailsDeps): RailsIntegration {
  if (settings.kind === 'http') {
    return createHttpRails({
      baseUrl: settings.baseUrl,
      ...(settings.timeoutSeconds !== undefined && { timeoutMs: settings.timeoutSeconds * 1000 }),
      ...(settings.authToken !== undefined && { authToken: settings.authToken }),
      ...(deps.fetch !== undefined && { fetch: deps.fetch }),
    });
  }
  return createReferenceRails({
    db: deps.db,
    payoutDelaySeconds: settings.payoutDelaySeconds,
    ...(settings.failureRate !== undefined && { failureRate: settings.failureRate }),
    ...(deps.clock !== undefined && { clock: deps.clock }),
    ...(deps.random !== undefined && { random: deps.random }),
  });
}
