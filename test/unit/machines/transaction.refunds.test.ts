/**
 * Refund requests and payout reconciliation in the pure machine: what a request records, which status it
 * shows, how confirmations and failures settle it, and why a payout with an unknown outcome waits for an
 * explicit resolution.
 */
import { describe, expect, it } from 'vitest';
import { stepTransaction, type TransactionEvent } from '../../../machines/index.ts';
import { accept, ASSET, at, ev, makeInput, paths, run } from './fixtures.ts';

const request = (refundId: string, amount: string, extra: Partial<TransactionEvent> = {}) =>
  ({ type: 'REFUND_REQUESTED', at: at(8), refundId, amount, fee: '0', ...extra }) as TransactionEvent;
const sent = (refundId: string, amount: string, fee = '0') =>
  ({
    type: 'REFUND_SENT',
    at: at(9),
    refundId,
    refund: { id: 'h'.repeat(64), amount, fee },
  }) as TransactionEvent;

describe('refund requests', () => {
  it('a full refund of an under-payment records send_refund, shows pending_stellar, then ends refunded', () => {
    const underPaid = run([ev.accountAssigned, ev.paidUnder]);
    const asked = accept(underPaid.snapshot, request('t:refund:1', '50'));
    expect(asked.status).toBe('pending_stellar');
    expect(asked.effects).toContainEqual(
      expect.objectContaining({
        kind: 'send_refund',
        refundId: 't:refund:1',
        amount: '50',
        idempotencyKey: 't:refund:1',
      }),
    );
    const done = accept(asked.snapshot, sent('t:refund:1', '50'));
    expect(done.status).toBe('refunded');
    expect(done.snapshot.context.refunds?.amountRefunded).toBe('50');
    expect(done.snapshot.context.refundsInFlight).toEqual([]);
  });

  it('partial refunds keep the status, lower amount_out once confirmed, and cannot exceed what was held', () => {
    const ready = run(paths.ready);
    const first = accept(ready.snapshot, request('t:refund:a', '30'));
    expect(first.status).toBe('pending_receiver');
    // 30 in flight: asking for 71 more would refund more than the 100 credited.
    expect(stepTransaction(first.snapshot, request('t:refund:b', '71')).accepted).toBe(false);
    const second = accept(first.snapshot, request('t:refund:b', '20'));
    const confirmed = accept(second.snapshot, sent('t:refund:a', '30'));
    expect(confirmed.snapshot.context.amountOut).toBe('68');
    expect(confirmed.snapshot.context.refundsInFlight?.map((r) => r.refundId)).toEqual(['t:refund:b']);
  });

  it('a partial refund of a converted transaction keeps the price: amount_out falls by the same share', () => {
    // A firm quote: 100 USDC in, fee 2 USDC, 491 BRL out (cents).
    const quoted = makeInput({
      quoteId: 'q-1',
      amountOutAsset: 'iso4217:BRL',
      amountOut: '491',
      amountOutDecimals: 2,
      feeDetails: { total: '2', asset: ASSET },
    });
    const ready = run(paths.ready, quoted);
    const first = accept(ready.snapshot, request('t:refund:a', '30', { fee: '1' }));
    const after30 = accept(first.snapshot, sent('t:refund:a', '30', '1'));
    // 67 of the 98 net still held: 491 × 67 / 98 = 335.6836… BRL, down to cents (not 100 − 2 − 30 − 1 = 67).
    expect(after30.snapshot.context.amountOut).toBe('335.68');
    // 10 more: 335.68 × 57 / 67 = 285.5785… → 285.57, never above 491 × 57 / 98 = 285.58 from the quote.
    const second = accept(after30.snapshot, request('t:refund:b', '10'));
    const after40 = accept(second.snapshot, sent('t:refund:b', '10'));
    expect(after40.snapshot.context.amountOut).toBe('285.57');
    const all = accept(after40.snapshot, request('t:refund:c', '60'));
    expect(accept(all.snapshot, sent('t:refund:c', '60')).snapshot.context.amountOut).toBe('0');
  });

  it('the payout waits while a refund is in flight', () => {
    const asked = accept(run(paths.ready).snapshot, request('t:refund:a', '30'));
    expect(stepTransaction(asked.snapshot, ev.payoutRequested).accepted).toBe(false);
  });

  it('a refund the business sends records no effect', () => {
    const asked = accept(run(paths.ready).snapshot, request('t:refund:a', '100', { sentBy: 'business' }));
    expect(asked.status).toBe('pending_stellar');
    expect(asked.effects.filter((e) => e.kind === 'send_refund')).toEqual([]);
  });

  it('a failed full refund goes to error with the reason, and may be asked again', () => {
    const asked = accept(run(paths.ready).snapshot, request('t:refund:a', '100'));
    const failed = accept(asked.snapshot, {
      type: 'REFUND_FAILED',
      at: at(9),
      refundId: 't:refund:a',
      message: 'op_no_trust',
    });
    expect(failed.status).toBe('error');
    expect(failed.snapshot.context.statusMessage).toMatch(/op_no_trust/);
    expect(accept(failed.snapshot, request('t:refund:b', '100')).status).toBe('pending_stellar');
  });
});

describe('the excess of an over-payment', () => {
  const overPaid = () => run([ev.accountAssigned, ev.paidOver]);

  it('holds the payout until it is refunded, without changing the status or amount_out', () => {
    const paid = overPaid();
    expect(stepTransaction(paid.snapshot, ev.payoutRequested).accepted).toBe(false);
    // Only the exact excess is an excess refund.
    expect(stepTransaction(paid.snapshot, request('t:refund:excess', '10', { excess: true })).accepted).toBe(
      false,
    );
    const asked = accept(paid.snapshot, request('t:refund:excess', '10.5', { excess: true }));
    expect(asked.status).toBe('pending_receiver');
    const done = accept(asked.snapshot, sent('t:refund:excess', '10.5'));
    expect(done.status).toBe('pending_receiver');
    expect(done.snapshot.context.amountOut).toBe(paid.snapshot.context.amountOut);
    expect(done.snapshot.context.refunds?.amountRefunded).toBe('10.5');
    expect(
      stepTransaction(done.snapshot, request('t:refund:excess2', '10.5', { excess: true })).accepted,
    ).toBe(false);
    expect(accept(done.snapshot, ev.payoutRequested).status).toBe('pending_receiver');
  });
});

describe('payout reconciliation', () => {
  const unknown = () =>
    accept(run(paths.payingOut).snapshot, { type: 'PAYOUT_UNKNOWN', at: at(7), message: 'timeout' });

  it('an unknown outcome goes to error with the key, and RECOVER (a new key) is refused', () => {
    const stuck = unknown();
    expect(stuck.status).toBe('error');
    expect(stuck.snapshot.context.payoutReconciliation).toEqual({
      attempt: 1,
      idempotencyKey: 'tx-1:payout:1',
      outcome: 'unknown',
      answer: 'timeout',
    });
    expect(stepTransaction(stuck.snapshot, ev.recover).accepted).toBe(false);
  });

  it('PAYOUT_RETRY pays out again under the same key, in a new outbox row', () => {
    const retried = accept(unknown().snapshot, { type: 'PAYOUT_RETRY', at: at(8), by: 'ops' });
    expect(retried.snapshot.value).toEqual({ pending_receiver: 'paying_out' });
    expect(retried.effects).toContainEqual({
      kind: 'execute_payout',
      attempt: 1,
      idempotencyKey: 'tx-1:payout:1',
      retry: 1,
      outboxKey: 'tx-1:payout:1:retry:1',
    });
  });

  it('PAYOUT_CONFIRMED marks it paid; a refund returns the funds', () => {
    const paid = accept(unknown().snapshot, {
      type: 'PAYOUT_CONFIRMED',
      at: at(8),
      externalTransactionId: 'bank-9',
    });
    expect(paid.status).toBe('completed');
    expect(paid.snapshot.context.externalTransactionId).toBe('bank-9');
    expect(accept(unknown().snapshot, request('tx-1:refund:p', '100')).status).toBe('pending_stellar');
  });

  it('a failed payout (the rails said so) may be retried or recovered; nothing to reconcile is refused', () => {
    const failed = run(paths.errorWithFunds);
    expect(failed.snapshot.context.payoutReconciliation?.outcome).toBe('failed');
    expect(accept(failed.snapshot, ev.recover).status).toBe('pending_receiver');
    const underPaid = run([ev.accountAssigned, ev.paidUnder]);
    expect(stepTransaction(underPaid.snapshot, { type: 'PAYOUT_RETRY', at: at(8) }).accepted).toBe(false);
  });
});
