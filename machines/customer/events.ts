/**
 * Everything that can happen to a customer's status for one SEP-12 type. Time comes in with the event:
 * the machine has no clock. Field names are SEP-9 names.
 */
export type CustomerEvent =
  /** The customer sent values for these fields (new, changed, or sent again after a rejection). */
  | { type: 'FIELDS_PROVIDED'; at: string; fields: string[] }
  /** The anchor's review found these fields valid. */
  | { type: 'FIELDS_VERIFIED'; at: string; fields: string[] }
  /** These fields are wrong and must be sent again (review, or the rails reporting e.g. a bad account). */
  | { type: 'FIELDS_REJECTED'; at: string; errors: Record<string, string>; message?: string }
  /** Verified fields need another review (e.g. a sanctions list changed); all of them when `fields` is absent. */
  | { type: 'REVIEW_REQUIRED'; at: string; message?: string; fields?: string[] }
  /** The fields this type requires changed (configuration). */
  | { type: 'REQUIREMENTS_CHANGED'; at: string; required: string[] }
  /** Final: the customer may not be used for this type. */
  | { type: 'CUSTOMER_REJECTED'; at: string; message: string };

export type CustomerEventType = CustomerEvent['type'];

export const CUSTOMER_EVENT_TYPES: readonly CustomerEventType[] = [
  'FIELDS_PROVIDED',
  'FIELDS_VERIFIED',
  'FIELDS_REJECTED',
  'REVIEW_REQUIRED',
  'REQUIREMENTS_CHANGED',
  'CUSTOMER_REJECTED',
];
