// The console's reads on every test database: a state's transactions and searches (paged newest first in SQL),
// unmatched payments, what the transaction panel shows (amounts expected and received, the reason for `error`,
// the sending anchor's name, the assets' decimals), and the transition each event recorded.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordUnmatchedPayment } from '../../../src/db/unmatched-payments.repository.ts';
import { readRecentTransitions } from '../../../src/viewer/read-model.ts';
import {
  VIEWER_PATHS,
  type ViewerMachine,
  type ViewerMachines,
  type ViewerPage,
  type ViewerTransaction,
  type ViewerTransactionSummary,
  type ViewerUnmatchedPayment,
} from '../../../src/viewer/api.ts';
import { accountAssigned, payment, transactionInput } from '../../fixtures/transactions.ts';
import { testDatabases } from '../../helpers/database.ts';
import { AT, OPERATOR, OPERATOR_TOKEN, viewerWorld, type ViewerWorld } from './viewer-support.ts';

describe.each(testDatabases())('the console on $name', (database) => {
  let w: ViewerWorld;
  let machine: ViewerMachine;
  const get = (url: string, headers: Record<string, string> = OPERATOR) =>
    w.app.inject({ method: 'GET', url, headers });
  const list = async (query: string) => {
    const response = await get(`${VIEWER_PATHS.transactions}?${query}`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json<ViewerPage<ViewerTransactionSummary>>();
  };
  const transaction = async (id: string) => {
    const response = await get(`${VIEWER_PATHS.transaction}${id}`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json<ViewerTransaction>();
  };
  /** Creates a transaction started at `startedAt`, waiting in pending_sender; returns its id and memo. */
  const create = async (startedAt: string) => {
    const input = transactionInput({ startedAt });
    const assigned = accountAssigned();
    await w.host.create(input, { eventId: 'create', then: [assigned] });
    return { id: input.id, memo: (assigned as { stellarMemo: string }).stellarMemo };
  };

  const ids: string[] = [];
  let underPaid: { id: string; memo: string; hash: string };

  beforeAll(async () => {
    w = await viewerWorld(database);
    machine = (await get(VIEWER_PATHS.machines)).json<ViewerMachines>().machines.find((m) => m.counted)!;
    // Five waiting, started a minute apart (the newest last); one under-paid (error); one paid exactly.
    for (let i = 0; i < 5; i++) ids.push((await create(`2026-11-24T10:0${i}:00.000Z`)).id);
    const under = await create('2026-11-24T09:00:00.000Z');
    const hash = 'ab'.repeat(32);
    await w.apply(under.id, {
      type: 'PAYMENT_RECEIVED',
      at: AT,
      payment: payment({ amount: '60', transactionHash: hash }),
    });
    underPaid = { ...under, hash };
    const exact = await create('2026-11-24T08:00:00.000Z');
    await w.pay(exact.id);
  });
  afterAll(() => w?.close());

  it("lists a state's transactions newest first, a page at a time", async () => {
    const first = await list('state=transaction.pending_sender&limit=2');
    expect(first.items.map((t) => t.id)).toEqual([ids[4], ids[3]]);
    expect(first.next).not.toBeNull();
    const second = await list(
      `state=transaction.pending_sender&limit=2&before=${encodeURIComponent(first.next!)}`,
    );
    expect(second.items.map((t) => t.id)).toEqual([ids[2], ids[1]]);
    const third = await list(
      `state=transaction.pending_sender&limit=2&before=${encodeURIComponent(second.next!)}`,
    );
    expect(third.items.map((t) => t.id)).toEqual([ids[0]]);
    expect(third.next).toBeNull();
    expect(third.items[0]).toMatchObject({ status: 'pending_sender', state: 'transaction.pending_sender' });
  });

  it('lists error (with its reason) and sub-states, and a compound state holds its sub-states', async () => {
    const errors = await list('state=transaction.error');
    expect(errors.items.map((t) => t.id)).toEqual([underPaid.id]);
    expect(errors.items[0]!.statusMessage).toMatch(/^under-paid: received 60, expected 100/);
    const ready = await list('state=transaction.pending_receiver.ready');
    expect(ready.items).toHaveLength(1);
    expect(ready.items[0]!.state).toBe('transaction.pending_receiver.ready');
    expect((await list('state=transaction.pending_receiver')).items.map((t) => t.id)).toEqual(
      ready.items.map((t) => t.id),
    );
    expect((await list('state=transaction.pending_receiver.preparing')).items).toEqual([]);
  });

  it('finds a transaction by id, memo or Stellar transaction hash, and nothing by a near miss', async () => {
    for (const q of [underPaid.id, underPaid.memo, underPaid.hash]) {
      expect(
        (await list(`q=${encodeURIComponent(q)}`)).items.map((t) => t.id),
        q,
      ).toEqual([underPaid.id]);
    }
    expect((await list(`q=${underPaid.hash.slice(0, 60)}`)).items).toEqual([]);
    // A search within a state.
    expect((await list(`state=transaction.pending_sender&q=${underPaid.id}`)).items).toEqual([]);
  });

  it('refuses bad list queries with 400 and a SEP-style error, never 500', async () => {
    for (const query of [
      '',
      'state=transaction.nowhere',
      'state=pending_sender',
      'q=%27%3B%20drop%20table',
      `q=${'a'.repeat(129)}`,
      'state=transaction.error&limit=0',
      'state=transaction.error&limit=101',
      'state=transaction.error&limit=ten',
      'state=transaction.error&before=yesterday',
      'state=transaction.error&state=transaction.completed',
    ]) {
      const response = await get(`${VIEWER_PATHS.transactions}?${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(response.json<{ error: string }>().error, query).toMatch(/\S/);
    }
    const unauthenticated = await get(`${VIEWER_PATHS.transactions}?state=transaction.error`, {});
    expect(unauthenticated.statusCode).toBe(401);
  });

  it('shows the amounts expected and received, the reason, the anchor name and the decimals', async () => {
    const t = await transaction(underPaid.id);
    expect(t).toMatchObject({
      status: 'error',
      amountReceived: '60',
      statusMessage: expect.stringMatching(/^under-paid: received 60, expected 100/),
      stellarMemo: underPaid.memo,
      stellarTransactionId: underPaid.hash,
      refunds: null,
    });
    expect(Number(t.amountExpected)).toBe(100);
    expect(t.amountReceivedAsset).toBe(t.amountInAsset);
    const anchor = w.config.sendingAnchors.find((a) => a.signingKeys.includes(t.sendingAnchor));
    expect(t.sendingAnchorName).toBe(anchor?.name ?? null);
    const asset = w.config.assets.find((a) => t.amountInAsset === `stellar:${a.code}:${a.issuer}`);
    expect(t.decimals).toEqual(asset === undefined ? {} : { [t.amountInAsset]: asset.significantDecimals });
    // An error transaction accepts a refund: the console offers it.
    expect(t.accepts).toEqual(expect.arrayContaining(['REFUND_SENT', 'RECOVER']));
  });

  it('records which of the guarded twins each payment took', async () => {
    const edgesOf = async (id: string) => {
      const t = await transaction(id);
      return t.path.edges.map((e) => machine.edges[Number(e)]!).filter((e) => e.event === 'PAYMENT_RECEIVED');
    };
    const [under] = await edgesOf(underPaid.id);
    expect(under).toMatchObject({ from: 'transaction.pending_sender', to: 'transaction.error' });
    const exactId = (await list('state=transaction.pending_receiver.ready')).items[0]!.id;
    const exact = await edgesOf(exactId);
    expect(exact).toHaveLength(1);
    expect(exact[0]!.guard).toContain('paidExactly');
    const rows = await w.db.db
      .selectFrom('transaction_events')
      .select(['event_type', 'transition'])
      .where('transaction_id', '=', exactId)
      .orderBy('seq')
      .execute();
    expect(rows).toEqual([
      { event_type: 'CREATED', transition: null },
      {
        event_type: 'ACCOUNT_ASSIGNED',
        transition: expect.stringMatching(/^transaction\.pending_receiver\.preparing:ACCOUNT_ASSIGNED:/),
      },
      { event_type: 'PAYMENT_RECEIVED', transition: exact[0]!.transition },
    ]);
    // The live feed names the same arrow.
    const live = (await readRecentTransitions(w.db.db, 100)).filter((t) => t.transactionId === exactId);
    expect(live.map((t) => t.edge)).toEqual([
      null,
      expect.any(String),
      machine.edges.find((e) => e.transition === exact[0]!.transition)!.id,
    ]);
  });

  it('lists unmatched payments newest first, a page at a time, and with their transaction', async () => {
    const stored: string[] = [];
    for (let i = 0; i < 3; i++) {
      const operationId = `${Date.now()}${i}`;
      await recordUnmatchedPayment(w.db.db, {
        operationId,
        transactionHash: randomUUID().replaceAll('-', '').padEnd(64, '0'),
        account: 'GDESTINATIONACCOUNTXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
        fromAccount: null,
        amount: `${i + 1}.5000000`,
        assetCode: 'USDC',
        assetIssuer: 'GISSUER',
        memoType: 'text',
        memo: `stray-${i}`,
        reason: i === 2 ? 'not_pending_sender' : 'unknown_memo',
        transactionId: i === 2 ? underPaid.id : null,
        payload: {},
      });
      stored.push(operationId);
    }
    const page = async (query: string) => {
      const response = await get(`${VIEWER_PATHS.unmatched}?${query}`);
      expect(response.statusCode, response.body).toBe(200);
      return response.json<ViewerPage<ViewerUnmatchedPayment>>();
    };
    const first = await page('limit=2');
    expect(first.items.map((p) => p.operationId)).toEqual([stored[2], stored[1]]);
    const second = await page(`limit=2&before=${first.next}`);
    expect(second.items.map((p) => p.operationId)).toEqual([stored[0]]);
    expect(second.next).toBeNull();
    expect(first.items[0]).toMatchObject({
      amount: expect.stringMatching(/^3\.5/),
      asset: 'stellar:USDC:GISSUER',
      memo: 'stray-2',
      reason: 'not_pending_sender',
      transactionId: underPaid.id,
      refundedAt: null,
    });
    expect((await transaction(underPaid.id)).unmatchedPayments.map((p) => p.operationId)).toEqual([
      stored[2],
    ]);
    expect((await get(`${VIEWER_PATHS.unmatched}?before=x`)).statusCode).toBe(400);
  });

  it("takes the console's actions under its session: the operator API at the viewer's path", async () => {
    const signedIn = await w.app.inject({
      method: 'POST',
      url: VIEWER_PATHS.session,
      payload: { token: OPERATOR_TOKEN },
    });
    const cookie = [signedIn.headers['set-cookie'] ?? []]
      .flat()
      .find((c) => c.startsWith('mooring_operator='))!
      .split(';')[0]!;
    const call = (headers: Record<string, string>) =>
      w.app.inject({
        method: 'POST',
        url: VIEWER_PATHS.rpc,
        headers: { 'content-type': 'application/json', ...headers },
        payload: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'get_transaction',
          params: { transaction_id: underPaid.id },
        }),
      });
    const answer = await call({ cookie });
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.json()).toMatchObject({ id: 1, result: { id: underPaid.id, status: 'error' } });
    expect((await call({})).statusCode).toBe(401);
    // The cookie is the viewer's: the Bearer-only operator endpoint does not take it.
    const elsewhere = await w.app.inject({
      method: 'POST',
      url: '/operator/rpc',
      headers: { 'content-type': 'application/json', cookie },
      payload: '{"jsonrpc":"2.0","id":1,"method":"get_transaction","params":{}}',
    });
    expect(elsewhere.statusCode).toBe(401);
  });
});
