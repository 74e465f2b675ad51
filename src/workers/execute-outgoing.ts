/**
 * The execute-outgoing worker (Polaris's `execute_outgoing_transactions`): finds funded transactions ready
 * to be paid out (`pending_receiver`, sub-state `ready`) whose SEP-12 customers are ACCEPTED, and asks their
 * actor for the payout (PAYOUT_REQUESTED). The actor records the `execute_payout` effect with its
 * idempotency key in the same database transaction; the payout relay carries it out.
 *
 * Two workers racing on one transaction request its payout once: the event id names the attempt
 * (`payout-request:<id>:<attempt>`), so the second is a duplicate, and a request for an attempt that was
 * already made is ignored whatever happened since.
 */
import { sql } from 'kysely';
import { EventRejectedError } from '../actors/errors.ts';
import type { Config } from '../config/index.ts';
import { toJson } from '../db/columns.ts';
import { customerIdOfTransaction, customerStatusForType } from '../db/customers.repository.ts';
import type { Executor } from '../db/database.ts';
import { identityOf } from '../http/auth.ts';
import { DEFAULT_BATCH_SIZE, errorText, type PassDeps } from './worker-deps.ts';

/** The SEP-12 types whose customer must be ACCEPTED before a payout. */
export const PAYOUT_CUSTOMER_TYPES = ['sep31-sender', 'sep31-receiver'] as const;

export interface ExecuteOutgoingDeps extends PassDeps {
  /** Types checked before paying out: usually `payoutCustomerTypes(config)`. */
  customerTypes: readonly string[];
}

export interface ExecuteOutgoingCounts {
  /** Transactions ready to be paid out. */
  due: number;
  /** PAYOUT_REQUESTED applied. */
  requested: number;
  /** Already requested (another worker, or an earlier pass). */
  duplicates: number;
  /** Left for later: a customer is not (or no longer) ACCEPTED. */
  skipped: number;
  /** The transaction moved on before the request reached it. */
  movedOn: number;
  /** Could not be requested this pass (logged); retried on the next. */
  errors: number;
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

/** One pass: requests the payout of every ready transaction whose customers are accepted. */
export async function runExecuteOutgoingPass(deps: ExecuteOutgoingDeps): Promise<ExecuteOutgoingCounts> {
  const { db, host, log } = deps;
  const batchSize = deps.batchSize ?? DEFAULT_BATCH_SIZE;
  const at = (deps.clock ?? (() => new Date()))().toISOString();
  const counts: ExecuteOutgoingCounts = {
    due: 0,
    requested: 0,
    duplicates: 0,
    skipped: 0,
    movedOn: 0,
    errors: 0,
  };
  let after = '';
  for (;;) {
    const rows = await db
      .selectFrom('transactions')
      .select([
        'id',
        'sending_anchor',
        'sender_id',
        'receiver_id',
        sql<number>`(snapshot -> 'context' ->> 'payoutAttempt')::int`.as('payout_attempt'),
      ])
      .where('status', '=', 'pending_receiver')
      .where(sql<boolean>`state_value = ${READY}::jsonb`)
      .where('id', '>', after)
      .orderBy('id')
      .limit(batchSize)
      .execute();
    for (const row of rows) {
      counts.due++;
      try {
        if (!(await customersAccepted(db, row, deps.customerTypes))) {
          counts.skipped++;
          continue;
        }
        const attempt = Number(row.payout_attempt ?? 0);
        const outcome = await host.apply({
          eventId: payoutRequestEventId(row.id, attempt),
          transactionId: row.id,
          event: { type: 'PAYOUT_REQUESTED', at },
        });
        if (outcome.outcome === 'applied') counts.requested++;
        else counts.duplicates++;
      } catch (error) {
        if (error instanceof EventRejectedError) {
          counts.movedOn++;
        } else {
          counts.errors++;
          log?.error({ transactionId: row.id, err: error }, `payout request failed: ${errorText(error)}`);
        }
      }
    }
    if (rows.length < batchSize) break;
    after = rows.at(-1)!.id;
  }
  return counts;
}

/** Every checked party has a customer, of this sending anchor, ACCEPTED for its type. */
async function customersAccepted(
  db: Executor,
  transaction: { id: string; sending_anchor: string; sender_id: string | null; receiver_id: string | null },
  types: readonly string[],
): Promise<boolean> {
  let owner: { account: string; memo: string | null };
  try {
    owner = identityOf(transaction.sending_anchor, '', null);
  } catch {
    return false;
  }
  for (const type of types) {
    const id = await customerIdOfTransaction(db, transaction, type);
    if (id === null) return false;
    if ((await customerStatusForType(db, id, owner, type)) !== 'ACCEPTED') return false;
  }
  return true;
}
