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
} as const;

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
  startedAt: string;
  updatedAt: string;
  completedAt: string | null;
  events: ViewerEvent[];
  /** The event types the machine would take in the current state (guards not evaluated); [] when final. */
  accepts: string[];
  /** The path for highlighting: every state id it has been in (ancestors included), and the arrows taken. */
  path: {
    states: string[];
    /**
     * Edge ids of the transaction machine (ViewerEdge.id), in the order taken: for each event, the arrows with its
     * type from the state before (or an ancestor) to the state after (or an ancestor). Guarded twins (same ends,
     * same event) are all included; an event with no drawn arrow (the creation) adds none.
     */
    edges: string[];
  };
}

/** GET session */
export interface ViewerSession {
  signedIn: boolean;
}
