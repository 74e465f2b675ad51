// The SEP-31 PATCH asks the integration's processPatchRequest before the values reach the transaction: a
// refusal is the sending anchor's 400 and changes nothing; an acceptance applies them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReferenceSep31Integration } from '../../../src/integrations/reference/sep31.ts';
import type { Sep31Integration, Sep31PatchRequest } from '../../../src/integrations/sep31-integration.ts';
import { accountAssigned, payment, transactionInput } from '../../fixtures/transactions.ts';
import { buildTestApp, KEYS, tokenFor, type TestApp } from '../../helpers/app.ts';

describe('PATCH /transactions/:id asks processPatchRequest', () => {
  let t: TestApp;
  let token: string;
  const asked: Sep31PatchRequest[] = [];

  beforeAll(async () => {
    const reference = createReferenceSep31Integration({ sendingAnchors: [], allowAnySendingAnchor: true });
    const integration: Sep31Integration = {
      ...reference,
      async processPatchRequest(request, context) {
        asked.push(request);
        expect(context.sendingAnchor.account).toBe(KEYS.acme.publicKey());
        return request.fields.receiver_routing_number === '000000000'
          ? { error: 'this routing number is closed' }
          : { ok: true };
      },
    };
    t = await buildTestApp({ integration });
    token = await tokenFor(t.config, KEYS.acme.publicKey());
  });
  afterAll(() => t.close());

  it('a refusal is a 400 with its text and leaves the transaction waiting; an acceptance applies', async () => {
    const input = transactionInput({ sendingAnchor: KEYS.acme.publicKey() });
    const at = '2026-11-24T10:05:00.000Z';
    await t.host.create(input, { eventId: `create:${input.id}`, then: [accountAssigned()] });
    await t.host.apply({
      eventId: `pay:${input.id}`,
      transactionId: input.id,
      event: { type: 'PAYMENT_RECEIVED', at, payment: payment() },
    });
    await t.host.apply({
      eventId: `info:${input.id}`,
      transactionId: input.id,
      event: {
        type: 'TRANSACTION_INFO_NEEDED',
        at,
        message: 'the routing number is wrong',
        fields: { receiver_routing_number: { description: 'routing number of the bank' } },
      },
    });
    const patch = (value: string) =>
      t.app.inject({
        method: 'PATCH',
        url: `/sep31/transactions/${input.id}`,
        headers: { authorization: `Bearer ${token}` },
        payload: { fields: { transaction: { receiver_routing_number: value } } },
      });

    const refused = await patch('000000000');
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toEqual({ error: 'this routing number is closed' });
    expect(asked).toEqual([
      {
        transactionId: input.id,
        status: 'pending_transaction_info_update',
        fields: { receiver_routing_number: '000000000' },
      },
    ]);
    const read = () =>
      t.app.inject({
        method: 'GET',
        url: `/sep31/transactions/${input.id}`,
        headers: { authorization: `Bearer ${token}` },
      });
    expect((await read()).json().transaction.status).toBe('pending_transaction_info_update');

    const accepted = await patch('021000021');
    expect(accepted.statusCode, accepted.body).toBe(200);
    expect(accepted.json().transaction.status).toBe('pending_receiver');
  });
});
