import type { AnyStateMachine } from 'xstate';
import { eventLabel } from './event-label.ts';
import {
  drawnEdges,
  toJson,
  type GraphOptions,
  type GraphState,
  type GraphTransition,
  type MachineGraph,
} from './graph.ts';

/**
 * Mermaid `stateDiagram-v2` text for a machine, generated from its definition.
 *
 * Mermaid's grammar shapes the output:
 * - ids may not contain `.`, `-` or spaces: a nested state gets its key path joined by `__`
 *   (`pending_receiver__ready`) and keeps its key as the label;
 * - a transition is written in the innermost composite that holds both ends, so that Mermaid places every state
 *   in the composite that declares it (it puts a state in the last composite that mentions it);
 * - text after `:` may hold neither `:` nor `;` nor a line break: they are replaced.
 * A transition on the machine's root (taken in every state that does not handle the event itself) is drawn from
 * each non-final top-level state that does not define an unguarded transition for the same event.
 */
export interface MermaidOptions extends GraphOptions {
  /** Write each state's description under its name. Default true. */
  descriptions?: boolean;
}

/** Makes text safe after a `:` in Mermaid (a state description or a transition label). */
export function mermaidText(text: string): string {
  return text
    .replace(/\s*[\r\n]+\s*/g, ' ')
    .replace(/\s*:\s*/g, ' – ')
    .replace(/;/g, ',')
    .replace(/%%/g, '%')
    .replace(/\s{2,}/g, ' ')
    .trim();
}

/** `EVENT [guard] / effect, effect` */
export function transitionLabel(t: Pick<GraphTransition, 'event' | 'guard' | 'effects'>): string {
  const guard = t.guard === null ? '' : ` [${t.guard}]`;
  const effects = t.effects.length === 0 ? '' : ` / ${t.effects.join(', ')}`;
  return mermaidText(`${eventLabel(t.event)}${guard}${effects}`);
}

interface Edge {
  scope: string | null;
  from: string;
  to: string;
  label: string;
}

/** Mermaid-safe ids, unique within the diagram: the key path below the root, joined by `__`. */
function mermaidIds(graph: MachineGraph): Map<string, string> {
  const ids = new Map<string, string>();
  const used = new Set<string>();
  for (const state of graph.states) {
    const parent = state.parent === null ? undefined : ids.get(state.parent);
    const own = state.key.replace(/[^A-Za-z0-9_]/g, '_') || '_';
    const base = parent === undefined ? own : `${parent}__${own}`;
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}_${n}`;
    used.add(id);
    ids.set(state.id, id);
  }
  return ids;
}

/** The ids of a state's ancestors, outermost first, starting with null for the root. */
function ancestors(id: string, byId: Map<string, GraphState>): (string | null)[] {
  const chain: (string | null)[] = [];
  for (
    let parent = byId.get(id)?.parent ?? null;
    parent !== null;
    parent = byId.get(parent)?.parent ?? null
  ) {
    chain.unshift(parent);
  }
  return [null, ...chain];
}

/** The innermost composite (null: the root) that holds both states, neither of them being it. */
function scopeOf(from: string, to: string, byId: Map<string, GraphState>): string | null {
  const [a, b] = [ancestors(from, byId), ancestors(to, byId)];
  let scope: string | null = null;
  for (let i = 0; i < Math.min(a.length, b.length) && a[i] === b[i]; i++) scope = a[i] ?? null;
  return scope;
}

function edgesOf(graph: MachineGraph, byId: Map<string, GraphState>): Edge[] {
  return drawnEdges(graph).map(({ from, to, transition }) => ({
    scope: scopeOf(from, to, byId),
    from,
    to,
    label: transitionLabel(transition),
  }));
}

/** Renders a graph from `toJson` as Mermaid `stateDiagram-v2`. */
export function renderMermaid(graph: MachineGraph, options: MermaidOptions = {}): string {
  const descriptions = options.descriptions ?? true;
  const byId = new Map(graph.states.map((s) => [s.id, s]));
  const ids = mermaidIds(graph);
  const mid = (id: string) => ids.get(id) ?? id;
  const edges = edgesOf(graph, byId);
  const lines = ['stateDiagram-v2', `  %% ${graph.id}: generated from the machine definition, do not edit`];
  if (graph.description !== null) lines.push(`  accDescr: ${mermaidText(graph.description)}`);

  const renderScope = (scope: string | null, indent: string) => {
    const initial = scope === null ? graph.initial : (byId.get(scope)?.initial ?? null);
    if (initial !== null) lines.push(`${indent}[*] --> ${mid(initial)}`);
    const children = graph.states.filter((s) => s.parent === scope);
    children.forEach((child, index) => {
      const id = mid(child.id);
      const label = child.type === 'history' ? 'H' : child.key.replace(/"/g, "'");
      const composite = graph.states.some((s) => s.parent === child.id);
      const described = descriptions && child.description !== null && child.description.trim() !== '';
      // Mermaid titles a state by its first description: a state given only `id : text` shows the text, not its
      // name. So a described leaf is named first (the text goes under the name); a composite may have nothing
      // but its title, so its description becomes a note.
      const named =
        id === child.key && child.type !== 'history' && !(described && !composite)
          ? id
          : `"${label}" as ${id}`;
      if (scope !== null && byId.get(scope)?.type === 'parallel' && index > 0) lines.push(`${indent}--`);
      if (composite) {
        lines.push(`${indent}state ${named} {`);
        renderScope(child.id, `${indent}  `);
        lines.push(`${indent}}`);
      } else if (named !== id) {
        lines.push(`${indent}state ${named}`);
      }
      if (described) {
        const text = mermaidText(child.description!);
        lines.push(composite ? `${indent}note right of ${id} : ${text}` : `${indent}${id} : ${text}`);
      }
    });
    for (const edge of edges.filter((e) => e.scope === scope)) {
      lines.push(
        `${indent}${mid(edge.from)} --> ${mid(edge.to)}${edge.label === '' ? '' : ` : ${edge.label}`}`,
      );
    }
    for (const child of children.filter((s) => s.type === 'final'))
      lines.push(`${indent}${mid(child.id)} --> [*]`);
  };

  renderScope(null, '  ');
  return `${lines.join('\n')}\n`;
}

/**
 * Mermaid `stateDiagram-v2` for any xstate machine: nested states as composites, `[*]` arrows for initial and
 * final states, transitions labelled `EVENT [guard] / effects`.
 *
 * @example
 * toMermaid(transactionMachine);
 * // stateDiagram-v2
 * //   [*] --> pending_receiver
 * //   state pending_receiver {
 * //     [*] --> pending_receiver__preparing …
 */
export function toMermaid(machine: AnyStateMachine, options: MermaidOptions = {}): string {
  return renderMermaid(toJson(machine, options), options);
}
