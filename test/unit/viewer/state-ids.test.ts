import { describe, expect, it } from 'vitest';
import { startTransaction, stepTransaction, type TransactionEvent } from '../../../machines/index.ts';
import { MACHINES, toJson } from '../../../src/diagrams/index.ts';
import { activeStates, asStateValue, leafStateId } from '../../../src/viewer/state-ids.ts';
import { accountAssigned, payment, transactionInput } from '../../fixtures/transactions.ts';

describe('activeStates', () => {
  it('a top-level atomic state is its own leaf', () => {
    expect(activeStates('transaction', 'pending_sender')).toEqual({
      leaves: ['transaction.pending_sender'],
      active: ['transaction.pending_sender'],
    });
  });

  it('a sub-state: the leaf, and every active state with its ancestors first', () => {
    expect(activeStates('transaction', { pending_receiver: 'ready' })).toEqual({
      leaves: ['transaction.pending_receiver.ready'],
      active: ['transaction.pending_receiver', 'transaction.pending_receiver.ready'],
    });
    expect(activeStates('m', { a: { b: 'c' } })).toEqual({
      leaves: ['m.a.b.c'],
      active: ['m.a', 'm.a.b', 'm.a.b.c'],
    });
  });

  it('parallel regions give one leaf each', () => {
    expect(activeStates('m', { p: { left: 'x', right: { deep: 'y' } } })).toEqual({
      leaves: ['m.p.left.x', 'm.p.right.deep.y'],
      active: ['m.p', 'm.p.left', 'm.p.left.x', 'm.p.right', 'm.p.right.deep', 'm.p.right.deep.y'],
    });
  });

  it('a state whose value names no child is its own leaf; an empty root value has none', () => {
    expect(activeStates('m', { p: { left: {}, right: 'y' } }).leaves).toEqual(['m.p.left', 'm.p.right.y']);
    expect(activeStates('m', {})).toEqual({ leaves: [], active: [] });
    expect(leafStateId('m', {})).toBeNull();
  });

  it('every state value the transaction machine takes names states the machine has', () => {
    const ids = new Set(toJson(MACHINES.transaction!).states.map((s) => s.id));
    let snapshot = startTransaction(transactionInput()).snapshot;
    const events: TransactionEvent[] = [
      accountAssigned(),
      { type: 'PAYMENT_RECEIVED', at: '2026-11-24T10:10:00.000Z', payment: payment() },
      { type: 'PAYOUT_REQUESTED', at: '2026-11-24T10:11:00.000Z' },
    ];
    const leaves = [leafStateId('transaction', snapshot.value)];
    for (const event of events) {
      const result = stepTransaction(snapshot, event);
      if (!result.accepted) throw new Error(result.reason);
      snapshot = result.step.snapshot;
      leaves.push(leafStateId('transaction', snapshot.value));
      for (const id of activeStates('transaction', snapshot.value).active) expect(ids).toContain(id);
    }
    expect(leaves).toEqual([
      'transaction.pending_receiver.preparing',
      'transaction.pending_sender',
      'transaction.pending_receiver.ready',
      'transaction.pending_receiver.paying_out',
    ]);
  });
});

describe('asStateValue', () => {
  it('takes strings and objects of state values, nothing else', () => {
    expect(asStateValue('a')).toBe('a');
    expect(asStateValue({ a: 'b' })).toEqual({ a: 'b' });
    expect(asStateValue({ a: { b: {} } })).toEqual({ a: { b: {} } });
    for (const bad of [null, undefined, 1, ['a'], { a: 1 }, { a: ['b'] }])
      expect(asStateValue(bad)).toBeNull();
  });
});
