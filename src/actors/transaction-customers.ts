/**
 * What a transaction actor needs to know about its SEP-12 customers to move on by itself: are they
 * ACCEPTED (then a funded transaction is paid out), and has a `pending_customer_info_update` round been
 * answered (then it goes back to `pending_receiver`). Set-based reads for a whole batch; the decisions
 * are pure functions of what was read.
 */
import {
  customerStatusOf,
  isCustomerStatus,
  type CustomerStatus,
  type PersistedCustomer,
} from '../../machines/index.ts';
import type { Executor } from '../db/database.ts';
import type { Config } from '../config/index.ts';
import { identityOf } from '../sep10/identity.ts';
import { snapshotFor } from '../views/sep12-customer.ts';
import { latestCustomerInfoRequests, type StoredCustomerLink } from '../db/customers.repository.ts';
import type { BusMessage } from '../bus/index.ts';
import { customerInfoNeededMessage } from './messages.ts';

/** The parties of a transaction, from its context. */
export interface TransactionParties {
  id: string;
  sendingAnchor: string;
  senderId: string | null;
  receiverId: string | null;
}

/** The transaction-side customer field of each SEP-31 type. */
const PARTY_OF: Record<string, 'senderId' | 'receiverId'> = {
  'sep31-sender': 'senderId',
  'sep31-receiver': 'receiverId',
};

interface CustomerFacts {
  id: string;
  account: string;
  memo: string | null;
  fields: Record<string, unknown>;
  statuses: Record<string, PersistedCustomer>;
}

/** The customers of a batch of transactions, as read in the batch's database transaction. */
export interface CustomerSnapshot {
  links: Map<string, StoredCustomerLink>;
  customers: Map<string, CustomerFacts>;
  rounds: Map<string, { seq: number; customerType: string | null }>;
}

const linkKey = (transactionId: string, type: string) => `${transactionId}\u0000${type}`;

/** Reads the links, customers and latest info rounds of these transactions (four statements at most). */
export async function readTransactionCustomers(
  db: Executor,
  parties: readonly TransactionParties[],
  options: { rounds: readonly string[] },
): Promise<CustomerSnapshot> {
  const ids = parties.map((p) => p.id);
  const links = new Map<string, StoredCustomerLink>();
  if (ids.length > 0) {
    const rows = await db
      .selectFrom('customer_transactions')
      .select(['transaction_id', 'type', 'customer_id', 'applied_seq'])
      .where('transaction_id', 'in', ids)
      .execute();
    for (const row of rows) {
      links.set(linkKey(row.transaction_id, row.type), {
        customerId: row.customer_id,
        appliedSeq: row.applied_seq,
      });
    }
  }
  const customerIds = new Set<string>();
  for (const party of parties) {
    if (party.senderId) customerIds.add(party.senderId);
    if (party.receiverId) customerIds.add(party.receiverId);
  }
  for (const link of links.values()) if (link.customerId) customerIds.add(link.customerId);
  const customers = new Map<string, CustomerFacts>();
  if (customerIds.size > 0) {
    const rows = await db
      .selectFrom('customers')
      .select(['id', 'account', 'memo', 'fields', 'statuses'])
      .where('id', 'in', [...customerIds])
      .execute();
    for (const row of rows) {
      customers.set(row.id, {
        id: row.id,
        account: row.account,
        memo: row.memo,
        fields: (row.fields ?? {}) as Record<string, unknown>,
        statuses: row.statuses ?? {},
      });
    }
  }
  const rounds = await latestCustomerInfoRequests(db, options.rounds);
  return { links, customers, rounds };
}

/** The customer of a transaction for a type: the one linked by `PUT /customer`, else sender/receiver id. */
export function customerOf(facts: CustomerSnapshot, party: TransactionParties, type: string): string | null {
  const linked = facts.links.get(linkKey(party.id, type))?.customerId;
  if (linked) return linked;
  return partyCustomerId(party, type);
}

/** The customer a SEP-31 transaction names for a type (`sender_id` / `receiver_id`), or null. */
export function partyCustomerId(
  party: Pick<TransactionParties, 'senderId' | 'receiverId'>,
  type: string,
): string | null {
  const field = PARTY_OF[type];
  return field === undefined ? null : party[field];
}

/**
 * The stored status of the transaction's customer for `type` as its sending anchor sees it (a customer
 * of another anchor counts as none). Null: no such customer.
 */
function storedStatus(
  facts: CustomerSnapshot,
  party: TransactionParties,
  type: string,
): CustomerStatus | null {
  const id = customerOf(facts, party, type);
  const customer = id === null ? undefined : facts.customers.get(id);
  if (!customer || !ownedBy(customer, party.sendingAnchor)) return null;
  const value: unknown = customer.statuses[type]?.value;
  return isCustomerStatus(value) ? value : 'NEEDS_INFO';
}

/** The sending anchor is the account (any memo), as POST /transactions checked it. */
function ownedBy(customer: CustomerFacts, sendingAnchor: string): boolean {
  try {
    return customer.account === identityOf(sendingAnchor, '', null).account;
  } catch {
    return false;
  }
}

/** Every checked type has a customer of this sending anchor that is ACCEPTED for it. */
export function customersAccepted(
  facts: CustomerSnapshot,
  party: TransactionParties,
  types: readonly string[],
): boolean {
  return types.every((type) => storedStatus(facts, party, type) === 'ACCEPTED');
}

/**
 * The round a transaction in `pending_customer_info_update` may resume from: its latest
 * CUSTOMER_INFO_NEEDED, once applied to every customer it asked about and each is ACCEPTED again for
 * its type. Null: not yet (or nothing was asked of a known customer).
 */
export function answeredRound(
  facts: CustomerSnapshot,
  party: TransactionParties,
  sep12: Pick<Config['sep12'], 'types'>,
  at: string,
): number | null {
  const round = facts.rounds.get(party.id);
  if (round === undefined) return null;
  const types = sep12.types;
  const asked =
    round.customerType !== null && Object.hasOwn(types, round.customerType)
      ? [round.customerType]
      : Object.keys(types);
  let answered = 0;
  for (const type of asked) {
    const id = customerOf(facts, party, type);
    if (id === null) continue;
    if (facts.links.get(linkKey(party.id, type))?.appliedSeq !== round.seq) return null;
    const customer = facts.customers.get(id);
    if (!customer) return null;
    const required = types[type]?.fields ?? [];
    if (customerStatusOf(snapshotFor(customer, type, required, at)) !== 'ACCEPTED') return null;
    answered++;
  }
  return answered > 0 ? round.seq : null;
}

/**
 * The messages telling each customer a CUSTOMER_INFO_NEEDED round (at `seq`) asks about to apply it: one
 * per customer of the round's types (its `customerType`, or every configured type) that exists.
 */
export function infoNeededMessages(
  facts: CustomerSnapshot,
  party: TransactionParties,
  customerType: string | null,
  seq: number,
  sep12: Pick<Config['sep12'], 'types'>,
): BusMessage[] {
  const types =
    customerType !== null && Object.hasOwn(sep12.types, customerType)
      ? [customerType]
      : Object.keys(sep12.types);
  const customers = new Map<string, CustomerFacts>();
  for (const type of types) {
    const id = customerOf(facts, party, type);
    const customer = id === null ? undefined : facts.customers.get(id);
    if (customer) customers.set(customer.id, customer);
  }
  return [...customers.values()].map((customer) => customerInfoNeededMessage(customer, party.id, seq));
}
