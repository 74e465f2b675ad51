import { initialTransition, type SnapshotFrom, type StateValue } from 'xstate';
import type { TransactionContext, TransactionInput } from './context.ts';
import type { TransactionEffect } from './effects.ts';
import { TRANSACTION_EVENT_TYPES, type TransactionEvent, type TransactionEventType } from './events.ts';
import { isTransactionStatus, type TransactionStatus } from './statuses.ts';
import { transactionMachine } from './transaction.machine.ts';
import { pureTransitions } from '../pure-transition.ts';

const pure = pureTransitions(transactionMachine);

export type TransactionSnapshot = SnapshotFrom<typeof transactionMachine>;

/** The JSON we store: enough to resume the machine exactly where it was. */
export interface PersistedTransaction {
  value: StateValue;
  context: TransactionContext;
}

export interface Step {
  snapshot: TransactionSnapshot;
  status: TransactionStatus;
  effects: TransactionEffect[];
  /** The transition the event took (`transitionKey`: guarded twins told apart); null for the creation. */
  transition: string | null;
}

export function statusOf(value: StateValue): TransactionStatus {
  const top = typeof value === 'string' ? value : Object.keys(value)[0];
  if (top === undefined || !isTransactionStatus(top))
    throw new Error(`not a SEP-31 status: ${JSON.stringify(value)}`);
  return top;
}

function effectsOf(actions: readonly { type: string; params?: unknown }[]): TransactionEffect[] {
  return actions.filter((a) => a.type === 'recordEffect').map((a) => a.params as TransactionEffect);
}

/** Creates a transaction: the machine's first state and the effects of entering it. Pure. */
export function startTransaction(input: TransactionInput): Step {
  const [snapshot, actions] = initialTransition(transactionMachine, input);
  return { snapshot, status: statusOf(snapshot.value), effects: effectsOf(actions), transition: null };
}

export function persist(snapshot: TransactionSnapshot): PersistedTransaction {
  return { value: snapshot.value, context: snapshot.context };
}

export function restore(persisted: PersistedTransaction): TransactionSnapshot {
  return transactionMachine.resolveState(persisted);
}

/** The event types some transition of the current state handles (guards not evaluated). */
export function acceptedEventTypes(snapshot: TransactionSnapshot): TransactionEventType[] {
  if (snapshot.status !== 'active') return [];
  const handled = new Set(snapshot._nodes.flatMap((node) => node.ownEvents));
  return TRANSACTION_EVENT_TYPES.filter((type) => handled.has(type));
}

export type StepResult =
  { accepted: true; step: Step } | { accepted: false; reason: string; accepts: TransactionEventType[] };

/** Applies one event. Pure: returns the next snapshot and the effects it asks for, or why it was refused. */
export function stepTransaction(snapshot: TransactionSnapshot, event: TransactionEvent): StepResult {
  const status = statusOf(snapshot.value);
  // A finished transaction takes nothing (xstate's `can` would still see the root's handlers).
  if (snapshot.status !== 'active') {
    return {
      accepted: false,
      reason: `${event.type} is not accepted: the transaction is ${status} (final)`,
      accepts: acceptedEventTypes(snapshot),
    };
  }
  // One evaluation: xstate hands back the very snapshot when no transition is enabled.
  const [next, actions, taken] = pure.transition(snapshot, event);
  if (next === snapshot && !snapshot.can(event)) {
    const accepts = acceptedEventTypes(snapshot);
    const reason = accepts.includes(event.type)
      ? `${event.type} is not allowed for this transaction in status ${status} (its conditions are not met)`
      : `${event.type} is not accepted in status ${status}`;
    return { accepted: false, reason, accepts };
  }
  return {
    accepted: true,
    step: {
      snapshot: next,
      status: statusOf(next.value),
      effects: effectsOf(actions),
      transition: taken[0] ?? null,
    },
  };
}
