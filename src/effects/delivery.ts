/**
 * One signed callback POST (SEP-31 §5.8, SEP-12 §4.5): checks the URL again at send time, signs the exact
 * body, connects only to addresses that pass the SSRF policy (`guardedLookup`, so DNS rebinding between
 * check and connect cannot reach the private network), never follows redirects, and gives up after a
 * timeout. Resolves on 2xx; throws otherwise, so the relay retries.
 */
import http from 'node:http';
import https from 'node:https';
import { checkCallbackUrl, guardedLookup, isAllowedLoopbackUrl, type ResolveHost } from './callback-url.ts';
import { signCallback } from './signing.ts';

export const DEFAULT_CALLBACK_TIMEOUT_MS = 10_000;
const ERROR_SNIPPET_CHARS = 200;

export interface DeliveryOptions {
  /** S...: the SIGNING_KEY secret. */
  signingSecret: string;
  /** `callbacks.allowLoopback`: loopback callback URLs are accepted (see `checkCallbackUrl`). */
  allowLoopback: boolean;
  /** Whole-request timeout. Default 10 s. */
  timeoutMs?: number;
  /** Host resolution, for tests. Default: the system resolver. */
  resolve?: ResolveHost;
  /**
   * The URL is the operator's own (config, e.g. the business events webhook), not a sending anchor's: it
   * may be on the private network, so the SSRF checks are skipped.
   */
  trusted?: boolean;
}

export interface CallbackRequest {
  url: string;
  /** The exact JSON text sent and signed. */
  body: string;
  /** Signature timestamp. */
  now: Date;
  /** Abandons the request (e.g. the relay's per-call timeout). */
  signal?: AbortSignal;
}

export class CallbackDeliveryError extends Error {
  override name = 'CallbackDeliveryError';
  /** The HTTP status, when the receiver answered. */
  readonly status: number | null;
  constructor(message: string, status: number | null = null, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }
}

/** POSTs a signed callback; resolves with the 2xx status, throws `CallbackDeliveryError` otherwise. */
export async function deliverCallback(request: CallbackRequest, options: DeliveryOptions): Promise<number> {
  const { url, body, now } = request;
  const problem = options.trusted
    ? null
    : await checkCallbackUrl(url, { allowLoopback: options.allowLoopback, resolve: options.resolve });
  if (problem !== null) throw new CallbackDeliveryError(problem);
  const target = new URL(url);
  const timeoutMs = options.timeoutMs ?? DEFAULT_CALLBACK_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  const headers = {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(body, 'utf8')),
    'User-Agent': 'Mooring',
    ...signCallback({ url: target, body, secret: options.signingSecret, now }),
  };
  const where = `callback to ${target.host}`;
  const send = target.protocol === 'https:' ? https.request : http.request;

  return new Promise<number>((resolve, reject) => {
    const fail = (error: CallbackDeliveryError) => reject(error);
    const req = send(
      target,
      {
        method: 'POST',
        headers,
        signal,
        // A fresh connection each time: every connect goes through the guarded lookup.
        agent: false,
        ...(!options.trusted &&
          !isAllowedLoopbackUrl(target, options.allowLoopback) && {
            lookup: guardedLookup(options.resolve),
          }),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          // Delivered; the rest of the answer does not matter.
          res.on('error', () => undefined);
          res.resume();
          resolve(status);
          return;
        }
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          if (text.length >= ERROR_SNIPPET_CHARS) res.destroy();
        });
        const settle = () => {
          const snippet = text.slice(0, ERROR_SNIPPET_CHARS).replace(/\s+/g, ' ').trim();
          const redirect =
            status >= 300 && status < 400
              ? ` (redirect${res.headers.location ? ` to ${res.headers.location}` : ''}; redirects are not followed)`
              : '';
          fail(
            new CallbackDeliveryError(
              `${where} answered ${status}${redirect}${snippet ? `: ${snippet}` : ''}`,
              status,
            ),
          );
        };
        res.on('end', settle);
        res.on('close', settle);
        res.on('error', settle);
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => {
      const message = timeout.aborted
        ? `${where} timed out after ${timeoutMs} ms`
        : signal.aborted
          ? `${where} was abandoned`
          : `${where} failed: ${error.message}${error.code && !error.message.includes(error.code) ? ` (${error.code})` : ''}`;
      fail(new CallbackDeliveryError(message, null, { cause: error }));
    });
    req.end(body, 'utf8');
  });
}
