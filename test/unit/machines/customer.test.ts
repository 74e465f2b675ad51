// Every transition of the SEP-12 customer machine, through the pure runtime (no I/O).
import { describe, expect, it } from 'vitest';
import {
  CUSTOMER_STATUSES,
  acceptedCustomerEvents,
  customerMachine,
  customerStatusOf,
  fieldStatusOf,
  fieldsToSend,
  persistCustomer,
  restoreCustomer,
  startCustomer,
  stepCustomer,
  stepCustomerAll,
  worstStatus,
  type CustomerEvent,
  type CustomerSnapshot,
  type CustomerStatus,
} from '../../../machines/index.ts';

const T0 = '2026-11-24T10:00:00.000Z';
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();
const REQUIRED = ['bank_account_number', 'first_name', 'last_name'];

const start = (required = REQUIRED) => startCustomer({ type: 'sep31-receiver', required, at: T0 });

function step(snapshot: CustomerSnapshot, event: CustomerEvent): CustomerSnapshot {
  const result = stepCustomer(snapshot, event);
  if (!result.accepted) throw new Error(`refused: ${result.reason}`);
  return result.snapshot;
}

const provided = (fields: string[], minutes = 1): CustomerEvent => ({
  type: 'FIELDS_PROVIDED',
  at: at(minutes),
  fields,
});
const verified = (fields: string[], minutes = 2): CustomerEvent => ({
  type: 'FIELDS_VERIFIED',
  at: at(minutes),
  fields,
});
const rejected = (errors: Record<string, string>, message?: string, minutes = 3): CustomerEvent => ({
  type: 'FIELDS_REJECTED',
  at: at(minutes),
  errors,
  ...(message !== undefined && { message }),
});

function accepted(): CustomerSnapshot {
  return stepCustomerAll(start(), [provided(REQUIRED), verified(REQUIRED)]);
}

describe('start', () => {
  it('is NEEDS_INFO with every required field to send', () => {
    const s = start();
    expect(customerStatusOf(s)).toBe('NEEDS_INFO');
    expect(fieldsToSend(s.context)).toEqual(REQUIRED);
    expect(s.context).toMatchObject({
      received: [],
      verified: [],
      rejected: {},
      message: null,
      updatedAt: T0,
    });
  });

  it('is ACCEPTED at once for a type that requires nothing', () => {
    expect(customerStatusOf(start([]))).toBe('ACCEPTED');
  });

  it('has the four SEP-12 statuses as its states, REJECTED final', () => {
    expect(Object.keys(customerMachine.states).sort()).toEqual([...CUSTOMER_STATUSES].sort());
    expect(customerMachine.states.REJECTED!.type).toBe('final');
    for (const status of CUSTOMER_STATUSES) expect(customerMachine.states[status]!.description).toBeTruthy();
  });
});

describe('NEEDS_INFO', () => {
  it('stays while a required field is missing', () => {
    const s = step(start(), provided(['first_name']));
    expect(customerStatusOf(s)).toBe('NEEDS_INFO');
    expect(fieldsToSend(s.context)).toEqual(['bank_account_number', 'last_name']);
    expect(s.context.updatedAt).toBe(at(1));
  });

  it('goes to PROCESSING once every required field is received', () => {
    const s = step(start(), provided(REQUIRED));
    expect(customerStatusOf(s)).toBe('PROCESSING');
    expect(fieldsToSend(s.context)).toEqual([]);
  });

  it('goes straight to ACCEPTED when the last field arrives already verified', () => {
    let s = stepCustomerAll(start(), [
      provided(['first_name', 'last_name']),
      verified(['first_name', 'last_name']),
    ]);
    expect(customerStatusOf(s)).toBe('NEEDS_INFO');
    s = stepCustomerAll(s, [provided(['bank_account_number'], 4), verified(['bank_account_number'], 5)]);
    expect(customerStatusOf(s)).toBe('ACCEPTED');
  });

  it('refuses events that change nothing, leaving the snapshot as it was', () => {
    const s = start();
    const before = JSON.stringify(persistCustomer(s));
    for (const event of [provided([]), verified([]), rejected({})]) {
      const result = stepCustomer(s, event);
      expect(result.accepted).toBe(false);
      if (!result.accepted) expect(result.reason).toContain(event.type);
    }
    expect(JSON.stringify(persistCustomer(s))).toBe(before);
  });

  it('ignores verdicts about fields never received', () => {
    const s = step(start(), verified(['first_name']));
    expect(s.context.verified).toEqual([]);
  });
});

describe('PROCESSING', () => {
  const processing = () => step(start(), provided(REQUIRED));

  it('becomes ACCEPTED when every required field is verified', () => {
    let s = step(processing(), verified(['first_name', 'last_name']));
    expect(customerStatusOf(s)).toBe('PROCESSING');
    s = step(s, verified(['bank_account_number'], 3));
    expect(customerStatusOf(s)).toBe('ACCEPTED');
    for (const name of REQUIRED) expect(fieldStatusOf(s.context, name)).toEqual({ status: 'ACCEPTED' });
  });

  it('falls back to NEEDS_INFO when a field is rejected, listing it to send again', () => {
    const s = step(processing(), rejected({ bank_account_number: 'digits only' }, 'check the account'));
    expect(customerStatusOf(s)).toBe('NEEDS_INFO');
    expect(fieldsToSend(s.context)).toEqual(['bank_account_number']);
    expect(fieldStatusOf(s.context, 'bank_account_number')).toEqual({
      status: 'REJECTED',
      error: 'digits only',
    });
    expect(fieldStatusOf(s.context, 'first_name')).toEqual({ status: 'PROCESSING' });
    expect(s.context.message).toBe('check the account');
  });

  it('a rejected field sent again awaits a new verdict', () => {
    let s = step(processing(), rejected({ bank_account_number: 'digits only' }));
    s = step(s, provided(['bank_account_number'], 4));
    expect(customerStatusOf(s)).toBe('PROCESSING');
    expect(s.context.rejected).toEqual({});
    expect(s.context.message).toBeNull();
  });

  it('becomes REJECTED for good', () => {
    const s = step(processing(), { type: 'CUSTOMER_REJECTED', at: at(5), message: 'sanctioned' });
    expect(customerStatusOf(s)).toBe('REJECTED');
    expect(s.status).toBe('done');
    expect(s.context.message).toBe('sanctioned');
  });
});

describe('ACCEPTED', () => {
  it('clears the message on the way in', () => {
    let s = step(start(), provided(REQUIRED));
    s = step(s, rejected({ first_name: 'not a name' }, 'fix the name'));
    s = stepCustomerAll(s, [provided(['first_name'], 4), verified(REQUIRED, 5)]);
    expect(customerStatusOf(s)).toBe('ACCEPTED');
    expect(s.context.message).toBeNull();
  });

  it('a changed value needs verifying again: PROCESSING', () => {
    const s = step(accepted(), provided(['bank_account_number'], 10));
    expect(customerStatusOf(s)).toBe('PROCESSING');
    expect(fieldStatusOf(s.context, 'bank_account_number')).toEqual({ status: 'PROCESSING' });
    expect(fieldStatusOf(s.context, 'first_name')).toEqual({ status: 'ACCEPTED' });
  });

  it('a new optional field keeps it ACCEPTED', () => {
    const s = step(accepted(), provided(['email_address'], 10));
    expect(customerStatusOf(s)).toBe('ACCEPTED');
  });

  it('regresses to NEEDS_INFO when the rails reject a field (pending_customer_info_update)', () => {
    const s = step(accepted(), rejected({ bank_account_number: 'account closed' }, 'account closed', 10));
    expect(customerStatusOf(s)).toBe('NEEDS_INFO');
    expect(fieldsToSend(s.context)).toEqual(['bank_account_number']);
  });

  it('REVIEW_REQUIRED sends it back to PROCESSING (all fields, or the named ones)', () => {
    let s = step(accepted(), { type: 'REVIEW_REQUIRED', at: at(10), message: 'sanctions list changed' });
    expect(customerStatusOf(s)).toBe('PROCESSING');
    expect(s.context.verified).toEqual([]);
    expect(s.context.message).toBe('sanctions list changed');
    s = step(accepted(), { type: 'REVIEW_REQUIRED', at: at(10), fields: ['last_name'] });
    expect(s.context.verified).toEqual(['bank_account_number', 'first_name']);
  });

  it('a new required field in the configuration makes it NEEDS_INFO', () => {
    const s = step(accepted(), {
      type: 'REQUIREMENTS_CHANGED',
      at: at(10),
      required: [...REQUIRED, 'bank_number'],
    });
    expect(customerStatusOf(s)).toBe('NEEDS_INFO');
    expect(fieldsToSend(s.context)).toEqual(['bank_number']);
  });
});

describe('REJECTED', () => {
  it('takes nothing more', () => {
    const s = step(accepted(), { type: 'CUSTOMER_REJECTED', at: at(10), message: 'fraud' });
    expect(acceptedCustomerEvents(s)).toEqual([]);
    const result = stepCustomer(s, provided(['first_name'], 11));
    expect(result).toEqual({
      accepted: false,
      reason: 'FIELDS_PROVIDED is not accepted in status REJECTED',
      accepts: [],
    });
    expect(customerStatusOf(stepCustomerAll(s, [provided(['first_name'], 11), verified(REQUIRED, 12)]))).toBe(
      'REJECTED',
    );
  });
});

describe('persistence', () => {
  it('restores exactly where it was, in every status', () => {
    const snapshots: Record<CustomerStatus, CustomerSnapshot> = {
      NEEDS_INFO: step(start(), provided(['first_name'])),
      PROCESSING: step(start(), provided(REQUIRED)),
      ACCEPTED: accepted(),
      REJECTED: step(start(), { type: 'CUSTOMER_REJECTED', at: at(1), message: 'no' }),
    };
    for (const [status, snapshot] of Object.entries(snapshots)) {
      const persisted = JSON.parse(JSON.stringify(persistCustomer(snapshot)));
      expect(persisted.value).toBe(status);
      const restored = restoreCustomer(persisted);
      expect(customerStatusOf(restored)).toBe(status);
      expect(restored.context).toEqual(snapshot.context);
      expect(acceptedCustomerEvents(restored)).toEqual(acceptedCustomerEvents(snapshot));
    }
  });
});

describe('worstStatus', () => {
  it('orders REJECTED > NEEDS_INFO > PROCESSING > ACCEPTED', () => {
    expect(worstStatus([])).toBe('ACCEPTED');
    expect(worstStatus(['ACCEPTED', 'PROCESSING'])).toBe('PROCESSING');
    expect(worstStatus(['PROCESSING', 'NEEDS_INFO', 'ACCEPTED'])).toBe('NEEDS_INFO');
    expect(worstStatus(['NEEDS_INFO', 'REJECTED'])).toBe('REJECTED');
  });
});
