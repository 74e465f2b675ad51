// `mooring operator <method>` as a process against a listening Mooring: the result printed as JSON, the
// transition made through the actors, the caller recorded, and a refusal as one line with exit code 1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listEvents } from '../../src/db/transactions.repository.ts';
import { parseOperatorParams } from '../../src/cli/operator.ts';
import { accountAssigned, payment, transactionInput } from '../fixtures/transactions.ts';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { runMooring } from '../helpers/process.ts';

const TOKEN = 'operator-token-for-the-cli-tests-012345';

describe('mooring operator', () => {
  let t: TestApp;
  let url: string;

  beforeAll(async () => {
    t = await buildTestApp({ env: { OPERATOR_TOKEN: TOKEN } });
    url = await t.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await t?.close();
  });

  const operator = (args: string[], env: Record<string, string> = {}) =>
    runMooring(['operator', ...args], { OPERATOR_TOKEN: TOKEN, MOORING_URL: url, ...env });

  async function payingOut() {
    const input = transactionInput();
    await t.host.create(input, { eventId: `create:${input.id}`, then: [accountAssigned()] });
    for (const [n, event] of [
      { type: 'PAYMENT_RECEIVED' as const, at: '2026-11-24T10:10:00.000Z', payment: payment() },
      { type: 'PAYOUT_REQUESTED' as const, at: '2026-11-24T10:11:00.000Z' },
    ].entries()) {
      await t.host.apply({ eventId: `fixture-${input.id}-${n}`, transactionId: input.id, event });
    }
    return input.id;
  }

  it('drives a transition and prints the transaction; the event log names who did it', async () => {
    const id = await payingOut();
    const pending = await operator([
      'notify_offchain_funds_pending',
      `transaction_id=${id}`,
      'external_transaction_id=bank-42',
      '--as',
      'bob',
    ]);
    expect(pending.code, pending.output).toBe(0);
    expect(JSON.parse(pending.output)).toMatchObject({
      id,
      status: 'pending_external',
      external_transaction_id: 'bank-42',
    });

    const sent = await operator(
      ['notify_offchain_funds_sent', '--params', JSON.stringify({ transaction_id: id })],
      {
        MOORING_OPERATOR: 'carol',
      },
    );
    expect(sent.code, sent.output).toBe(0);
    expect(JSON.parse(sent.output)).toMatchObject({ id, status: 'completed' });

    const log = await listEvents(t.db, id);
    expect(log.slice(-2).map((e) => [e.event_type, e.operator])).toEqual([
      ['PAYOUT_PENDING_EXTERNAL', 'bob'],
      ['PAYOUT_COMPLETED', 'carol'],
    ]);
  });

  it('reads with typed params (key:=json)', async () => {
    const id = await payingOut();
    const { code, output } = await operator([
      'get_transactions',
      'statuses:=["pending_receiver"]',
      'page_size:=100',
    ]);
    expect(code, output).toBe(0);
    const records = JSON.parse(output).records as { id: string; state: string }[];
    expect(records.find((r) => r.id === id)?.state).toBe('pending_receiver.paying_out');
  });

  it('a refusal is one line with the code and what the state takes, and exit code 1', async () => {
    const id = await payingOut();
    const { code, output } = await operator(['notify_transaction_expired', `transaction_id=${id}`]);
    expect(code).toBe(1);
    expect(output.trim().split('\n')).toHaveLength(1);
    expect(output).toMatch(
      /^mooring operator notify_transaction_expired: error -32001: EXPIRE_NOW is not accepted/,
    );
    expect(output).toContain('notify_offchain_funds_sent');
  });

  it('a wrong token is one line naming the HTTP status', async () => {
    const { code, output } = await operator(['get_transactions'], { OPERATOR_TOKEN: 'wrong-token' });
    expect(code).toBe(1);
    expect(output.trim()).toBe('mooring operator get_transactions: HTTP 401: operator token required');
  });

  it('rpc.discover prints the OpenRPC document', async () => {
    const { code, output } = await operator(['rpc.discover']);
    expect(code, output).toBe(0);
    const document = JSON.parse(output);
    expect(document.methods.map((m: { name: string }) => m.name)).toContain('notify_refund_sent');
  });
});

describe('operator params on the command line', () => {
  it('key=value is a string, key:=json is JSON, dots nest, and they override --params', () => {
    expect(
      parseOperatorParams('{"transaction_id":"a","page_size":5}', [
        'refund.id=abc',
        'refund.amount=10.5',
        'page_size:=2',
        'flag:=true',
      ]),
    ).toEqual({ transaction_id: 'a', page_size: 2, flag: true, refund: { id: 'abc', amount: '10.5' } });
    expect(() => parseOperatorParams('[1]', [])).toThrow(/JSON object/);
    expect(() => parseOperatorParams(undefined, ['oops'])).toThrow(/key=value/);
    expect(() => parseOperatorParams(undefined, ['n:=nope'])).toThrow(/not valid JSON/);
  });
});
