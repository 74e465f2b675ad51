import {
  BusinessServerUnavailableError,
  objectBody,
  type BusinessAnswer,
  type BusinessClient,
} from './business-client.ts';
import type { CustomerIntegration, CustomerReview, CustomerReviewRequest } from './customer-integration.ts';

/**
 * SEP-12 reviews on the business server, in the Anchor Platform's callback shape (docs/business-http.md).
 * Mooring keeps the customers; the business server judges them:
 *
 * - `PUT /customer`: the customer's values after a SEP-12 PUT (files awaiting a verdict inline, base64);
 *   the answer is a verdict in SEP-12 `GET /customer` form.
 * - `GET /customer?id=&type=`: asked again later for fields still awaiting a verdict; a 404 (the server
 *   never got the PUT) sends the PUT again.
 * - `DELETE /customer/:id`: the customer was deleted.
 *
 * Field statuses: ACCEPTED → verified, REJECTED → rejected (with its `error`), PROCESSING,
 * VERIFICATION_REQUIRED or no entry → still awaiting a verdict. A customer `status` REJECTED rejects it
 * for the type.
 */
export function createHttpCustomerIntegration(client: BusinessClient): CustomerIntegration {
  async function put(request: CustomerReviewRequest): Promise<BusinessAnswer> {
    return client.call({ method: 'PUT', path: 'customer', body: await customerBody(request) });
  }

  return {
    async review(request) {
      if (!request.recheck) return verdictOf(await put(request), 'PUT /customer');
      const answer = await client.call({
        method: 'GET',
        path: 'customer',
        query: { id: request.customer.id, type: request.type },
        accept: [404],
      });
      if (answer.status === 404) return verdictOf(await put(request), 'PUT /customer');
      return verdictOf(answer, 'GET /customer');
    },

    async deleted(customer) {
      await client.call({
        method: 'DELETE',
        path: `customer/${encodeURIComponent(customer.id)}`,
        // Already gone there: what we wanted.
        accept: [404],
      });
    },
  };
}

/** What `PUT /customer` sends: the SEP-9 values by name, files as metadata (and bytes when pending). */
async function customerBody(request: CustomerReviewRequest) {
  const fields: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(request.fields)) {
    if (value.kind === 'text') {
      fields[name] = value.value;
      continue;
    }
    const bytes = request.pending.includes(name) ? await request.readFile(name) : null;
    fields[name] = {
      content_type: value.contentType,
      filename: value.filename,
      size: value.size,
      sha256: value.sha256,
      ...(bytes !== null && { data: Buffer.from(bytes).toString('base64') }),
    };
  }
  return {
    id: request.customer.id,
    account: request.customer.account,
    memo: request.customer.memo,
    type: request.type,
    transaction_id: request.transactionId,
    required: request.required,
    pending: request.pending,
    verifications: request.verifications,
    fields,
  };
}

const FIELD_STATUSES = new Set([
  'ACCEPTED',
  'REJECTED',
  'PROCESSING',
  'VERIFICATION_REQUIRED',
  'NOT_PROVIDED',
]);

/** A SEP-12-shaped verdict → the review; a body that is not one is "unavailable" (asked again later). */
export function verdictOf(answer: BusinessAnswer, what: string): CustomerReview {
  const body = objectBody(answer, what);
  const bad = (why: string) => new BusinessServerUnavailableError(`${what}: ${why}`, answer.status);
  const message = typeof body.message === 'string' && body.message !== '' ? body.message : undefined;
  if (body.status === 'REJECTED') {
    return { reject: { message: message ?? 'the customer was rejected' } };
  }
  const provided = body.provided_fields ?? {};
  if (typeof provided !== 'object' || provided === null || Array.isArray(provided)) {
    throw bad('provided_fields must be an object');
  }
  const verified: string[] = [];
  const rejected: Record<string, string> = {};
  for (const [name, entry] of Object.entries(provided as Record<string, unknown>)) {
    const status = (entry as { status?: unknown } | null)?.status;
    if (typeof status !== 'string' || !FIELD_STATUSES.has(status)) {
      throw bad(`provided_fields.${name}.status must be one of ${[...FIELD_STATUSES].join(', ')}`);
    }
    if (status === 'ACCEPTED') verified.push(name);
    if (status === 'REJECTED') {
      const error = (entry as { error?: unknown }).error;
      rejected[name] = typeof error === 'string' && error !== '' ? error : `${name} was not accepted`;
    }
  }
  return { verified, rejected, ...(message !== undefined && { message }) };
}
