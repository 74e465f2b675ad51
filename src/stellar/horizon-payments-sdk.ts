/**
 * The payment source of `streams/` over the Stellar SDK: Horizon's `/accounts/:id/payments` with
 * `join=transactions`, failed transactions excluded, as REST pages and as an SSE stream.
 *
 * Reconnection is the pipeline's job (`watchPayments`): a stream error ends the Observable, and the
 * pipeline reconnects with backoff from the last token it emitted. The SDK still rebuilds the stream
 * itself when Horizon ends it with its `close` event (after `limit` records), which loses nothing (it
 * resumes from the last paging token), and after `reconnectTimeoutMs` without a message, which we set
 * longer than the pipeline's silence timeout so that the pipeline decides.
 */
import { Horizon, NotFoundError } from '@stellar/stellar-sdk';
import { Observable } from 'rxjs';
import {
  HEARTBEAT,
  type Heartbeat,
  type HorizonPaymentRecord,
  type PaymentPage,
  type PaymentSource,
} from '../../streams/index.ts';

export interface HorizonPaymentSourceOptions {
  /** The SDK's own silence reconnect; keep it above the pipeline's `silenceMs`. Default 1 h. */
  reconnectTimeoutMs?: number;
  /** Sent as `X-App-Name`. */
  appName?: string;
}

/** The SSE connection failed (network error, non-200 answer, or Horizon's `event: error`). */
export class HorizonStreamError extends Error {
  /** HTTP status of a refused connection, when the event carries one. */
  readonly status: number | undefined;
  constructor(event: unknown) {
    const { message, code } = (event ?? {}) as { message?: unknown; code?: unknown };
    const status = typeof code === 'number' ? code : undefined;
    super(
      `Horizon payment stream failed${status !== undefined ? ` (HTTP ${status})` : ''}` +
        (typeof message === 'string' && message !== '' ? `: ${message}` : ''),
    );
    this.name = 'HorizonStreamError';
    this.status = status;
  }
}

/** A `PaymentSource` over `Horizon.Server(horizonUrl)` (plain http allowed for `http://` URLs). */
export function createHorizonPaymentSource(
  horizonUrl: string,
  options: HorizonPaymentSourceOptions = {},
): PaymentSource<HorizonPaymentRecord> {
  const server = new Horizon.Server(horizonUrl, {
    allowHttp: horizonUrl.startsWith('http://'),
    ...(options.appName !== undefined ? { appName: options.appName } : {}),
  });
  const payments = (account: string) =>
    server.payments().forAccount(account).join('transactions').includeFailed(false);

  return {
    async page(account, cursor, limit): Promise<PaymentPage<HorizonPaymentRecord>> {
      const page = await payments(account).cursor(cursor).order('asc').limit(limit).call();
      // The SDK's records are structurally ours; with join=transactions it keeps the embedded
      // transaction at `transaction_attr` (missing from its types).
      return { records: page.records as unknown as HorizonPaymentRecord[] };
    },

    stream(account, cursor) {
      return new Observable<HorizonPaymentRecord | Heartbeat>((subscriber) => {
        const close = payments(account)
          .cursor(cursor)
          .stream({
            onmessage: (message: unknown) => {
              subscriber.next(isRecord(message) ? message : HEARTBEAT);
            },
            onerror: (event: unknown) => {
              subscriber.error(new HorizonStreamError(event));
            },
            reconnectTimeout: options.reconnectTimeoutMs ?? 3_600_000,
          });
        return () => close();
      });
    },

    async latest(account) {
      try {
        const page = await payments(account).order('desc').limit(1).call();
        return page.records[0]?.paging_token ?? null;
      } catch (error) {
        if (error instanceof NotFoundError) return null;
        throw error;
      }
    },
  };
}

function isRecord(message: unknown): message is HorizonPaymentRecord {
  const m = message as { paging_token?: unknown; id?: unknown; type?: unknown } | null;
  return (
    typeof m === 'object' &&
    m !== null &&
    typeof m.paging_token === 'string' &&
    typeof m.id === 'string' &&
    typeof m.type === 'string'
  );
}
