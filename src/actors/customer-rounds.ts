/**
 * SEP-31 `pending_customer_info_update` rounds seen from the customer (SEPS.md §5.5): when a transaction
 * the customer takes part in asks for customer info again (CUSTOMER_INFO_NEEDED), the fields the rails
 * flagged (`flagCustomerFields`, else all of the type's fields) become REJECTED for that type, once per
 * round. The customer actor applies a round and records it; `GET /customer` computes the same in memory
 * for a round not applied yet, so a sending anchor never sees a stale status. Both use these functions.
 */
import { persistCustomer, stepCustomer, type PersistedCustomer } from '../../machines/index.ts';
import { linkKeyText, readInfoRounds, type InfoRoundFacts } from '../db/customers.repository.ts';
import type { Executor } from '../db/database.ts';
import { snapshotFor, type CustomerTypes, type CustomerViewRecord } from '../views/sep12-customer.ts';
import { partyCustomerId } from './transaction-customers.ts';

/** One round still to apply to one customer, for one type. */
export interface PendingRound {
  transactionId: string;
  type: string;
  /** `transaction_events.seq` of the CUSTOMER_INFO_NEEDED. */
  seq: number;
  /** The fields asked for again. */
  fields: string[];
  message: string;
}

const DEFAULT_MESSAGE = 'the receiving anchor needs this information again';

/** The types a round asks about: its `customerType`, or every configured type. */
export function roundTypes(customerType: string | null, types: CustomerTypes): string[] {
  return customerType !== null && Object.hasOwn(types, customerType) ? [customerType] : Object.keys(types);
}

/** The rounds of `facts` not applied to `customerId` yet, in a fixed order. Pure. */
export function pendingRoundsOf(
  facts: InfoRoundFacts,
  customerId: string,
  types: CustomerTypes,
): PendingRound[] {
  const pending: PendingRound[] = [];
  for (const transaction of facts.transactions) {
    const round = facts.rounds.get(transaction.id);
    if (round === undefined) continue;
    for (const type of roundTypes(round.customerType, types)) {
      const link = facts.links.get(linkKeyText(transaction.id, type));
      const owner = link?.customerId ?? partyCustomerId(transaction, type);
      if (owner !== customerId || link?.appliedSeq === round.seq) continue;
      pending.push({
        transactionId: transaction.id,
        type,
        seq: round.seq,
        fields: link?.requestedFields?.length ? link.requestedFields : [...(types[type]?.fields ?? [])],
        message: link?.requestedMessage ?? round.message ?? DEFAULT_MESSAGE,
      });
    }
  }
  return pending;
}

/** The rounds not applied to these customers yet, by customer id (four statements at most). */
export async function readPendingRounds(
  db: Executor,
  customerIds: readonly string[],
  types: CustomerTypes,
): Promise<Map<string, PendingRound[]>> {
  const facts = await readInfoRounds(db, customerIds);
  return new Map(customerIds.map((id) => [id, pendingRoundsOf(facts, id, types)]));
}

/**
 * The customer's machines after one round: its type's asked fields REJECTED with the round's message.
 * Null when the machine does not take it (a REJECTED customer stays so). Pure.
 */
export function applyRound(
  record: Pick<CustomerViewRecord, 'fields' | 'statuses'>,
  round: PendingRound,
  types: CustomerTypes,
  at: string,
): Record<string, PersistedCustomer> | null {
  const errors = Object.fromEntries(round.fields.map((name) => [name, round.message]));
  const current = snapshotFor(record, round.type, types[round.type]?.fields ?? [], at);
  const result = stepCustomer(current, { type: 'FIELDS_REJECTED', at, errors, message: round.message });
  return result.accepted ? { ...record.statuses, [round.type]: persistCustomer(result.snapshot) } : null;
}

/** The customer as it will be once these rounds are applied. Pure. */
export function withRounds<R extends Pick<CustomerViewRecord, 'fields' | 'statuses'>>(
  record: R,
  rounds: readonly PendingRound[],
  types: CustomerTypes,
  at: string,
): R {
  let current = record;
  for (const round of rounds) {
    const statuses = applyRound(current, round, types, at);
    if (statuses !== null) current = { ...current, statuses };
  }
  return current;
}
