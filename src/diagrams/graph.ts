import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from 'xstate';
import { transitionKey } from '../../machines/index.ts';
import { actionName, effectKind, guardLabel } from './labels.ts';

/** A state of the machine: every node below the root, parents before children, in definition order. */
export interface GraphState {
  /** xstate's id, e.g. `transaction.pending_receiver.ready`. */
  id: string;
  /** The key within its parent, e.g. `ready`. */
  key: string;
  /** The parent state's id, or null for a top-level state. */
  parent: string | null;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  description: string | null;
  /** For a compound state: the id of its initial child. */
  initial: string | null;
  /** Effects recorded on entry (e.g. `status_changed`). */
  effects: string[];
}

/** One transition to one target. */
export interface GraphTransition {
  /** Names the transition (machines' `transitionKey`), as the event log records the one taken. */
  key: string;
  /** The id of the state that defines it; the machine's id for a transition every state takes. */
  source: string;
  /** The id of the target; null for a targetless transition (it stays, and only runs its actions). */
  target: string | null;
  /** The event type; `''` for an eventless (`always`) transition. */
  event: string;
  guard: string | null;
  /** Kinds of the effects it records (e.g. `execute_payout`). */
  effects: string[];
  /** Names of all its actions, effects included, in order. */
  actions: string[];
}

export interface MachineGraph {
  id: string;
  description: string | null;
  /** The id of the top-level initial state. */
  initial: string | null;
  states: GraphState[];
  transitions: GraphTransition[];
}

export interface GraphOptions {
  /** The action that records an effect; its params' `kind` names the effect. Default `recordEffect`. */
  effectAction?: string;
}

/** Child state nodes in definition order. */
export function childrenOf(node: AnyStateNode): AnyStateNode[] {
  return Object.values(node.states);
}

/** Every transition a node defines: event transitions in definition order, then eventless ones. */
export function transitionsOf(node: AnyStateNode): AnyTransitionDefinition[] {
  return [...[...node.transitions.values()].flat(), ...(node.always ?? [])];
}

function initialOf(node: AnyStateNode): string | null {
  if (node.type !== 'compound') return null;
  return node.initial.target[0]?.id ?? null;
}

function toState(
  node: AnyStateNode,
  parent: AnyStateNode | undefined,
  options: Required<GraphOptions>,
): GraphState {
  return {
    id: node.id,
    key: node.key,
    parent: parent?.parent === undefined ? null : parent.id,
    type: node.type,
    description: node.description ?? null,
    initial: initialOf(node),
    effects: node.entry.flatMap((a) => effectKind(a, options.effectAction) ?? []),
  };
}

function toTransitions(t: AnyTransitionDefinition, options: Required<GraphOptions>): GraphTransition[] {
  const targets: (string | null)[] = (t.target ?? []).map((target) => target.id);
  return (targets.length === 0 ? [null] : targets).map((target) => ({
    key: transitionKey(t),
    source: t.source.id,
    target,
    event: t.eventType,
    guard: guardLabel(t.guard),
    effects: t.actions.flatMap((a) => effectKind(a, options.effectAction) ?? []),
    actions: t.actions.map(actionName),
  }));
}

/**
 * The machine as a JSON-serialisable graph, read from its definition (never drawn by hand).
 *
 * @example
 * const graph = toJson(transactionMachine);
 * graph.transitions.find((t) => t.event === 'PAYOUT_REQUESTED')?.effects; // ['execute_payout']
 */
export function toJson(machine: AnyStateMachine, options: GraphOptions = {}): MachineGraph {
  const resolved = { effectAction: options.effectAction ?? 'recordEffect' };
  const states: GraphState[] = [];
  const transitions: GraphTransition[] = transitionsOf(machine.root).flatMap((t) =>
    toTransitions(t, resolved),
  );
  const visit = (node: AnyStateNode) => {
    for (const child of childrenOf(node)) {
      states.push(toState(child, node, resolved));
      transitions.push(...transitionsOf(child).flatMap((t) => toTransitions(t, resolved)));
      visit(child);
    }
  };
  visit(machine.root);
  return {
    id: machine.root.id,
    description: machine.root.description ?? null,
    initial: initialOf(machine.root),
    states,
    transitions,
  };
}

/**
 * Every drawn edge: a transition on the machine's root is taken in each top-level state that is not final and
 * does not handle the event itself, so it is drawn from each of those; a targetless one loops on its source.
 */
export function drawnEdges(graph: MachineGraph): { from: string; to: string; transition: GraphTransition }[] {
  const topLevel = graph.states.filter((s) => s.parent === null && s.type !== 'final');
  return graph.transitions.flatMap((t) => {
    const sources =
      t.source === graph.id
        ? topLevel
            .filter(
              (s) =>
                !graph.transitions.some((u) => u.source === s.id && u.event === t.event && u.guard === null),
            )
            .map((s) => s.id)
        : [t.source];
    return sources.map((from) => ({ from, to: t.target ?? from, transition: t }));
  });
}
