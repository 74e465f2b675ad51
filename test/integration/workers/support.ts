import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import {
  persistCustomer,
  startCustomer,
  stepCustomerAll,
  type CustomerEvent,
  type CustomerStatus,
  type TransactionInput,
} from '../../../machines/index.ts';
import type { TransactionHost } from '../../../src/actors/transaction-host.ts';
import { toJson, type Database } from '../../../src/db/index.ts';
import type { WorkerLog } from '../../../src/workers/index.ts';
import { SENDING_ANCHOR, accountAssigned, payment, transactionInput } from '../../fixtures/transactions.ts';

export const CUSTOMER_TYPES = ['sep31-sender', 'sep31-receiver'] as const;

/** A customer's standing for one type, as SEP-12's customer machine records it. */
function standing(type: string, status: CustomerStatus, at: string) {
  const fields = ['first_name'];
  const events = {
    NEEDS_INFO: [],
    PROCESSING: [{ type: 'FIELDS_PROVIDED', at, fields }],
    ACCEPTED: [
      { type: 'FIELDS_PROVIDED', at, fields },
      { type: 'FIELDS_VERIFIED', at, fields },
    ],
    REJECTED: [{ type: 'CUSTOMER_REJECTED', at, message: 'sanctioned' }],
  }[status] as CustomerEvent[];
  return persistCustomer(stepCustomerAll(startCustomer({ type, required: fields, at }), events));
}

let memoCounter = 0;

/** A SEP-12 customer of `account` (default: the fixtures' sending anchor), written as SEP-12 leaves it. */
export async function customer(
  db: Kysely<Database>,
  statuses: Partial<Record<string, CustomerStatus>>,
  account = SENDING_ANCHOR,
): Promise<string> {
  const id = randomUUID();
  const at = '2026-11-24T09:00:00.000Z';
  const entries = Object.entries(statuses) as [string, CustomerStatus][];
  await db
    .insertInto('customers')
    .values({
      id,
      account,
      // Customers are unique per (account, memo); a token without a memo sees all of its account's.
      memo: String(++memoCounter),
      type: entries.at(-1)?.[0] ?? null,
      status: entries.at(-1)?.[1] ?? 'NEEDS_INFO',
      fields: toJson({ first_name: { kind: 'text', value: 'Ada' } }),
      statuses: toJson(
        Object.fromEntries(entries.map(([type, status]) => [type, standing(type, status, at)])),
      ),
    })
    .execute();
  return id;
}

/** A transaction waiting for the sender's payment (`pending_sender`). */
export async function awaitingPayment(
  host: TransactionHost,
  overrides: Partial<TransactionInput> = {},
): Promise<TransactionInput> {
  const input = transactionInput(overrides);
  await host.create(input, { eventId: `create-${input.id}`, then: [accountAssigned()] });
  return input;
}

/**
 * A funded transaction, ready to be paid out (`pending_receiver.ready`), whose sender and receiver are
 * customers of its sending anchor with the given statuses (ACCEPTED by default).
 */
export async function funded(
  db: Kysely<Database>,
  host: TransactionHost,
  options: { sender?: CustomerStatus; receiver?: CustomerStatus; receiverAccount?: string } = {},
): Promise<TransactionInput> {
  const senderId = await customer(db, { 'sep31-sender': options.sender ?? 'ACCEPTED' });
  const receiverId = await customer(
    db,
    { 'sep31-receiver': options.receiver ?? 'ACCEPTED' },
    options.receiverAccount,
  );
  const input = await awaitingPayment(host, { senderId, receiverId });
  await host.apply({
    eventId: `pay-${input.id}`,
    transactionId: input.id,
    event: { type: 'PAYMENT_RECEIVED', at: '2026-11-24T10:05:01.000Z', payment: payment() },
  });
  return input;
}

export function captureLog() {
  const entries: { level: string; obj: object; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void entries.push({ level, obj, msg });
  const log: WorkerLog = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { log, entries };
}

export function eventTypes(db: Kysely<Database>, transactionId: string): Promise<string[]> {
  return db
    .selectFrom('transaction_events')
    .select('event_type')
    .where('transaction_id', '=', transactionId)
    .orderBy('seq')
    .execute()
    .then((rows) => rows.map((r) => r.event_type));
}

export function payoutRows(db: Kysely<Database>, transactionId: string) {
  return db
    .selectFrom('outbox')
    .selectAll()
    .where('transaction_id', '=', transactionId)
    .where('kind', '=', 'execute_payout')
    .orderBy('id')
    .execute();
}

/** Payout relay settings for tests: driven by `runOnce` only, with leases and backoff the clock can pass. */
export const TEST_PAYOUT_RELAY = {
  workerId: 'payouts-a',
  intervalMs: 60_000,
  batchSize: 10,
  leaseMs: 60_000,
  handlerTimeoutMs: 10_000,
  maxAttempts: 5,
  backoff: { initialMs: 5_000 },
  autoStart: false,
} as const;
