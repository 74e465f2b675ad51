import type { AnyStateMachine } from 'xstate';
import { drawnEdges, toJson, type GraphOptions, type GraphState, type MachineGraph } from './graph.ts';
import { transitionLabel } from './mermaid.ts';

/** A Graphviz DOT string literal. */
function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/**
 * Graphviz DOT for a machine: composite states as clusters (with their own initial point), final states as
 * double circles, edges labelled with the event, the guard in brackets and the effects after `/`.
 */
export function renderDot(graph: MachineGraph): string {
  const lines = [`digraph ${quote(graph.id)} {`, '  compound=true;', '  node [shape=box, style=rounded];'];
  const children = (parent: string | null) => graph.states.filter((s) => s.parent === parent);
  const byId = new Map(graph.states.map((s) => [s.id, s]));
  // An edge to or from a cluster attaches to the cluster's initial child, clipped at the cluster border.
  const anchor = (id: string): string => {
    const state = byId.get(id);
    return state?.initial ? anchor(state.initial) : id;
  };
  const into = (id: string) => (byId.get(id)?.initial ? [`lhead=${quote(`cluster_${id}`)}`] : []);
  const initialPoint = (scope: string | null, initial: string | null, indent: string) => {
    if (initial === null) return;
    const point = quote(`${scope ?? graph.id}.__initial`);
    const clip = into(initial).length > 0 ? ` [${into(initial).join(', ')}]` : '';
    lines.push(
      `${indent}${point} [shape=point, label=""];`,
      `${indent}${point} -> ${quote(anchor(initial))}${clip};`,
    );
  };
  const draw = (state: GraphState, indent: string) => {
    if (state.type === 'compound' || state.type === 'parallel') {
      lines.push(
        `${indent}subgraph ${quote(`cluster_${state.id}`)} {`,
        `${indent}  label=${quote(state.key)};`,
      );
      initialPoint(state.id, state.initial, `${indent}  `);
      for (const child of children(state.id)) draw(child, `${indent}  `);
      lines.push(`${indent}}`);
      return;
    }
    const shape = state.type === 'final' ? ', shape=doublecircle' : '';
    lines.push(`${indent}${quote(state.id)} [label=${quote(state.key)}${shape}];`);
  };
  initialPoint(null, graph.initial, '  ');
  for (const state of children(null)) draw(state, '  ');
  for (const { from, to, transition } of drawnEdges(graph)) {
    const clip = [...(byId.get(from)?.initial ? [`ltail=${quote(`cluster_${from}`)}`] : []), ...into(to)];
    const attributes = [`label=${quote(transitionLabel(transition))}`, ...clip].join(', ');
    lines.push(`  ${quote(anchor(from))} -> ${quote(anchor(to))} [${attributes}];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

export function toDot(machine: AnyStateMachine, options: GraphOptions = {}): string {
  return renderDot(toJson(machine, options));
}
