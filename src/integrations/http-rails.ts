import type {
  ExecuteOutgoingResult,
  PollOutgoingResult,
  RailsIntegration,
  RailsTransaction,
} from './rails-integration.ts';

/**
 * The rails as a business server over HTTP, in any language: `POST <baseUrl>/payouts` to pay,
 * `GET <baseUrl>/payouts?ids=` to poll. The contract is docs/rails-http.md.
 *
 * Only a 2xx answer with a well-formed body is an outcome. Anything else (a non-2xx status, a timeout, a
 * network error, a body we cannot read) leaves the payout's fate unknown, so it throws `HttpRailsError`:
 * the outbox retries later with the SAME idempotency key, and the business server answers as it did the
 * first time. Mooring never starts a fresh payout because a call failed.
 */
export interface HttpRailsOptions {
  /** e.g. `https://bank.example.com/mooring`; no trailing slash needed. */
  baseUrl: string;
  /** Per request. Default 20 s; keep it under the payout relay's handler timeout. */
  timeoutMs?: number;
  /** Sent as `Authorization: Bearer <authToken>`. */
  authToken?: string;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
}

export const DEFAULT_HTTP_RAILS_TIMEOUT_MS = 20_000;
/** Ids per poll request, to keep the query string short. */
const POLL_CHUNK = 50;

/** The business server's answer was not an outcome; the payout may or may not have happened. */
export class HttpRailsError extends Error {
  override name = 'HttpRailsError';
  readonly status: number | null;
  constructor(message: string, status: number | null, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }
}

export function createHttpRails(options: HttpRailsOptions): RailsIntegration {
  const base = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new Error(`HTTP rails: baseUrl must be http(s) (got ${options.baseUrl})`);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_RAILS_TIMEOUT_MS;
  const doFetch = options.fetch ?? fetch;
  const payoutsUrl = new URL('payouts', base);

  async function call(url: URL, init: RequestInit, signal: AbortSignal | undefined): Promise<unknown> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const headers: Record<string, string> = { accept: 'application/json', ...(init.headers as object) };
    if (options.authToken !== undefined) headers.authorization = `Bearer ${options.authToken}`;
    let response: Response;
    let text: string;
    try {
      response = await doFetch(url, {
        ...init,
        headers,
        // A redirected POST may be replayed as a GET elsewhere: not an outcome.
        redirect: 'error',
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      text = await response.text();
    } catch (error) {
      const reason = timeout.aborted ? `timed out after ${timeoutMs} ms` : errorText(error);
      throw new HttpRailsError(`${init.method} ${url.pathname}: ${reason}`, null, { cause: error });
    }
    if (response.status < 200 || response.status > 299) {
      throw new HttpRailsError(
        `${init.method} ${url.pathname}: HTTP ${response.status} ${text.slice(0, 200)}`.trim(),
        response.status,
      );
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new HttpRailsError(`${init.method} ${url.pathname}: the body is not JSON`, response.status, {
        cause: error,
      });
    }
  }

  return {
    async executeOutgoingTransaction(transaction, { idempotencyKey, signal }) {
      const body = await call(
        payoutsUrl,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
          body: JSON.stringify({ transaction, idempotency_key: idempotencyKey }),
        },
        signal,
      );
      return executeResult(body);
    },

    async pollOutgoingTransactions(transactions: readonly RailsTransaction[], { signal } = {}) {
      const results: PollOutgoingResult[] = [];
      for (let i = 0; i < transactions.length; i += POLL_CHUNK) {
        const ids = transactions.slice(i, i + POLL_CHUNK).map((t) => t.id);
        const url = new URL(payoutsUrl);
        url.searchParams.set('ids', ids.join(','));
        const body = await call(url, { method: 'GET' }, signal);
        results.push(...pollResults(body, new Set(ids)));
      }
      return results;
    },
  };
}

type Wire = Record<string, unknown>;

const isRecord = (value: unknown): value is Wire =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): value is string => typeof value === 'string' && value !== '';

/** `POST /payouts` answer → result; a body that is no outcome is an unknown outcome (throws). */
export function executeResult(body: unknown): ExecuteOutgoingResult {
  const bad = (why: string) => new HttpRailsError(`POST /payouts: ${why}`, null);
  if (!isRecord(body)) throw bad('the body is not a JSON object');
  const message = text(body.message) ? { message: body.message } : {};
  switch (body.status) {
    case 'pending_external':
      if (!text(body.external_transaction_id)) throw bad('pending_external needs external_transaction_id');
      return { status: 'pending_external', externalTransactionId: body.external_transaction_id, ...message };
    case 'completed':
      return {
        status: 'completed',
        ...(text(body.external_transaction_id) && { externalTransactionId: body.external_transaction_id }),
        ...message,
      };
    case 'failed':
      if (!text(body.message)) throw bad('failed needs a message');
      return { status: 'failed', message: body.message };
    case 'customer_info_needed': {
      if (!text(body.message)) throw bad('customer_info_needed needs a message');
      const fields = body.fields;
      if (fields !== undefined && !(Array.isArray(fields) && fields.every(text))) {
        throw bad('fields must be a list of SEP-9 field names');
      }
      return {
        status: 'customer_info_needed',
        message: body.message,
        ...(text(body.customer_type) && { customerType: body.customer_type }),
        ...(fields !== undefined && { fields: fields as string[] }),
      };
    }
    default:
      throw bad(`unknown status ${JSON.stringify(body.status)}`);
  }
}

/** `GET /payouts` answer → results for the ids asked about; other entries are ignored. */
export function pollResults(body: unknown, asked: ReadonlySet<string>): PollOutgoingResult[] {
  if (!isRecord(body) || !Array.isArray(body.payouts)) {
    throw new HttpRailsError('GET /payouts: the body must be {"payouts": [...]}', null);
  }
  const results: PollOutgoingResult[] = [];
  for (const entry of body.payouts) {
    if (!isRecord(entry) || !text(entry.id) || !asked.has(entry.id)) continue;
    const status = entry.status;
    if (status !== 'completed' && status !== 'pending_external' && status !== 'failed') continue;
    results.push({
      id: entry.id,
      status,
      ...(text(entry.message)
        ? { message: entry.message }
        : status === 'failed' && { message: 'the rails reported the payout failed' }),
      ...(text(entry.external_transaction_id) && { externalTransactionId: entry.external_transaction_id }),
    });
  }
  return results;
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
