// A customer integration that cannot answer (the business server is away): the PUT is stored with its
// fields PROCESSING, the review is owed (customer_reviews_due, with backoff), the review worker asks again
// once due (`recheck`), and a verdict then settles it. A deletion the integration cannot hear of is a 503
// that keeps the customer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusinessServerUnavailableError } from '../../../src/integrations/business-client.ts';
import type {
  CustomerIntegration,
  CustomerReviewRequest,
} from '../../../src/integrations/customer-integration.ts';
import { runReviewCustomersPass } from '../../../src/workers/index.ts';
import { buildTestApp, eventually, KEYS, tokenFor, type TestApp } from '../../helpers/app.ts';

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

describe('SEP-12 reviews while the integration is away', () => {
  let t: TestApp;
  let token: string;
  let up = false;
  const asked: Pick<CustomerReviewRequest, 'type' | 'pending' | 'recheck'>[] = [];
  const deleted: string[] = [];
  const integration: CustomerIntegration = {
    async review(request) {
      asked.push({ type: request.type, pending: request.pending, recheck: request.recheck });
      if (!up) throw new BusinessServerUnavailableError('PUT /customer: connect ECONNREFUSED', null);
      return { verified: [...request.pending] };
    },
    async deleted(customer) {
      if (!up) throw new BusinessServerUnavailableError('DELETE /customer: connect ECONNREFUSED', null);
      deleted.push(customer.id);
    },
  };

  beforeAll(async () => {
    t = await buildTestApp({ customerIntegration: integration });
    token = await tokenFor(t.config, KEYS.acme.publicKey());
  });
  afterAll(() => t.close());

  const get = (id: string) =>
    t.app.inject({
      method: 'GET',
      url: '/sep12/customer',
      query: { id, type: 'sep31-sender' },
      headers: auth(token),
    });
  const due = (id: string) =>
    t.db.selectFrom('customer_reviews_due').selectAll().where('customer_id', '=', id).executeTakeFirst();

  it('stores the PUT with PROCESSING fields, asks again with backoff, and settles once the server answers', async () => {
    const put = await t.app.inject({
      method: 'PUT',
      url: '/sep12/customer',
      payload: { type: 'sep31-sender', first_name: 'Ada', last_name: 'Lovelace' },
      headers: auth(token),
    });
    expect(put.statusCode, put.body).toBe(202);
    const id = put.json().id as string;
    const before = (await get(id)).json();
    expect(before.status).toBe('PROCESSING');
    expect(before.provided_fields.first_name.status).toBe('PROCESSING');
    const owed = await due(id);
    expect(owed).toMatchObject({ attempts: 1 });
    expect(asked.every((a) => !a.recheck)).toBe(true);

    // Not yet due: nothing is asked.
    const askedBefore = asked.length;
    expect(await runReviewCustomersPass({ db: t.db, bus: t.bus, clock: () => new Date() })).toEqual({
      due: 0,
    });

    // Due, still down: asked again (recheck), pushed back further.
    const later = () => new Date(owed!.due_at.getTime() + 1);
    expect(await runReviewCustomersPass({ db: t.db, bus: t.bus, clock: later })).toEqual({ due: 1 });
    await eventually('the second attempt', async () => (await due(id))?.attempts === 2);
    expect(asked.slice(askedBefore).every((a) => a.recheck)).toBe(true);
    const second = await due(id);
    expect(second!.due_at.getTime() - owed!.due_at.getTime()).toBeGreaterThan(0);
    expect((await get(id)).json().status).toBe('PROCESSING');

    // Up again: the next due review decides, the customer is ACCEPTED and nothing is owed.
    up = true;
    expect(
      await runReviewCustomersPass({
        db: t.db,
        bus: t.bus,
        clock: () => new Date(second!.due_at.getTime() + 1),
      }),
    ).toEqual({ due: 1 });
    await eventually('the review to settle', async () => (await due(id)) === undefined);
    const after = (await get(id)).json();
    expect(after.status).toBe('ACCEPTED');
    expect(after.provided_fields.last_name.status).toBe('ACCEPTED');
  });

  it('a deletion the integration cannot take is a 503 with Retry-After, and the customer stays', async () => {
    up = true;
    const put = await t.app.inject({
      method: 'PUT',
      url: '/sep12/customer',
      payload: { type: 'sep31-sender', memo: '42', first_name: 'Grace', last_name: 'Hopper' },
      headers: auth(token),
    });
    const id = put.json().id as string;
    up = false;
    const url = `/sep12/customer/${KEYS.acme.publicKey()}`;
    const refused = await t.app.inject({
      method: 'DELETE',
      url,
      payload: { memo: '42' },
      headers: auth(token),
    });
    expect(refused.statusCode, refused.body).toBe(503);
    expect(refused.headers['retry-after']).toBeDefined();
    expect(refused.json()).toEqual({
      error: "the anchor's business server did not answer; try again shortly",
    });
    expect((await get(id)).statusCode).toBe(200);

    up = true;
    const done = await t.app.inject({ method: 'DELETE', url, payload: { memo: '42' }, headers: auth(token) });
    expect(done.statusCode, done.body).toBe(200);
    expect(deleted).toEqual([id]);
  });
});
