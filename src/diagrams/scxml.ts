import type { AnyStateMachine } from 'xstate';
import { drawnEdges, toJson, type GraphOptions, type GraphState, type MachineGraph } from './graph.ts';

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** SCXML ids are the state path below the machine, e.g. `pending_receiver.ready`. */
function scxmlId(graph: MachineGraph, id: string): string {
  return id.startsWith(`${graph.id}.`) ? id.slice(graph.id.length + 1) : id;
}

/**
 * W3C SCXML for a machine. Guards become `cond` (the guard's name, as in the machine); recorded effects
 * become `<send>` of an event named after the effect to `#effects` (documentation: the machine records
 * them, the host carries them out); state descriptions become XML comments.
 */
export function renderScxml(graph: MachineGraph): string {
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<scxml xmlns="http://www.w3.org/2005/07/scxml" version="1.0" name="${escapeXml(graph.id)}"` +
      (graph.initial ? ` initial="${escapeXml(scxmlId(graph, graph.initial))}"` : '') +
      '>',
  ];
  if (graph.description) lines.push(`  <!-- ${escapeXml(graph.description)} -->`);
  const edges = drawnEdges(graph);
  const draw = (state: GraphState, indent: string) => {
    const element = state.type === 'final' ? 'final' : state.type === 'parallel' ? 'parallel' : 'state';
    const initial = state.initial ? ` initial="${escapeXml(scxmlId(graph, state.initial))}"` : '';
    lines.push(`${indent}<${element} id="${escapeXml(scxmlId(graph, state.id))}"${initial}>`);
    if (state.description) lines.push(`${indent}  <!-- ${escapeXml(state.description)} -->`);
    if (state.effects.length > 0) {
      lines.push(`${indent}  <onentry>`);
      for (const effect of state.effects)
        lines.push(`${indent}    <send event="${escapeXml(effect)}" target="#effects"/>`);
      lines.push(`${indent}  </onentry>`);
    }
    for (const { to, transition } of edges.filter((e) => e.from === state.id)) {
      const attributes = [
        ...(transition.event ? [`event="${escapeXml(transition.event)}"`] : []),
        ...(transition.guard ? [`cond="${escapeXml(transition.guard)}"`] : []),
        ...(transition.target !== null ? [`target="${escapeXml(scxmlId(graph, to))}"`] : []),
      ].join(' ');
      if (transition.effects.length === 0) {
        lines.push(`${indent}  <transition ${attributes}/>`);
        continue;
      }
      lines.push(`${indent}  <transition ${attributes}>`);
      for (const effect of transition.effects) {
        lines.push(`${indent}    <send event="${escapeXml(effect)}" target="#effects"/>`);
      }
      lines.push(`${indent}  </transition>`);
    }
    for (const child of graph.states.filter((s) => s.parent === state.id)) draw(child, `${indent}  `);
    lines.push(`${indent}</${element}>`);
  };
  for (const state of graph.states.filter((s) => s.parent === null)) draw(state, '  ');
  lines.push('</scxml>');
  return `${lines.join('\n')}\n`;
}

export function toScxml(machine: AnyStateMachine, options: GraphOptions = {}): string {
  return renderScxml(toJson(machine, options));
}
