import { describe, expect, it } from 'vitest';
import { startTransaction, stepTransaction } from '../../../machines/index.ts';
import {
  businessEventEffects,
  businessEventId,
  businessEventJson,
  businessEventKinds,
  businessEventTopic,
  customerEvent,
  quoteEvent,
  transactionEvent,
  type BusinessEvent,
} from '../../../src/effects/business-events.ts';
import { readPayload } from '../../../src/effects/payloads.ts';
import { PermanentEffectError } from '../../../src/effects/relay.ts';
import { toSep31Transaction } from '../../../src/views/sep31-transaction.ts';
import { quoteView } from '../../../src/views/sep38-quote.ts';
import { accountAssigned, DISTRIBUTION, transactionInput } from '../../fixtures/transactions.ts';

const AT = new Date('2026-12-03T20:00:00.000Z');

function funded() {
  const input = transactionInput();
  const created = startTransaction(input);
  const assigned = stepTransaction(created.snapshot, accountAssigned('evt-memo'));
  if (!assigned.accepted) throw new Error(assigned.reason);
  return { input, step: assigned.step };
}

describe('transaction events', () => {
  it('carry the SEP-31 transaction as GET shows it, in the Anchor Platform shape', () => {
    const { input, step } = funded();
    const event = transactionEvent({
      type: 'transaction_created',
      status: step.status,
      context: step.snapshot.context,
      seq: 2,
      at: AT,
    });
    expect(Object.keys(event).sort()).toEqual(['id', 'payload', 'sep', 'timestamp', 'type']);
    expect(event.type).toBe('transaction_created');
    expect(event.sep).toBe('31');
    expect(event.timestamp).toBe('2026-12-03T20:00:00.000Z');
    expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(event.payload).toEqual({ transaction: toSep31Transaction(step.status, step.snapshot.context) });
    const { transaction } = event.payload as { transaction: object };
    expect(transaction).toMatchObject({
      id: input.id,
      status: 'pending_sender',
      amount_in: '100',
      amount_out: '98.5',
      amount_fee: '1.5',
      stellar_account_id: DISTRIBUTION,
      stellar_memo_type: 'text',
      stellar_memo: 'evt-memo',
    });
    // Amounts stay decimal strings end to end.
    expect(JSON.parse(JSON.stringify(event))).toEqual(event);
  });

  it('get one id per change: the same for the same version, another for the next', () => {
    const { step } = funded();
    const of = (seq: number) =>
      transactionEvent({
        type: 'transaction_status_changed',
        status: step.status,
        context: step.snapshot.context,
        seq,
        at: AT,
      }).id;
    expect(of(3)).toBe(of(3));
    expect(new Set([of(1), of(2), of(3), of(4)]).size).toBe(4);
    expect(businessEventId('quote:a')).not.toBe(businessEventId('customer:a:1'));
  });
});

describe('customer and quote events', () => {
  it('customer_updated carries the customer, its statuses and its version', () => {
    const customer = {
      id: 'c-1',
      account: DISTRIBUTION,
      memo: null,
      type: 'sep31-receiver',
      status: 'ACCEPTED',
      statuses: { 'sep31-receiver': 'ACCEPTED', 'sep31-sender': 'NEEDS_INFO' },
      version: 4,
      updated_at: AT.toISOString(),
    };
    const event = customerEvent(customer, AT);
    expect(event).toMatchObject({ type: 'customer_updated', sep: '12', payload: { customer } });
    expect(customerEvent({ ...customer, version: 5 }, AT).id).not.toBe(event.id);
  });

  it('quote_created carries the quote as SEP-38 GET /quote shows it', () => {
    const view = quoteView({
      id: 'q-1',
      account: DISTRIBUTION,
      memo: null,
      context: 'sep31',
      sellAsset: 'stellar:USDC:G…',
      sellAmount: '100',
      sellDeliveryMethod: null,
      buyAsset: 'iso4217:USD',
      buyAmount: '99',
      buyDeliveryMethod: 'SEPA',
      countryCode: null,
      price: '1',
      totalPrice: '1.0101010',
      fee: { total: '1', asset: 'stellar:USDC:G…' },
      expiresAt: new Date('2026-12-03T21:00:00Z'),
      createdAt: AT,
    });
    const event = quoteEvent(view, AT);
    expect(event).toMatchObject({
      type: 'quote_created',
      sep: '38',
      payload: {
        quote: {
          id: 'q-1',
          expires_at: '2026-12-03T21:00:00.000Z',
          sell_amount: '100',
          buy_amount: '99',
          buy_delivery_method: 'SEPA',
          total_price: '1.0101010',
          fee: { total: '1', asset: 'stellar:USDC:G…' },
        },
      },
    });
    expect('sell_delivery_method' in (event.payload as { quote: object }).quote).toBe(false);
  });
});

describe('outbox rows', () => {
  const event: BusinessEvent = {
    id: businessEventId('x'),
    type: 'transaction_status_changed',
    sep: '31',
    timestamp: AT.toISOString(),
    payload: { transaction: toSep31Transaction(funded().step.status, funded().step.snapshot.context) },
  };

  it('one row per destination, keyed by the event id, ordered under the transaction', () => {
    const rows = businessEventEffects(event, ['event_nats', 'event_webhook'], { id: 'tx-1', seq: 7 });
    expect(rows).toEqual([
      {
        transactionId: 'tx-1',
        seq: 7,
        kind: 'event_nats',
        payload: { kind: 'event_nats', event },
        idempotencyKey: `event_nats:${event.id}`,
      },
      {
        transactionId: 'tx-1',
        seq: 7,
        kind: 'event_webhook',
        payload: { kind: 'event_webhook', event },
        idempotencyKey: `event_webhook:${event.id}`,
      },
    ]);
    expect(businessEventEffects(event, [])).toEqual([]);
  });

  it('the relay reads the payload back through its schema, and fails a malformed one for good', () => {
    const [row] = businessEventEffects(event, ['event_nats']);
    expect(readPayload({ id: '1', payload: row!.payload }, 'event_nats').event).toEqual(event);
    expect(() =>
      readPayload(
        { id: '2', payload: { kind: 'event_nats', event: { ...event, type: 'other' } } },
        'event_nats',
      ),
    ).toThrow(PermanentEffectError);
  });

  it('destinations follow the configuration', () => {
    expect(businessEventKinds({ events: { nats: false, webhookUrl: null } })).toEqual([]);
    expect(businessEventKinds({ events: { nats: true, webhookUrl: null } })).toEqual(['event_nats']);
    expect(businessEventKinds({ events: { nats: true, webhookUrl: 'https://b.example/e' } })).toEqual([
      'event_nats',
      'event_webhook',
    ]);
  });

  it('topics are the subject tails of docs/events.md', () => {
    expect(businessEventTopic('transaction_created')).toBe('transaction.created');
    expect(businessEventTopic('transaction_status_changed')).toBe('transaction.status_changed');
    expect(businessEventTopic('customer_updated')).toBe('customer.updated');
    expect(businessEventTopic('quote_created')).toBe('quote.created');
  });
});

describe('businessEventJson', () => {
  it('writes the fields in the documented order, whatever order the stored copy has', () => {
    const event = transactionEvent({
      type: 'transaction_created',
      status: funded().step.status,
      context: funded().step.snapshot.context,
      seq: 1,
      at: AT,
    });
    const { payload, timestamp, sep, type, id } = event;
    const text = businessEventJson({ payload, timestamp, sep, type, id });
    expect(Object.keys(JSON.parse(text) as object)).toEqual(['id', 'type', 'sep', 'timestamp', 'payload']);
    expect(JSON.parse(text)).toEqual(event);
  });
});
