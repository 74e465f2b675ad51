/**
 * The execute-outgoing worker (Polaris's `execute_outgoing_transactions`), now the safety net of an
 * event-driven path: a transaction's actor requests its payout itself the moment it is funded with its
 * customers ACCEPTED, or the moment a customer becomes ACCEPTED (the customer's change tells it). A pass
 * finds funded transactions still waiting (`pending_receiver`, sub-state `ready`) whose customers are
 * ACCEPTED, and tells each actor to check its customers again; the actor requests the payout (PAYOUT_REQUESTED, event id
 * `payout-request:<id>:<attempt>`, so two requests for one attempt apply once) or keeps waiting.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { customersChangedMessage } from '../actors/messages.ts';
import { customersAccepted, readTransactionCustomers } from '../actors/transaction-customers.ts';
import type { Config } from '../config/index.ts';
import { toJson } from '../db/columns.ts';
import { DEFAULT_BATCH_SIZE, type PassDeps } from './worker-deps.ts';

/** The SEP-12 types whose customer must be ACCEPTED before a payout. */
export const PAYOUT_CUSTOMER_TYPES = ['sep31-sender', 'sep31-receiver'] as const;

export interface ExecuteOutgoingDeps extends PassDeps {
  /**
   * The KYC types of a payout (`payoutCustomerTypes(config)`). Given, only transactions whose customers
   * are all ACCEPTED are told (the others wait for their customer's own notice); absent, every one is.
   */
  customerTypes?: readonly string[];
}

export interface ExecuteOutgoingCounts {
  /** Funded transactions whose payout should be requested already: each actor was told to check again. */
  due: number;
}

const READY = toJson({ pending_receiver: 'ready' });

/** The SEP-31 customer types the anchor KYCs (those configured in `sep12.types`). */
export function payoutCustomerTypes(config: Pick<Config, 'sep12'>): string[] {
  return PAYOUT_CUSTOMER_TYPES.filter((type) => type in config.sep12.types);
}

/** The event id of the request for the payout attempt after `payoutAttempt`. */
export function payoutRequestEventId(transactionId: string, payoutAttempt: number): string {
  return `payout-request:${transactionId}:${payoutAttempt + 1}`;
}

/** One pass: every funded transaction still waiting for its payout is told to check its customers. */
export async function runExecuteOutgoingPass(deps: ExecuteOutgoingDeps): Promise<ExecuteOutgoingCounts> {
  const { db, bus } = deps;
  const batchSize = deps.batchSize ?? DEFAULT_BATCH_SIZE;
  const at = (deps.clock ?? (() => new Date()))();
  const counts: ExecuteOutgoingCounts = { due: 0 };
  let after = '';
  for (;;) {
    const rows = await db
      .selectFrom('transactions')
      .select(['id', 'sending_anchor', 'sender_id', 'receiver_id'])
      .where('status', '=', 'pending_receiver')
      .where(sql<boolean>`state_value = ${READY}::jsonb`)
      .where('id', '>', after)
      .orderBy('id')
      .limit(batchSize)
      .execute();
    const due = await stuck(db, rows, deps.customerTypes);
    await bus.publishMany(due.map((id) => customersChangedMessage(id, at, randomUUID())));
    counts.due += due.length;
    if (rows.length < batchSize) break;
    after = rows.at(-1)!.id;
  }
  return counts;
}

/** The funded transactions that should be paid out already: all their customers are ACCEPTED. */
async function stuck(
  db: PassDeps['db'],
  rows: readonly {
    id: string;
    sending_anchor: string;
    sender_id: string | null;
    receiver_id: string | null;
  }[],
  types: readonly string[] | undefined,
): Promise<string[]> {
  if (types === undefined || rows.length === 0) return rows.map((row) => row.id);
  const parties = rows.map((row) => ({
    id: row.id,
    sendingAnchor: row.sending_anchor,
    senderId: row.sender_id,
    receiverId: row.receiver_id,
  }));
  const facts = await readTransactionCustomers(db, parties, { rounds: [] });
  return parties.filter((party) => customersAccepted(facts, party, types)).map((party) => party.id);
}
