// A viewer machine as an ELK graph, and its layout. Pure: runs in Node (tests) and in the browser (the viewer).
import elkBundled from 'elkjs/lib/elk.bundled.js';
import type {
  ELK as ElkApi,
  ELKConstructorArguments,
  ElkExtendedEdge,
  ElkLabel,
  ElkNode,
  LayoutOptions,
} from 'elkjs/lib/elk-api.js';
import type { ViewerEdge, ViewerMachine } from '../api.ts';
import type { GraphState } from '../../diagrams/graph.ts';
import {
  ENTRY_PREFIX,
  GEOMETRY,
  ROUTE_PREFIX,
  START_EDGE_PREFIX,
  START_PREFIX,
  type Measure,
} from './geometry.ts';
import { edgeLabelLines, headerSize, labelSize, lineText } from './labels.ts';
import { labelId, routesOf, sharedEntries } from './routes.ts';

const LAYOUT: LayoutOptions = {
  'elk.algorithm': 'layered',
  'elk.direction': 'DOWN',
  'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
  // Shapes relative to their parent (ELK's default), every edge and edge label in the root's coordinates.
  'elk.json.shapeCoords': 'PARENT',
  'elk.json.edgeCoords': 'ROOT',
  'elk.edgeRouting': 'ORTHOGONAL',
  'elk.edgeLabels.inline': 'false',
  'elk.layered.edgeLabels.sideSelection': 'SMART_DOWN',
  // Two states per layer at most: a taller, narrower drawing, which suits a phone held upright and a side panel.
  'elk.layered.layering.strategy': 'COFFMAN_GRAHAM',
  'elk.layered.layering.coffmanGraham.layerBound': '2',
  'elk.layered.considerModelOrder.strategy': 'NONE',
  'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
  'elk.layered.thoroughness': '20',
  'elk.layered.edgeRouting.selfLoopDistribution': 'EQUALLY',
  'elk.layered.edgeRouting.selfLoopOrdering': 'SEQUENCED',
  'elk.layered.mergeEdges': 'false',
  'elk.spacing.nodeNode': '28',
  'elk.layered.spacing.nodeNodeBetweenLayers': '36',
  'elk.spacing.edgeNode': '14',
  'elk.spacing.edgeEdge': '10',
  'elk.layered.spacing.edgeNodeBetweenLayers': '14',
  'elk.layered.spacing.edgeEdgeBetweenLayers': '10',
  'elk.spacing.edgeLabel': '4',
  'elk.spacing.labelLabel': '2',
  'elk.spacing.labelNode': '6',
  'elk.spacing.componentComponent': '36',
  'elk.padding': '[top=16,left=16,bottom=16,right=16]',
};

function startNode(scope: string): ElkNode {
  return { id: `${START_PREFIX}${scope}`, width: GEOMETRY.startSize, height: GEOMETRY.startSize };
}

function startEdge(scope: string, initial: string): ElkExtendedEdge {
  return { id: `${START_EDGE_PREFIX}${scope}`, sources: [`${START_PREFIX}${scope}`], targets: [initial] };
}

function stateNode(state: GraphState, measure: Measure): ElkNode {
  const header = headerSize(state, measure);
  // The header's size rides along as the node's label (ELK keeps it): the SVG centres the header on it.
  const node: ElkNode = { id: state.id, labels: [{ id: `name:${state.id}`, text: state.key, ...header }] };
  if (state.type === 'compound' || state.type === 'parallel') {
    const pad = GEOMETRY.compoundPad;
    const top = Math.ceil(GEOMETRY.padY + header.height + GEOMETRY.headerGap);
    node.children = [];
    node.edges = [];
    node.layoutOptions = {
      'elk.padding': `[top=${top},left=${pad},bottom=${pad},right=${pad}]`,
      'elk.nodeSize.constraints': 'MINIMUM_SIZE',
      'elk.nodeSize.minimum': `(${Math.ceil(header.width + 2 * GEOMETRY.padX)},${top + pad})`,
    };
    if (state.initial !== null) {
      node.children.push(startNode(state.id));
      node.edges.push(startEdge(state.id, state.initial));
    }
  } else {
    const inset = state.type === 'final' ? GEOMETRY.finalInset : 0;
    node.width = Math.ceil(Math.max(GEOMETRY.minStateWidth, header.width + 2 * (GEOMETRY.padX + inset)));
    node.height = Math.ceil(header.height + 2 * (GEOMETRY.padY + inset));
  }
  return node;
}

/**
 * The machine as an ELK graph for the layered algorithm, top to bottom: a node per state (compound states hold
 * their children), a start marker before each initial state, and an edge per route (parallel ViewerEdges share
 * one) with a label per ViewerEdge, sized by `measure`. The routes in `atHead` (default: `sharedEntries`) end on
 * their target's entry port with their labels at the head, one label per distinct text.
 */
export function toElkGraph(
  machine: ViewerMachine,
  measure: Measure,
  atHead: ReadonlySet<string> = sharedEntries(routesOf(machine.edges)),
): ElkNode {
  const nodes = new Map<string, ElkNode>();
  const root: ElkNode = { id: machine.id, layoutOptions: { ...LAYOUT }, children: [], edges: [] };
  if (machine.initial !== null) {
    root.children?.push(startNode(machine.id));
    root.edges?.push(startEdge(machine.id, machine.initial));
  }
  for (const state of machine.states) {
    const node = stateNode(state, measure);
    nodes.set(state.id, node);
    const parent = state.parent === null ? root : nodes.get(state.parent);
    if (parent === undefined) throw new Error(`state ${state.id} comes before its parent ${state.parent}`);
    (parent.children ??= []).push(node);
  }

  const label = (edges: ViewerEdge[], placement: string): ElkLabel => {
    const lines = edgeLabelLines(edges[0] as ViewerEdge);
    return {
      id: labelId(edges.map((e) => e.id)),
      text: lines.map(lineText).join('\n'),
      ...labelSize(lines, measure),
      layoutOptions: { 'elk.edgeLabels.placement': placement },
    };
  };
  // At an entry port, one label per distinct text: the first route to carry it holds it for all.
  const entryLabels = new Map<string, ViewerEdge[]>();
  const routes = routesOf(machine.edges);
  for (const route of routes) {
    if (!nodes.has(route.from) || !nodes.has(route.to)) {
      throw new Error(`edge ${route.edges[0]?.id} joins unknown states: ${route.from} -> ${route.to}`);
    }
    if (!atHead.has(route.id)) continue;
    for (const edge of route.edges) {
      const key = JSON.stringify([route.to, edgeLabelLines(edge).map(lineText)]);
      entryLabels.set(key, [...(entryLabels.get(key) ?? []), edge]);
    }
  }
  const labelled = new Set<string>();
  for (const route of routes) {
    const edge: ElkExtendedEdge = { id: route.id, sources: [route.from], targets: [route.to], labels: [] };
    if (atHead.has(route.id)) {
      const target = nodes.get(route.to) as ElkNode;
      const port = `${ENTRY_PREFIX}${route.to}`;
      if (!(target.ports ?? []).some((p) => p.id === port)) {
        (target.ports ??= []).push({ id: port, width: 1, height: 1 });
      }
      edge.targets = [port];
      for (const e of route.edges) {
        const key = JSON.stringify([route.to, edgeLabelLines(e).map(lineText)]);
        if (labelled.has(key)) continue;
        labelled.add(key);
        edge.labels?.push(label(entryLabels.get(key) ?? [e], 'HEAD'));
      }
    } else {
      edge.labels = route.edges.map((e) => label([e], 'CENTER'));
    }
    root.edges?.push(edge);
  }
  return root;
}

/** The routes ELK drew upwards (against the flow): their target lies above their source. */
export function upwardRoutes(laidOut: ElkNode): Set<string> {
  const up = new Set<string>();
  const visit = (node: ElkNode) => {
    for (const edge of node.edges ?? []) {
      const sections = edge.sections ?? [];
      const first = sections[0];
      const last = sections[sections.length - 1];
      if (edge.id.startsWith(ROUTE_PREFIX) && first && last && last.endPoint.y < first.startPoint.y - 1) {
        up.add(edge.id);
      }
    }
    for (const child of node.children ?? []) visit(child);
  };
  visit(laidOut);
  return up;
}

// Node sees the CommonJS module object (its `default` is the constructor), a bundler the constructor itself (whose
// `default` is itself again): either way `default` is the constructor.
const ELK = ('default' in elkBundled ? elkBundled.default : elkBundled) as unknown as new (
  args?: ELKConstructorArguments,
) => ElkApi;

/**
 * Lays the machine out with ELK (in-process: no web worker), ready for `renderSvg`. Twice when needed: an arrow
 * that runs back up the drawing takes its label to its head and joins its target's entry port, so that the long
 * way round carries no label of its own through the middle of the drawing.
 */
export async function layoutMachine(machine: ViewerMachine, measure: Measure): Promise<ElkNode> {
  const elk = new ELK();
  const shared = sharedEntries(routesOf(machine.edges));
  const first = await elk.layout(toElkGraph(machine, measure, shared));
  const upward = upwardRoutes(first);
  if ([...upward].every((id) => shared.has(id))) return first;
  return elk.layout(toElkGraph(machine, measure, new Set([...shared, ...upward])));
}
