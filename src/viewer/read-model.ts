// What the machine viewer reads from the database: per-state counts, the event log as transitions, and one
// transaction with its path. Plain kysely over the read model, the same on PostgreSQL and PGlite. Read-only.
import { sql, type Kysely } from 'kysely';
import { acceptedEventTypes, restore, type PersistedTransaction } from '../../machines/index.ts';
import type { Database, TransactionEventRow } from '../db/index.ts';
import { readTogether } from '../db/read-together.ts';
import { stateCountsOf, stateCountsQuery } from '../db/transaction-state-counts.repository.ts';
import type {
  ViewerCounts,
  ViewerEvent,
  ViewerMachine,
  ViewerPage,
  ViewerTransaction,
  ViewerTransactionSummary,
  ViewerTransition,
  ViewerUnmatchedPayment,
} from './api.ts';
import { countedMachine } from './machines.ts';
import { readTransactionList, readUnmatchedPayments, type TransactionListQuery } from './lists.ts';
import { activeStates, asStateValue, leafStateId, type StateValue } from './state-ids.ts';

export { COUNTED_MACHINE, countedMachine } from './machines.ts';

/** The state value stored in `column`, or else the top-level status (old rows have no state value). */
function stateValueOf(column: unknown, status: string): StateValue {
  return asStateValue(column) ?? status;
}

/** Unmatched payments shown with a transaction at most (the console's list has them all). */
const UNMATCHED_IN_PANEL = 20;

const iso = (value: Date | string): string => (value instanceof Date ? value : new Date(value)).toISOString();

/** Transactions per state: a compound state counts those in any of its sub-states; every state is present. */
export async function readCounts(db: Kysely<Database>, now: Date = new Date()): Promise<ViewerCounts> {
  const machine = countedMachine();
  // The counts kept as transitions commit: a few dozen rows, however many transactions there are. Read in
  // one statement with the newest event id, so both come from one snapshot: counts older than the id they
  // claim to include would never be corrected by a live stream that starts from that id.
  const [countRows, [latest]] = await readTogether(db, [
    stateCountsQuery(db),
    db.selectFrom('transaction_events').select(sql<string | null>`max(id)::text`.as('latest')),
  ]);
  const rows = stateCountsOf(countRows);
  const counts: Record<string, number> = Object.fromEntries(machine.states.map((s) => [s.id, 0]));
  let total = 0;
  for (const row of rows) {
    total += row.n;
    for (const id of activeStates(machine.id, stateValueOf(row.stateValue, row.status)).active) {
      // A state the machine no longer has (an old row) counts in the total only.
      if (id in counts) counts[id]! += row.n;
    }
  }
  return {
    machine: machine.name,
    total,
    counts,
    latestEventId: latest?.latest == null ? '0' : String(latest.latest),
    at: now.toISOString(),
  };
}

function leafOf(column: unknown, status: string): string {
  const machineId = countedMachine().id;
  return leafStateId(machineId, stateValueOf(column, status)) ?? `${machineId}.${status}`;
}

/**
 * The drawn arrow of a recorded transition: its own, or for a root transition (drawn from every top-level state
 * that does not handle the event itself) the one from the top-level state it left. Null when none is drawn.
 */
export function edgeOfTransition(
  machine: ViewerMachine,
  transition: string | null,
  statusBefore: string | null,
): string | null {
  if (transition === null) return null;
  const drawn = machine.edges.filter((e) => e.transition === transition);
  if (drawn.length <= 1) return drawn[0]?.id ?? null;
  const from = `${machine.id}.${statusBefore}`;
  return drawn.find((e) => e.from === from)?.id ?? null;
}

function toTransition(row: TransactionEventRow): ViewerTransition {
  return {
    id: String(row.id),
    transactionId: row.transaction_id,
    seq: Number(row.seq),
    eventType: row.event_type,
    statusBefore: row.status_before,
    statusAfter: row.status_after,
    stateAfter: leafOf(row.state_after, row.status_after),
    edge: edgeOfTransition(countedMachine(), row.transition, row.status_before),
    at: iso(row.created_at),
  };
}

/** Event rows with an id above `afterId` (a bigint as decimal digits), oldest id first, at most `limit`. */
export async function readTransitionsSince(
  db: Kysely<Database>,
  afterId: string,
  limit: number,
): Promise<ViewerTransition[]> {
  if (!/^\d{1,19}$/.test(afterId)) throw new RangeError(`not an event id: ${afterId}`);
  const rows = await db
    .selectFrom('transaction_events')
    .selectAll()
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(toTransition);
}

/** The newest `limit` event rows, oldest id first: what a client that connects without a Last-Event-ID sees. */
export async function readRecentTransitions(
  db: Kysely<Database>,
  limit: number,
): Promise<ViewerTransition[]> {
  const rows = await db
    .selectFrom('transaction_events')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.reverse().map(toTransition);
}

/**
 * One transaction: its read model, its events oldest first, what it accepts now and the path it took through
 * the transaction machine (see ViewerTransaction.path). Undefined when there is no such transaction.
 */
export async function readTransaction(
  db: Kysely<Database>,
  id: string,
): Promise<ViewerTransaction | undefined> {
  const row = await db.selectFrom('transactions').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const rows = await db
    .selectFrom('transaction_events')
    .selectAll()
    .where('transaction_id', '=', id)
    .orderBy('seq')
    .execute();

  const machine = countedMachine();
  const persisted = row.snapshot as unknown as PersistedTransaction;
  const current = stateValueOf(row.state_value ?? persisted.value, row.status);

  const events: ViewerEvent[] = [];
  const states = new Set<string>();
  const edges: string[] = [];
  let before: string | null = null;
  for (const event of rows) {
    const value = stateValueOf(event.state_after, event.status_after);
    const after = leafOf(event.state_after, event.status_after);
    for (const state of activeStates(machine.id, value).active) states.add(state);
    const recorded = edgeOfTransition(machine, event.transition, event.status_before);
    if (recorded !== null) edges.push(recorded);
    else if (before !== null) edges.push(...edgesTaken(machine, event.event_type, before, after));
    events.push({
      seq: Number(event.seq),
      eventId: event.event_id,
      eventType: event.event_type,
      at: iso(event.created_at),
      statusBefore: event.status_before,
      statusAfter: event.status_after,
      stateBefore: before,
      stateAfter: after,
      payload: event.payload,
    });
    before = after;
  }
  for (const state of activeStates(machine.id, current).active) states.add(state);
  const { payment, excessAmount } = persisted.context;
  const unmatched = await readUnmatchedPayments(db, { transactionId: id, limit: UNMATCHED_IN_PANEL });

  return {
    id: row.id,
    status: row.status,
    state: leafStateId(machine.id, current) ?? `${machine.id}.${row.status}`,
    version: Number(row.version),
    sendingAnchor: row.sending_anchor,
    amountIn: row.amount_in,
    amountInAsset: row.amount_in_asset,
    amountOut: row.amount_out,
    amountOutAsset: row.amount_out_asset,
    sendingAnchorName: null,
    decimals: {},
    amountExpected: row.amount_in,
    amountReceived: payment?.amount ?? null,
    amountReceivedAsset:
      payment === null || payment === undefined
        ? null
        : payment.assetIssuer === null
          ? 'stellar:native'
          : `stellar:${payment.assetCode}:${payment.assetIssuer}`,
    excessAmount: excessAmount ?? null,
    statusMessage: row.status_message,
    stellarAccountId: row.stellar_account_id,
    stellarMemoType: row.stellar_memo_type,
    stellarMemo: row.stellar_memo,
    stellarTransactionId: row.stellar_transaction_id,
    refunds: row.refunds,
    expiresAt: row.expires_at === null ? null : iso(row.expires_at),
    startedAt: iso(row.started_at),
    updatedAt: iso(row.updated_at),
    completedAt: row.completed_at === null ? null : iso(row.completed_at),
    unmatchedPayments: unmatched.items,
    events,
    accepts: acceptedEventTypes(restore(persisted)),
    path: { states: [...states], edges },
  };
}

/**
 * The drawn edges an event took: those with its type from the state before (or an ancestor) to the state after
 * (or an ancestor). Guarded twins are all included; an event no arrow draws adds none. Where only a compound
 * state is known (an old row: its status), arrows from or to its sub-states count too.
 */
export function edgesTaken(
  machine: ViewerMachine,
  eventType: string,
  before: string,
  after: string,
): string[] {
  const related = (a: string, b: string) => a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);
  return machine.edges
    .filter((e) => e.event === eventType && related(e.from, before) && related(e.to, after))
    .map((e) => e.id);
}

/** The viewer's queries, bound to a database: what the HTTP layer gets instead of the database. */
export interface ViewerQueries {
  counts(now: Date): Promise<ViewerCounts>;
  transitionsSince(afterId: string, limit: number): Promise<ViewerTransition[]>;
  recentTransitions(limit: number): Promise<ViewerTransition[]>;
  transaction(id: string): Promise<ViewerTransaction | undefined>;
  transactions(query: TransactionListQuery): Promise<ViewerPage<ViewerTransactionSummary>>;
  unmatchedPayments(query: { before?: string; limit: number }): Promise<ViewerPage<ViewerUnmatchedPayment>>;
}

export function viewerQueries(db: Kysely<Database>): ViewerQueries {
  return {
    counts: (now) => readCounts(db, now),
    transitionsSince: (afterId, limit) => readTransitionsSince(db, afterId, limit),
    recentTransitions: (limit) => readRecentTransitions(db, limit),
    transaction: (id) => readTransaction(db, id),
    transactions: (query) => readTransactionList(db, query),
    unmatchedPayments: (query) => readUnmatchedPayments(db, query),
  };
}
