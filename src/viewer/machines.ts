// The machines the viewer draws, as the JSON contract (src/viewer/api.ts) carries them. Server side only: it reads
// the machine definitions; the browser receives the result from GET machines.
import { MACHINES, drawnEdges, toJson, transitionLabel } from '../diagrams/index.ts';
import type { ViewerEdge, ViewerMachine } from './api.ts';

/** One machine for the viewer: its states, and one edge per drawn arrow (edge id = its index in `drawnEdges`). */
export function viewerMachine(name: string): ViewerMachine {
  const machine = MACHINES[name];
  if (machine === undefined) throw new Error(`unknown machine: ${name}`);
  const graph = toJson(machine);
  const edges: ViewerEdge[] = drawnEdges(graph).map(({ from, to, transition: t }, i) => ({
    id: String(i),
    from,
    to,
    event: t.event,
    guard: t.guard,
    effects: t.effects,
    transition: t.key,
    label: transitionLabel(t),
  }));
  return {
    name,
    id: graph.id,
    description: graph.description,
    initial: graph.initial,
    states: graph.states,
    edges,
    counted: name === 'transaction',
  };
}

/** Every machine the project draws, in `MACHINES` order (the transaction machine first). */
export function viewerMachines(): ViewerMachine[] {
  return Object.keys(MACHINES).map(viewerMachine);
}

/** The machine whose states the counts are of. */
export const COUNTED_MACHINE = 'transaction';

let counted: ViewerMachine | undefined;
/** The counted machine as the viewer draws it (built once: it depends only on the machine definition). */
export function countedMachine(): ViewerMachine {
  counted ??= viewerMachine(COUNTED_MACHINE);
  return counted;
}
