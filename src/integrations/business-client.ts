import { signCallback } from '../effects/signing.ts';

/**
 * The HTTP client every business-server adapter shares (docs/business-http.md): one base URL, a Bearer
 * token, a `Signature` header like SEP-31 callbacks, a timeout per request, and bounded retries for the
 * calls that are safe to repeat (GET, PUT, DELETE). A call either gets an answer the adapter can read or
 * throws {@link BusinessServerUnavailableError}, which the HTTP layer answers with 503 and `Retry-After`.
 */
export interface BusinessClientOptions {
  /** e.g. `https://backoffice.example.com/mooring`; no trailing slash needed. */
  url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string | null;
  /** S...: signs each request (`Signature: t=…, s=…`); null or absent: unsigned. */
  signingSecret?: string | null;
  /** Per attempt. */
  timeoutMs: number;
  /** Extra attempts of an idempotent call that got no answer (or a 5xx). */
  retries: number;
  /** Pause before the first retry, doubled for each next one. Default 200 ms. */
  retryDelayMs?: number;
  fetch?: typeof fetch;
  clock?: () => Date;
}

export interface BusinessRequest {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** Relative to the base URL, e.g. `rate` or `customer/123`. */
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  /** 4xx statuses the caller reads itself (e.g. 404, 422); any other non-2xx is "unavailable". */
  accept?: readonly number[];
}

export interface BusinessAnswer {
  status: number;
  /** The parsed JSON body, or null for an empty one. */
  body: unknown;
}

export interface BusinessClient {
  call(request: BusinessRequest): Promise<BusinessAnswer>;
}

/** The business server gave no usable answer: no connection, a timeout, a 5xx, or a body we cannot read. */
export class BusinessServerUnavailableError extends Error {
  override name = 'BusinessServerUnavailableError';
  /** The HTTP status it answered, or null when none came. */
  readonly httpStatus: number | null;
  constructor(message: string, httpStatus: number | null, options?: ErrorOptions) {
    super(message, options);
    this.httpStatus = httpStatus;
  }
}

const IDEMPOTENT = new Set(['GET', 'PUT', 'DELETE']);

export function createBusinessClient(options: BusinessClientOptions): BusinessClient {
  const base = new URL(options.url.endsWith('/') ? options.url : `${options.url}/`);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new Error(`business server: url must be http(s) (got ${options.url})`);
  }
  const doFetch = options.fetch ?? fetch;
  const clock = options.clock ?? (() => new Date());
  const retryDelayMs = options.retryDelayMs ?? 200;

  async function once(request: BusinessRequest): Promise<BusinessAnswer> {
    const url = new URL(request.path, base);
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, value);
    }
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.signingSecret) {
      // A body is signed as sent; a request without one signs its path and query instead.
      const signed = body ?? `${url.pathname}${url.search}`;
      Object.assign(
        headers,
        signCallback({ url, body: signed, secret: options.signingSecret, now: clock() }),
      );
    }
    const what = `${request.method} ${url.pathname}`;
    const timeout = AbortSignal.timeout(options.timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await doFetch(url, {
        method: request.method,
        headers,
        ...(body !== undefined && { body }),
        redirect: 'error',
        signal: timeout,
      });
      text = await response.text();
    } catch (error) {
      const reason = timeout.aborted ? `timed out after ${options.timeoutMs} ms` : errorText(error);
      throw new BusinessServerUnavailableError(`${what}: ${reason}`, null, { cause: error });
    }
    const ok = response.status >= 200 && response.status <= 299;
    if (!ok && !(request.accept ?? []).includes(response.status)) {
      throw new BusinessServerUnavailableError(
        `${what}: HTTP ${response.status} ${text.slice(0, 200)}`.trim(),
        response.status,
      );
    }
    if (text.trim() === '') return { status: response.status, body: null };
    try {
      return { status: response.status, body: JSON.parse(text) as unknown };
    } catch (error) {
      throw new BusinessServerUnavailableError(`${what}: the body is not JSON`, response.status, {
        cause: error,
      });
    }
  }

  return {
    async call(request) {
      const attempts = IDEMPOTENT.has(request.method) ? 1 + options.retries : 1;
      for (let attempt = 1; ; attempt++) {
        try {
          return await once(request);
        } catch (error) {
          // A 4xx will be the same next time; only silence and 5xx are worth another try.
          const status = (error as BusinessServerUnavailableError).httpStatus;
          const retryable = status === null || status >= 500;
          if (attempt >= attempts || !retryable) throw error;
          await new Promise((resolve) => setTimeout(resolve, retryDelayMs * 2 ** (attempt - 1)));
        }
      }
    },
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The body as a JSON object, or "unavailable" (the server answered something we cannot read). */
export function objectBody(answer: BusinessAnswer, what: string): Record<string, unknown> {
  if (!isRecord(answer.body)) {
    throw new BusinessServerUnavailableError(`${what}: the body is not a JSON object`, answer.status);
  }
  return answer.body;
}

/** The `error` text of a refusal body (`{"error": "..."}`), or the fallback. */
export function errorOf(answer: BusinessAnswer, fallback: string): string {
  const error = isRecord(answer.body) ? answer.body.error : undefined;
  return typeof error === 'string' && error.trim() !== '' ? error : fallback;
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
