import { assertEvent, assign, setup } from 'xstate';
import type { CustomerEvent } from './events.ts';
import { CUSTOMER_STATUS_DESCRIPTIONS } from './statuses.ts';

/** What a customer's status for one type starts from. */
export interface CustomerInput {
  /** The SEP-12 customer type, e.g. `sep31-receiver`. */
  type: string;
  /** SEP-9 names this type requires. */
  required: string[];
  /** When the customer started being considered for this type (ISO 8601). */
  at: string;
}

/**
 * A customer's standing for one type. Field sets are sorted arrays of SEP-9 names (JSON-friendly).
 * The status is a consequence of these sets, decided by the machine's eventless transitions:
 * NEEDS_INFO while a required field is missing or any field is rejected; ACCEPTED when every required
 * field is verified; PROCESSING in between.
 */
export interface CustomerContext {
  type: string;
  required: string[];
  /** Every field the customer sent at least once. */
  received: string[];
  /** Received fields the anchor found valid (their current values). */
  verified: string[];
  /** Fields that must be sent again, with why. */
  rejected: Record<string, string>;
  /** Human text for the sending anchor; set by rejections and reviews, cleared by acceptance. */
  message: string | null;
  updatedAt: string;
}

const sorted = (names: Iterable<string>) => [...new Set(names)].sort();
const without = (names: readonly string[], remove: Iterable<string>) => {
  const gone = new Set(remove);
  return names.filter((name) => !gone.has(name));
};
const omit = (record: Record<string, string>, remove: Iterable<string>) => {
  const gone = new Set(remove);
  return Object.fromEntries(Object.entries(record).filter(([name]) => !gone.has(name)));
};

/** Required fields not received yet. */
export function missingFields(context: CustomerContext): string[] {
  const received = new Set(context.received);
  return context.required.filter((name) => !received.has(name));
}

function incomplete(context: CustomerContext): boolean {
  return missingFields(context).length > 0 || Object.keys(context.rejected).length > 0;
}

function allRequiredVerified(context: CustomerContext): boolean {
  const verified = new Set(context.verified);
  return context.required.every((name) => verified.has(name));
}

/**
 * A customer's SEP-12 status for one type, as a pure statechart. The states are the SEP-12 statuses
 * verbatim. Events only update the field sets; eventless transitions then settle the status, so every
 * event lands in the one status its field sets imply. REJECTED is final.
 */
export const customerMachine = setup({
  types: {
    context: {} as CustomerContext,
    events: {} as CustomerEvent,
    input: {} as CustomerInput,
  },
  actions: {
    stamp: assign({ updatedAt: ({ event }) => event.at }),
    receive: assign(({ context, event }) => {
      assertEvent(event, 'FIELDS_PROVIDED');
      return {
        received: sorted([...context.received, ...event.fields]),
        // A new value must be verified again; a rejected field sent again awaits a new verdict.
        verified: without(context.verified, event.fields),
        rejected: omit(context.rejected, event.fields),
        message: null,
      };
    }),
    verify: assign(({ context, event }) => {
      assertEvent(event, 'FIELDS_VERIFIED');
      const received = new Set(context.received);
      const fields = event.fields.filter((name) => received.has(name));
      return {
        verified: sorted([...context.verified, ...fields]),
        rejected: omit(context.rejected, fields),
      };
    }),
    reject: assign(({ context, event }) => {
      assertEvent(event, 'FIELDS_REJECTED');
      return {
        verified: without(context.verified, Object.keys(event.errors)),
        rejected: { ...context.rejected, ...event.errors },
        message: event.message ?? context.message,
      };
    }),
    requireReview: assign(({ context, event }) => {
      assertEvent(event, 'REVIEW_REQUIRED');
      return {
        verified: event.fields === undefined ? [] : without(context.verified, event.fields),
        message: event.message ?? context.message,
      };
    }),
    setRequirements: assign(({ event }) => {
      assertEvent(event, 'REQUIREMENTS_CHANGED');
      return { required: sorted(event.required) };
    }),
    noteRejection: assign(({ event }) => {
      assertEvent(event, 'CUSTOMER_REJECTED');
      return { message: event.message };
    }),
    clearMessage: assign({ message: null }),
  },
  guards: {
    incomplete: ({ context }) => incomplete(context),
    accepted: ({ context }) => !incomplete(context) && allRequiredVerified(context),
    complete: ({ context }) => !incomplete(context),
    awaitingReview: ({ context }) => !allRequiredVerified(context),
    hasFields: ({ event }) => {
      assertEvent(event, ['FIELDS_PROVIDED', 'FIELDS_VERIFIED']);
      return event.fields.length > 0;
    },
    hasErrors: ({ event }) => {
      assertEvent(event, 'FIELDS_REJECTED');
      return Object.keys(event.errors).length > 0;
    },
  },
}).createMachine({
  id: 'customer',
  description: "A customer's SEP-12 status for one customer type, as seen by the receiving anchor.",
  // xstate's pure `transition()` first builds a throwaway actor without input, whose context is never
  // read: give it an empty one instead of throwing (a throw per step costs more than the step).
  context: ({ input }) =>
    input === undefined
      ? ({} as CustomerContext)
      : {
          type: input.type,
          required: sorted(input.required),
          received: [],
          verified: [],
          rejected: {},
          message: null,
          updatedAt: input.at,
        },
  initial: 'NEEDS_INFO',
  // Every open status takes the same events; REJECTED is final, so the machine is done there and takes none.
  on: {
    FIELDS_PROVIDED: { guard: 'hasFields', actions: ['receive', 'stamp'] },
    FIELDS_VERIFIED: { guard: 'hasFields', actions: ['verify', 'stamp'] },
    FIELDS_REJECTED: { guard: 'hasErrors', actions: ['reject', 'stamp'] },
    REQUIREMENTS_CHANGED: { actions: ['setRequirements', 'stamp'] },
    CUSTOMER_REJECTED: { target: '.REJECTED', actions: ['noteRejection', 'stamp'] },
  },
  states: {
    NEEDS_INFO: {
      description: CUSTOMER_STATUS_DESCRIPTIONS.NEEDS_INFO,
      always: [
        { target: 'ACCEPTED', guard: 'accepted' },
        { target: 'PROCESSING', guard: 'complete' },
      ],
    },
    PROCESSING: {
      description: CUSTOMER_STATUS_DESCRIPTIONS.PROCESSING,
      always: [
        { target: 'NEEDS_INFO', guard: 'incomplete' },
        { target: 'ACCEPTED', guard: 'accepted' },
      ],
    },
    ACCEPTED: {
      description: CUSTOMER_STATUS_DESCRIPTIONS.ACCEPTED,
      entry: 'clearMessage',
      always: [
        { target: 'NEEDS_INFO', guard: 'incomplete' },
        { target: 'PROCESSING', guard: 'awaitingReview' },
      ],
      on: {
        REVIEW_REQUIRED: { actions: ['requireReview', 'stamp'] },
      },
    },
    REJECTED: {
      type: 'final',
      description: CUSTOMER_STATUS_DESCRIPTIONS.REJECTED,
    },
  },
});
