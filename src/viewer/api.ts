// The machine viewer's JSON contract: the server (src/http/viewer.routes.ts) writes these, the browser
// (src/viewer/client/) reads them. Types only, so the browser bundle takes nothing else from the server.
import type { GraphState } from '../diagrams/graph.ts';

/** Where everything of the viewer lives; the page, its assets and its API are all below it. */
export const VIEWER_BASE = '/machines';

export const VIEWER_PATHS = {
  page: VIEWER_BASE,
  script: `${VIEWER_BASE}/assets/viewer.js`,
  stylesheet: `${VIEWER_BASE}/assets/viewer.css`,
  /** POST `{ token }` signs in (sets the session cookie); DELETE signs out; GET says whether signed in. */
  session: `${VIEWER_BASE}/api/session`,
  machines: `${VIEWER_BASE}/api/machines`,
  counts: `${VIEWER_BASE}/api/counts`,
  /** Server-sent events: `counts` (ViewerCounts) and `transition` (ViewerTransition). */
  live: `${VIEWER_BASE}/api/live`,
  /** Append the transaction id (URL-encoded). */
  transaction: `${VIEWER_BASE}/api/transactions/`,
  /** GET with `state` (a state id) and/or `q` (id, memo or Stellar transaction hash), `before`, `limit`. */
  transactions: `${VIEWER_BASE}/api/transactions`,
  /** GET with `before`, `limit`: unmatched payments, newest first. */
  unmatched: `${VIEWER_BASE}/api/unmatched-payments`,
  /** POST: the operator API (JSON-RPC 2.0, as `/operator/rpc`) for the signed-in console. */
  rpc: `${VIEWER_BASE}/api/rpc`,
} as const;

/** Rows per page of the lists, unless `limit` says fewer. */
export const VIEWER_PAGE_SIZE = 25;
export const VIEWER_MAX_PAGE_SIZE = 100;

/** One drawn arrow: a transition from one state to another (a self-loop when `from === to`). */
export interface ViewerEdge {
  /** Stable within one machine: `<index>` of the drawn edge. */
  id: string;
  /** xstate state ids, e.g. `transaction.pending_receiver.ready`. */
  from: string;
  to: string;
  /** The event type; `''` for an eventless transition. */
  event: string;
  guard: string | null;
  effects: string[];
  /** The transition it draws (machines' `transitionKey`); a root transition is drawn from several states. */
  transition: string;
  /** `EVENT [guard] / effect`: what the arrow says. */
  label: string;
}

export interface ViewerMachine {
  /** The name `mooring machines export --machine` takes, e.g. `transaction`. */
  name: string;
  /** The machine's id (the prefix of its state ids). */
  id: string;
  description: string | null;
  /** The top-level initial state's id. */
  initial: string | null;
  states: GraphState[];
  edges: ViewerEdge[];
  /** True for the machine whose live counts `counts` reports (the transaction machine). */
  counted: boolean;
}

/** GET machines */
export interface ViewerMachines {
  machines: ViewerMachine[];
}

/** GET counts, and the `counts` server-sent event. */
export interface ViewerCounts {
  /** The machine counted (its name). */
  machine: string;
  /** Transactions in all. */
  total: number;
  /**
   * Transactions in each state, by state id; a compound state counts those in any of its sub-states.
   * Every state of the machine is present, with 0 where there are none.
   */
  counts: Record<string, number>;
  /** The newest `transaction_events` row id seen (as a string: it is a bigint); `'0'` when there are none. */
  latestEventId: string;
  /** ISO time the counts were read. */
  at: string;
}

/** The `transition` server-sent event: one row of `transaction_events` as it is committed. */
export interface ViewerTransition {
  /** The event row's id (a bigint as a string); also the SSE `id:`. */
  id: string;
  transactionId: string;
  seq: number;
  eventType: string;
  statusBefore: string | null;
  statusAfter: string;
  /** The active leaf state's id after the event (e.g. `transaction.pending_receiver.ready`). */
  stateAfter: string;
  /** The drawn arrow (ViewerEdge.id) the event took; null for the creation and events recorded without it. */
  edge: string | null;
  /** ISO time. */
  at: string;
}

/** One applied event of a transaction, oldest first. */
export interface ViewerEvent {
  seq: number;
  eventId: string;
  eventType: string;
  /** ISO time it was committed. */
  at: string;
  statusBefore: string | null;
  statusAfter: string;
  /** Leaf state ids before and after (`stateBefore` is null for the creation). */
  stateBefore: string | null;
  stateAfter: string;
  /** The event as applied (its type included). */
  payload: unknown;
}

/** GET transaction/:id */
export interface ViewerTransaction {
  id: string;
  status: string;
  /** The active leaf state's id. */
  state: string;
  version: number;
  sendingAnchor: string;
  amountIn: string;
  amountInAsset: string;
  amountOut: string;
  amountOutAsset: string;
  /** The sending anchor's name from the configuration (`sendingAnchors`), when its key is listed there. */
  sendingAnchorName: string | null;
  /** Significant decimals of the assets it names, from the configuration (absent: show the amount as stored). */
  decimals: Record<string, number>;
  /** What the sending anchor must pay (`amount_in`). */
  amountExpected: string;
  /** What the credited payment brought, in its asset; null before a payment. */
  amountReceived: string | null;
  amountReceivedAsset: string | null;
  /** Received beyond the amount expected, owed back. */
  excessAmount: string | null;
  /** Why it is in its state (the reason for `error`), as the machine recorded it. */
  statusMessage: string | null;
  stellarAccountId: string | null;
  stellarMemoType: string | null;
  stellarMemo: string | null;
  stellarTransactionId: string | null;
  refunds: {
    amountRefunded: string;
    amountFee: string;
    payments: { id: string; amount: string; fee: string }[];
  } | null;
  expiresAt: string | null;
  startedAt: string;
  updatedAt: string;
  completedAt: string | null;
  /** Payments to its account and memo that could not be credited to it, newest first. */
  unmatchedPayments: ViewerUnmatchedPayment[];
  events: ViewerEvent[];
  /** The event types the machine would take in the current state (guards not evaluated); [] when final. */
  accepts: string[];
  /** The path for highlighting: every state id it has been in (ancestors included), and the arrows taken. */
  path: {
    states: string[];
    /**
     * Edge ids of the transaction machine (ViewerEdge.id), in the order taken: for each event, the arrow of the
     * transition it recorded; for an event recorded without one (older rows), the arrows with its type from the
     * state before (or an ancestor) to the state after (or an ancestor), guarded twins all included. The creation
     * adds none.
     */
    edges: string[];
  };
}

/** One row of a transaction list. */
export interface ViewerTransactionSummary {
  id: string;
  status: string;
  /** The active leaf state's id. */
  state: string;
  amountIn: string;
  amountInAsset: string;
  stellarMemo: string | null;
  statusMessage: string | null;
  startedAt: string;
  updatedAt: string;
}

/** A page of a list, newest first; `next` is the `before` of the next page (null: none). */
export interface ViewerPage<T> {
  items: T[];
  next: string | null;
}

/** An incoming payment that could not be credited (table `unmatched_payments`). */
export interface ViewerUnmatchedPayment {
  id: string;
  operationId: string;
  transactionHash: string;
  /** The receiving (watched) account. */
  account: string;
  fromAccount: string | null;
  /** What the account received, decimal string. */
  amount: string;
  /** SEP-38 form: `stellar:CODE:ISSUER` (`stellar:native` for lumens). */
  asset: string;
  memoType: string | null;
  memo: string | null;
  /** Why it was not credited. */
  reason: string;
  transactionId: string | null;
  at: string;
  refundedAt: string | null;
  refundTransactionHash: string | null;
}

/** GET session */
export interface ViewerSession {
  signedIn: boolean;
}
