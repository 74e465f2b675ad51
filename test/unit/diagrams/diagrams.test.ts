import { and, assign, createMachine, not, or, setup, stateIn } from 'xstate';
import { toDirectedGraph, type DirectedGraphEdge, type DirectedGraphNode } from 'xstate/graph';
import { describe, expect, it } from 'vitest';
import {
  MACHINES,
  actionName,
  effectKind,
  eventLabel,
  guardLabel,
  mermaidText,
  toJson,
  toMermaid,
  transitionLabel,
} from '../../../src/diagrams/index.ts';
import {
  FINAL_STATUSES,
  STATUS_DESCRIPTIONS,
  TRANSACTION_STATUSES,
  transactionMachine,
} from '../../../machines/index.ts';
import { misplacedArrows, parseMermaid } from './mermaid-grammar.ts';

type AnyNode = DirectedGraphNode['stateNode'];

/** The machine's own transitions, as xstate's graph utility lists them (one edge per target). */
function machineEdges(node: DirectedGraphNode = toDirectedGraph(transactionMachine)): DirectedGraphEdge[] {
  return [...node.edges, ...node.children.flatMap((child) => machineEdges(child))];
}

/** The Mermaid id the diagram must use: the key path below the root, joined by `__`. */
function mermaidId(node: AnyNode): string {
  return node.path.join('__');
}

const topLevel = Object.values(transactionMachine.root.states);
const mermaid = toMermaid(transactionMachine);
const lines = mermaid.split('\n').map((l) => l.trim());
const arrowLines = lines.filter((l) => / --> /.test(l));

/** What the diagram must draw for one machine edge: root edges are taken in every state that does not override. */
function expectedArrows(edge: DirectedGraphEdge): { from: string; to: string; event: string }[] {
  const event = edge.label.text;
  if (edge.source === transactionMachine.root) {
    return topLevel
      .filter((s) => s.type !== 'final')
      .filter((s) => !(s.transitions.get(event) ?? []).some((t) => t.guard === undefined))
      .map((s) => ({ from: mermaidId(s), to: mermaidId(edge.target), event }));
  }
  return [{ from: mermaidId(edge.source), to: mermaidId(edge.target), event }];
}

describe('toMermaid(transactionMachine)', () => {
  it('is a stateDiagram-v2 that fits the Mermaid grammar, with no misplaced arrows', () => {
    expect(lines[0]).toBe('stateDiagram-v2');
    const parse = parseMermaid(mermaid);
    expect(parse.errors).toEqual([]);
    expect(misplacedArrows(parse)).toEqual([]);
  });

  it('draws every SEP-31 status as a state titled by its name, its description under it or as a note', () => {
    const parse = parseMermaid(mermaid);
    for (const status of TRANSACTION_STATUSES) {
      expect(parse.parentOf.get(status), status).toBeNull();
      const description = mermaidText(STATUS_DESCRIPTIONS[status]);
      if (lines.includes(`state pending_receiver {`) && status === 'pending_receiver') {
        // A composite may carry only its title in Mermaid: the description is a note beside it.
        expect(lines).toContain(`note right of ${status} : ${description}`);
      } else {
        // Named first: Mermaid titles a state by its first description, so `id : text` alone would hide the name.
        expect(lines).toContain(`state "${status}" as ${status}`);
        expect(lines).toContain(`${status} : ${description}`);
        expect(lines.indexOf(`state "${status}" as ${status}`)).toBeLessThan(
          lines.indexOf(`${status} : ${description}`),
        );
      }
    }
  });

  it("nests pending_receiver's sub-states in a composite, with its own initial arrow", () => {
    const parse = parseMermaid(mermaid);
    expect(lines).toContain('state pending_receiver {');
    for (const key of ['preparing', 'ready', 'paying_out']) {
      expect(parse.parentOf.get(`pending_receiver__${key}`)).toBe('pending_receiver');
      expect(lines).toContain(`state "${key}" as pending_receiver__${key}`);
    }
    expect(parse.arrows).toContainEqual({
      scope: 'pending_receiver',
      from: '[*]',
      to: 'pending_receiver__preparing',
      label: null,
    });
  });

  it('starts at the initial state and ends at exactly the final ones', () => {
    expect(arrowLines.filter((l) => l.startsWith('[*] -->'))).toEqual([
      '[*] --> pending_receiver',
      '[*] --> pending_receiver__preparing',
    ]);
    const finals = arrowLines.filter((l) => l.endsWith('--> [*]')).map((l) => l.split(' ')[0]);
    expect(finals.sort()).toEqual([...FINAL_STATUSES].sort());
  });

  it('uses ids without dots', () => {
    for (const { from, to } of parseMermaid(mermaid).arrows) {
      expect(from).toMatch(/^(\[\*\]|[A-Za-z0-9_]+)$/);
      expect(to).toMatch(/^(\[\*\]|[A-Za-z0-9_]+)$/);
    }
  });

  it("draws every transition of the machine's own definition, and nothing else", () => {
    const edges = machineEdges();
    expect(edges.length).toBeGreaterThanOrEqual(30);
    const expected = edges.flatMap(expectedArrows);
    for (const { from, to, event } of expected) {
      const line = arrowLines.find((l) => l.startsWith(`${from} --> ${to} : ${event}`));
      expect(line, `${from} --> ${to} : ${event}`).toBeDefined();
    }
    const drawn = arrowLines.filter((l) => !l.startsWith('[*]') && !l.endsWith('[*]'));
    expect(drawn).toHaveLength(expected.length);
  });

  it('labels guarded transitions with the guard in brackets', () => {
    const guarded = machineEdges().filter((e) => e.transition.guard !== undefined);
    expect(guarded.length).toBeGreaterThan(10);
    for (const edge of guarded) {
      const label = guardLabel(edge.transition.guard);
      const [{ from, to, event }] = expectedArrows(edge) as [{ from: string; to: string; event: string }];
      expect(arrowLines).toContainEqual(
        expect.stringMatching(`^${from} --> ${to} : ${event} \\[${label}\\]`),
      );
    }
    expect(arrowLines).toContain(
      'pending_sender --> pending_receiver__ready : PAYMENT_RECEIVED [paidBeforeQuoteExpired and inTransactionAsset and paidExactly]',
    );
    expect(arrowLines).toContain(
      'pending_sender --> error : PAYMENT_RECEIVED [paidBeforeQuoteExpired and inTransactionAsset]',
    );
    expect(arrowLines).toContain(
      'pending_sender --> error : PAYMENT_RECEIVED [paidBeforeQuoteExpired and inTransactionAsset]',
    );
    expect(arrowLines).toContain(
      'error --> pending_receiver__ready : RECOVER [fundsReceivedInFull and payoutOutcomeKnown]',
    );
  });

  it('shows the effects a transition records', () => {
    expect(arrowLines).toContain(
      'pending_receiver__ready --> pending_receiver__paying_out : PAYOUT_REQUESTED [nothingToRefundFirst] / execute_payout',
    );
  });

  it('draws a targetless transition as a loop, and the root ERROR from every non-final status but error', () => {
    expect(arrowLines).toContain('error --> error : REFUND_SENT [isPartialRefund]');
    expect(arrowLines).toContain('error --> error : ERROR');
    const intoError = arrowLines.filter((l) => / --> error : ERROR$/.test(l)).map((l) => l.split(' ')[0]);
    expect(intoError.sort()).toEqual(TRANSACTION_STATUSES.filter((s) => !FINAL_STATUSES.includes(s)).sort());
  });

  it('is deterministic', () => {
    expect(toMermaid(transactionMachine)).toBe(mermaid);
    expect(toMermaid(MACHINES.transaction ?? transactionMachine)).toBe(mermaid);
  });

  it('can leave descriptions out', () => {
    const bare = toMermaid(transactionMachine, { descriptions: false });
    expect(bare).not.toContain(' : The receiver has the funds.');
    expect(parseMermaid(bare).errors).toEqual([]);
  });
});

describe('toJson(transactionMachine)', () => {
  const graph = toJson(transactionMachine);

  it('round-trips through JSON.stringify and is deterministic', () => {
    expect(JSON.parse(JSON.stringify(graph))).toEqual(graph);
    expect(JSON.stringify(toJson(transactionMachine))).toBe(JSON.stringify(graph));
  });

  it('lists every state node of the machine, parents first, with type, parent and initial child', () => {
    const nodes: AnyNode[] = [];
    const visit = (node: AnyNode) => {
      for (const child of Object.values(node.states)) {
        nodes.push(child);
        visit(child);
      }
    };
    visit(transactionMachine.root);
    expect(graph.states.map((s) => s.id)).toEqual(nodes.map((n) => n.id));
    expect(graph.id).toBe('transaction');
    expect(graph.initial).toBe('transaction.pending_receiver');
    expect(graph.states.find((s) => s.key === 'pending_receiver')).toMatchObject({
      type: 'compound',
      parent: null,
      initial: 'transaction.pending_receiver.preparing',
      effects: ['status_changed'],
    });
    expect(graph.states.find((s) => s.key === 'ready')).toMatchObject({
      type: 'atomic',
      parent: 'transaction.pending_receiver',
      initial: null,
      effects: [],
    });
  });

  it('has every SEP-31 status as a top-level state with its SEP description, final ones marked', () => {
    for (const status of TRANSACTION_STATUSES) {
      expect(graph.states).toContainEqual(
        expect.objectContaining({
          id: `transaction.${status}`,
          key: status,
          parent: null,
          description: STATUS_DESCRIPTIONS[status],
          type: FINAL_STATUSES.includes(status) ? 'final' : expect.stringMatching(/atomic|compound/),
          effects: ['status_changed'],
        }),
      );
    }
  });

  it("has every transition of the machine's own definition, in order", () => {
    const expected = machineEdges().map((e) => ({
      source: e.source.id,
      target: e.transition.target === undefined ? null : e.target.id,
      event: e.label.text,
      guard: guardLabel(e.transition.guard),
    }));
    expect(
      graph.transitions.map(({ source, target, event, guard }) => ({ source, target, event, guard })),
    ).toEqual(expected);
  });

  it('names effects and actions', () => {
    const payout = graph.transitions.find((t) => t.event === 'PAYOUT_REQUESTED');
    expect(payout).toMatchObject({ effects: ['execute_payout'], actions: ['xstate.assign', 'recordEffect'] });
    const refund = graph.transitions.find((t) => t.event === 'REFUND_SENT' && t.guard === 'isFullRefund');
    expect(refund).toMatchObject({ target: 'transaction.refunded', effects: [], actions: ['applyRefund'] });
    const partial = graph.transitions.find((t) => t.event === 'REFUND_SENT' && t.guard === 'isPartialRefund');
    expect(partial?.target).toBeNull();
  });
});

describe('MACHINES', () => {
  it('registers the transaction machine', () => {
    expect(MACHINES.transaction).toBe(transactionMachine);
    expect(Object.isFrozen(MACHINES)).toBe(true);
  });

  it.each(Object.entries(MACHINES))('%s exports to valid Mermaid and JSON', (_, machine) => {
    const parse = parseMermaid(toMermaid(machine));
    expect(parse.errors).toEqual([]);
    expect(misplacedArrows(parse)).toEqual([]);
    expect(JSON.parse(JSON.stringify(toJson(machine)))).toEqual(toJson(machine));
  });
});

describe('any machine', () => {
  const demo = setup({
    types: {
      context: {} as { n: number },
      events: {} as { type: 'GO' } | { type: 'STOP' } | { type: 'go-back' },
    },
    actions: { emit: (_, _p: { kind: string }) => {} },
    guards: { a: () => true, b: () => false, c: () => true },
  }).createMachine({
    id: 'demo',
    context: { n: 0 },
    initial: 'idle',
    states: {
      idle: {
        on: {
          GO: {
            target: 'busy',
            guard: not(or(['a', 'b'])),
            actions: { type: 'emit', params: { kind: 'started' } },
          },
          STOP: { target: 'done', guard: and(['a', not('b')]) },
        },
        always: { target: 'done', guard: stateIn('#demo.busy') },
      },
      busy: {
        type: 'parallel',
        after: { 1000: 'done' },
        states: {
          'left-side': { initial: 'l1', states: { l1: { on: { 'go-back': 'l2' } }, l2: {} } },
          right: { initial: 'r1', states: { r1: {} } },
        },
      },
      done: { type: 'final', entry: [assign({ n: 1 }), { type: 'emit', params: { kind: 'finished' } }] },
    },
  });

  it('writes parallel regions, delays, eventless transitions and nested guards', () => {
    const text = toMermaid(demo, { effectAction: 'emit' });
    const parse = parseMermaid(text);
    expect(parse.errors).toEqual([]);
    expect(misplacedArrows(parse)).toEqual([]);
    const l = text.split('\n').map((x) => x.trim());
    expect(l).toContain('idle --> busy : GO [not (a or b)] / started');
    expect(l).toContain('idle --> done : STOP [a and not b]');
    expect(l).toContain('idle --> done : always [in("#demo.busy")]');
    expect(l).toContain('busy --> done : after 1000ms');
    expect(l).toContain('state busy {');
    expect(l).toContain('state "left-side" as busy__left_side {');
    expect(l).toContain('busy__left_side__l1 --> busy__left_side__l2 : go-back');
    expect(l).toContain('--');
    expect(l).toContain('done --> [*]');
  });

  it('records entry effects in JSON', () => {
    const graph = toJson(demo, { effectAction: 'emit' });
    expect(graph.states.find((s) => s.key === 'done')?.effects).toEqual(['finished']);
    expect(graph.states.find((s) => s.key === 'busy')?.type).toBe('parallel');
    expect(graph.transitions.find((t) => t.event === '')).toMatchObject({
      source: 'demo.idle',
      target: 'demo.done',
    });
  });

  it('works without setup() and without descriptions', () => {
    const plain = createMachine({ id: 'plain', initial: 'a', states: { a: { on: { NEXT: 'b' } }, b: {} } });
    expect(toMermaid(plain)).toBe(
      'stateDiagram-v2\n  %% plain: generated from the machine definition, do not edit\n  [*] --> a\n  a --> b : NEXT\n',
    );
  });
});

describe('labels', () => {
  it('guards', () => {
    expect(guardLabel(undefined)).toBeNull();
    expect(guardLabel('g')).toBe('g');
    expect(guardLabel({ type: 'g', params: { x: 1 } })).toBe('g');
    expect(guardLabel(and(['a', or(['b', 'c'])]))).toBe('a and (b or c)');
    expect(guardLabel(not(and(['a', 'b'])))).toBe('not (a and b)');
    expect(guardLabel(function isBig() {})).toBe('isBig');
    expect(guardLabel(() => true)).toBe('inline guard');
  });

  it('actions and effects', () => {
    expect(actionName('named')).toBe('named');
    expect(actionName(assign({}))).toBe('xstate.assign');
    expect(actionName({ type: 'recordEffect', params: {} })).toBe('recordEffect');
    expect(effectKind({ type: 'recordEffect', params: { kind: 'k' } }, 'recordEffect')).toBe('k');
    const dynamic = {
      type: 'recordEffect',
      params: ({ context }: { context: { id: string } }) => ({ kind: 'd', key: `${context.id}:1` }),
    };
    expect(effectKind(dynamic, 'recordEffect')).toBe('d');
    const throwing = {
      type: 'recordEffect',
      params: () => {
        throw new Error('no');
      },
    };
    expect(effectKind(throwing, 'recordEffect')).toBe('recordEffect');
    expect(effectKind('recordEffect', 'recordEffect')).toBe('recordEffect');
    expect(effectKind({ type: 'other', params: { kind: 'k' } }, 'recordEffect')).toBeNull();
  });

  it('Mermaid text and transition labels', () => {
    expect(mermaidText('a: b; c\n  d %% e')).toBe('a – b, c d % e');
    expect(eventLabel('')).toBe('always');
    expect(eventLabel('xstate.after.500.m.s')).toBe('after 500ms');
    expect(eventLabel('xstate.done.actor.pay')).toBe('done(pay)');
    expect(transitionLabel({ event: 'E', guard: 'g', effects: ['x', 'y'] })).toBe('E [g] / x, y');
    expect(transitionLabel({ event: 'E', guard: null, effects: [] })).toBe('E');
  });
});
