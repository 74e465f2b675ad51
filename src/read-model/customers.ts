/**
 * Queries of the SEP-12 customers' read model for the HTTP layer. Read only: every change of a customer
 * is a command to its actor (`src/actors/customer-commands.ts`). A `pending_customer_info_update` round the
 * actor has not applied yet is applied here in memory, with the actor's own function, so `GET /customer`
 * never shows a status the customer is about to leave.
 */
import type { Kysely } from 'kysely';
import type { PersistedCustomer } from '../../machines/index.ts';
import { readPendingRounds, withRounds } from '../actors/customer-rounds.ts';
import type { Config } from '../config/index.ts';
import {
  customerIdOfTransaction,
  findCustomerById,
  findCustomerByKey,
  ownsCustomer,
} from '../db/customers.repository.ts';
import type { Database } from '../db/database.ts';
import { customerView, type CustomerBody, type CustomerTypes } from '../views/sep12-customer.ts';

/** Whose customers a caller may see: its base account, and the memo its token is bound to (if any). */
export interface CustomerViewer {
  account: string;
  memo: string | null;
}

/** A customer as queries see it. */
export interface CustomerView {
  id: string;
  account: string;
  memo: string | null;
  /** The type of the latest typed PUT, or null. */
  type: string | null;
  fields: Record<string, unknown>;
  statuses: Record<string, PersistedCustomer>;
  version: number;
}

export interface CustomerQueries {
  /** The customer with this id if `viewer` may see it. */
  byId(id: string, viewer: CustomerViewer): Promise<CustomerView | undefined>;
  /** The customer stored under (account, memo). */
  byKey(account: string, memo: string | null): Promise<CustomerView | undefined>;
  /** The transaction's customer of `type` (linked, else `sender_id` / `receiver_id`) if `viewer` may see it. */
  ofTransaction(
    transaction: { id: string; senderId: string | null; receiverId: string | null },
    type: string,
    viewer: CustomerViewer,
  ): Promise<CustomerView | undefined>;
  /**
   * The `GET /customer` body of `customer` (null: not registered) for `type` (null: its registered type,
   * else all types), with the rounds waiting for it applied.
   */
  body(customer: CustomerView | null, type: string | null): Promise<CustomerBody>;
}

export function customerQueries(
  db: Kysely<Database>,
  options: { sep12: Config['sep12']; clock?: () => Date },
): CustomerQueries {
  const types: CustomerTypes = options.sep12.types;
  const clock = options.clock ?? (() => new Date());

  async function byId(id: string, viewer: CustomerViewer) {
    const record = await findCustomerById(db, id);
    return record && ownsCustomer(viewer, record) ? viewOf(record) : undefined;
  }

  return {
    byId,
    async byKey(account, memo) {
      const record = await findCustomerByKey(db, { account, memo });
      return record && viewOf(record);
    },
    async ofTransaction(transaction, type, viewer) {
      const id = await customerIdOfTransaction(db, transaction, type);
      return id === null ? undefined : byId(id, viewer);
    },
    async body(customer, type) {
      const at = clock().toISOString();
      const registered = customer?.type ?? null;
      const effective = type ?? (registered !== null && Object.hasOwn(types, registered) ? registered : null);
      if (customer === null) return customerView(null, effective, types, at);
      const rounds = (await readPendingRounds(db, [customer.id], types)).get(customer.id) ?? [];
      return customerView(withRounds(customer, rounds, types, at), effective, types, at);
    },
  };
}

function viewOf(record: CustomerView): CustomerView {
  const { id, account, memo, type, fields, statuses, version } = record;
  return { id, account, memo, type, fields, statuses, version };
}
