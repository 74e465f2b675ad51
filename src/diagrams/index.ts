// Public surface of src/diagrams/: diagrams generated from machine definitions, never drawn by hand.
import type { AnyStateMachine } from 'xstate';
import { customerMachine, transactionMachine } from '../../machines/index.ts';

export { toJson, drawnEdges } from './graph.ts';
export { toDot, renderDot } from './dot.ts';
export { toScxml, renderScxml } from './scxml.ts';
export { toMermaid, renderMermaid, transitionLabel, mermaidText } from './mermaid.ts';
export { eventLabel } from './event-label.ts';
export { guardLabel, actionName, effectKind } from './labels.ts';

export type { MachineGraph, GraphState, GraphTransition, GraphOptions } from './graph.ts';
export type { MermaidOptions } from './mermaid.ts';

/** Every machine the project draws, by name (`mooring machines export` and the viewer read this). */
export const MACHINES: Readonly<Record<string, AnyStateMachine>> = Object.freeze({
  transaction: transactionMachine,
  customer: customerMachine,
});
