import { isDatabaseUnavailable } from './db/unavailable.ts';
import { BusinessServerUnavailableError } from './integrations/business-client.ts';

/**
 * The error catalog: each code has one HTTP status and one message. Bodies follow the SEPs:
 * `{"error": "..."}`. Details of 5xx errors are logged, never sent.
 */
export const ERRORS = {
  bad_request: { status: 400, message: 'bad request' },
  unauthenticated: { status: 401, message: 'authentication required' },
  unauthorized: { status: 403, message: 'authentication required' },
  forbidden: { status: 403, message: 'forbidden' },
  customer_info_needed: { status: 400, message: 'customer_info_needed' },
  not_found: { status: 404, message: 'not found' },
  conflict: { status: 409, message: 'the transaction cannot take this request in its current status' },
  unsupported_media_type: { status: 415, message: 'unsupported content type' },
  too_many_requests: { status: 429, message: 'too many requests' },
  not_ready: { status: 503, message: 'not ready' },
  internal: { status: 500, message: 'internal error' },
  horizon_unavailable: { status: 503, message: 'Horizon is unavailable; try again later' },
  busy: { status: 503, message: 'the anchor could not answer in time; try again shortly' },
  database_unavailable: { status: 503, message: 'the anchor is briefly unavailable; try again shortly' },
  business_unavailable: {
    status: 503,
    message: "the anchor's business server did not answer; try again shortly",
  },
  payload_too_large: { status: 413, message: 'the request is too large' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class MooringError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra fields of the SEP error body, e.g. `{ type: 'sep31-sender' }` for customer_info_needed. */
  readonly extra: Record<string, unknown>;
  constructor(
    code: ErrorCode,
    message?: string,
    extra: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message ?? ERRORS[code].message, options);
    this.name = 'MooringError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.extra = extra;
  }
}

/** The catalog code for a 4xx raised by Fastify or a plugin (body too large, wrong media type, ...). */
export function clientErrorCode(status: number): ErrorCode {
  if (status === 413) return 'payload_too_large';
  if (status === 415) return 'unsupported_media_type';
  if (status === 429) return 'too_many_requests';
  return 'bad_request';
}

/** The body a client sees: the message for 4xx, a generic text for 5xx. */
export function errorBody(error: MooringError): Record<string, unknown> {
  const message = error.status >= 500 ? ERRORS[error.code].message : error.message;
  return { error: message, ...error.extra };
}

/**
 * A failure because a part the anchor needs is away as the 503 to retry; null otherwise. The business server
 * is checked first: its refused connection would otherwise look like the database's.
 */
export function unavailableError(error: unknown): MooringError | null {
  if (error instanceof BusinessServerUnavailableError) {
    return new MooringError('business_unavailable', undefined, {}, { cause: error });
  }
  return isDatabaseUnavailable(error)
    ? new MooringError('database_unavailable', undefined, {}, { cause: error })
    : null;
}
