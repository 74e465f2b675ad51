// Each accepted step names the one transition it took (`transitionKey`), so guarded twins can be told apart.
import { describe, expect, it } from 'vitest';
import {
  startTransaction,
  stepTransaction,
  transactionMachine,
  transitionKey,
} from '../../../machines/index.ts';
import { accept, ev, makeInput, paths, run } from './fixtures.ts';

/** The transitions a state node defines for an event, in definition order. */
function defined(stateId: string, event: string) {
  return transactionMachine.getStateNodeById(stateId).transitions.get(event) ?? [];
}

describe('the transition a step took', () => {
  it('tells the PAYMENT_RECEIVED twins apart: exact, over-paid and under-paid each name their own', () => {
    const waiting = run(paths.pendingSender);
    const [exact, over, under] = defined('transaction.pending_sender', 'PAYMENT_RECEIVED').map(transitionKey);
    expect(new Set([exact, over, under]).size).toBe(3);
    expect(accept(waiting.snapshot, ev.paidExact).transition).toBe(exact);
    expect(accept(waiting.snapshot, ev.paidOver).transition).toBe(over);
    expect(accept(waiting.snapshot, ev.paidUnder).transition).toBe(under);
    expect(exact).toBe('transaction.pending_sender:PAYMENT_RECEIVED:0');
  });

  it('names a transition on the root as the root defines it, and a targetless one too', () => {
    const ready = run(paths.ready);
    expect(accept(ready.snapshot, ev.error).transition).toBe('transaction:ERROR:0');
    const partial = accept(ready.snapshot, ev.refundPartial);
    expect(partial.status).toBe('pending_receiver');
    expect(partial.transition).toBe(
      // The third REFUND_SENT branch: after the excess and the full refund.
      transitionKey(defined('transaction.pending_receiver.ready', 'REFUND_SENT')[2]!),
    );
  });

  it('the creation took none, and a refused event names none', () => {
    expect(startTransaction(makeInput()).transition).toBeNull();
    const result = stepTransaction(run(paths.completed).snapshot, ev.error);
    expect(result.accepted).toBe(false);
    // The next step after a refusal is not polluted by it.
    expect(accept(run(paths.pendingSender).snapshot, ev.paidExact).transition).toBe(
      'transaction.pending_sender:PAYMENT_RECEIVED:0',
    );
  });
});
