/**
 * SEP-12 customer statuses (per customer type) and field statuses, verbatim, with the SEP's meaning.
 * @see https://github.com/stellar/stellar-protocol/blob/master/ecosystem/sep-0012.md#customer-statuses
 */
export const CUSTOMER_STATUSES = ['NEEDS_INFO', 'PROCESSING', 'ACCEPTED', 'REJECTED'] as const;

export type CustomerStatus = (typeof CUSTOMER_STATUSES)[number];

export const CUSTOMER_STATUS_DESCRIPTIONS: Record<CustomerStatus, string> = {
  NEEDS_INFO:
    'More information must be provided: fields not yet received, or received fields that were rejected and must be sent again (listed in `fields`).',
  PROCESSING: 'Every required field was received; the anchor is reviewing them.',
  ACCEPTED:
    'Every required field was validated; the customer may be used for this type (may later regress, e.g. after a sanctions check or a failed payout).',
  REJECTED: 'The customer was rejected for good and cannot be used for this type; `message` explains why.',
};

/** The status of one provided field (`provided_fields[name].status`). */
export const FIELD_STATUSES = ['ACCEPTED', 'PROCESSING', 'REJECTED', 'VERIFICATION_REQUIRED'] as const;

export type FieldStatus = (typeof FIELD_STATUSES)[number];

export function isCustomerStatus(value: unknown): value is CustomerStatus {
  return typeof value === 'string' && (CUSTOMER_STATUSES as readonly string[]).includes(value);
}

/** Most to least in need of attention: the status of a customer summed over several types is the worst. */
const SEVERITY: Record<CustomerStatus, number> = { REJECTED: 3, NEEDS_INFO: 2, PROCESSING: 1, ACCEPTED: 0 };

export function worstStatus(statuses: readonly CustomerStatus[]): CustomerStatus {
  return statuses.reduce<CustomerStatus>(
    (worst, s) => (SEVERITY[s] > SEVERITY[worst] ? s : worst),
    'ACCEPTED',
  );
}
