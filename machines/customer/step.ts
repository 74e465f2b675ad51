import { initialTransition, type SnapshotFrom } from 'xstate';
import {
  customerMachine,
  missingFields,
  type CustomerContext,
  type CustomerInput,
} from './customer.machine.ts';
import { CUSTOMER_EVENT_TYPES, type CustomerEvent, type CustomerEventType } from './events.ts';
import { isCustomerStatus, type CustomerStatus, type FieldStatus } from './statuses.ts';
import { pureTransitions } from '../pure-transition.ts';

const pure = pureTransitions(customerMachine);

export type CustomerSnapshot = SnapshotFrom<typeof customerMachine>;

/** The JSON we store per (customer, type): enough to resume the machine exactly where it was. */
export interface PersistedCustomer {
  value: CustomerStatus;
  context: CustomerContext;
}

export type CustomerStepResult =
  | { accepted: true; snapshot: CustomerSnapshot; status: CustomerStatus }
  | { accepted: false; reason: string; accepts: CustomerEventType[] };

export function customerStatusOf(snapshot: CustomerSnapshot): CustomerStatus {
  const value = snapshot.value;
  if (!isCustomerStatus(value)) throw new Error(`not a SEP-12 customer status: ${JSON.stringify(value)}`);
  return value;
}

/** A customer's status for a type before anything was received. Pure. */
export function startCustomer(input: CustomerInput): CustomerSnapshot {
  const [snapshot] = initialTransition(customerMachine, input);
  return snapshot;
}

export function persistCustomer(snapshot: CustomerSnapshot): PersistedCustomer {
  return { value: customerStatusOf(snapshot), context: snapshot.context };
}

export function restoreCustomer(persisted: PersistedCustomer): CustomerSnapshot {
  return customerMachine.resolveState(persisted);
}

/** The event types the current status handles (guards not evaluated). */
export function acceptedCustomerEvents(snapshot: CustomerSnapshot): CustomerEventType[] {
  if (snapshot.status !== 'active') return [];
  const handled = new Set(snapshot._nodes.flatMap((node) => node.ownEvents));
  return CUSTOMER_EVENT_TYPES.filter((type) => handled.has(type));
}

/** Applies one event. Pure: the next snapshot, or why the event was refused (the snapshot is unchanged). */
export function stepCustomer(snapshot: CustomerSnapshot, event: CustomerEvent): CustomerStepResult {
  const accepts = acceptedCustomerEvents(snapshot);
  const status = customerStatusOf(snapshot);
  if (snapshot.status !== 'active' || !snapshot.can(event)) {
    const reason = accepts.includes(event.type)
      ? `${event.type} changes nothing for a customer in status ${status}`
      : `${event.type} is not accepted in status ${status}`;
    return { accepted: false, reason, accepts };
  }
  const [next] = pure.transition(snapshot, event);
  return { accepted: true, snapshot: next, status: customerStatusOf(next) };
}

/**
 * Applies events in order, skipping the ones the current status refuses (e.g. anything once REJECTED).
 * Pure; returns the final snapshot.
 */
export function stepCustomerAll(
  snapshot: CustomerSnapshot,
  events: readonly CustomerEvent[],
): CustomerSnapshot {
  let current = snapshot;
  for (const event of events) {
    const result = stepCustomer(current, event);
    if (result.accepted) current = result.snapshot;
  }
  return current;
}

/** The SEP-12 status of one received field, with the error when it was rejected. */
export function fieldStatusOf(
  context: CustomerContext,
  name: string,
): { status: FieldStatus; error?: string } {
  const error = context.rejected[name];
  if (error !== undefined) return { status: 'REJECTED', error };
  if (context.verified.includes(name)) return { status: 'ACCEPTED' };
  return { status: 'PROCESSING' };
}

/** Fields the sending anchor must (re)send: required ones never received, and rejected ones. */
export function fieldsToSend(context: CustomerContext): string[] {
  return [...new Set([...missingFields(context), ...Object.keys(context.rejected)])].sort();
}
