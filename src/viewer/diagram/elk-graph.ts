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
import { eventLabel } from '../../diagrams/event-label.ts';

/** The size `text` takes when drawn as a state's name (`state`) or an arrow's label (`label`), in SVG units. */
export type Measure = (text: string, kind: 'state' | 'label') => { width: number; height: number };

/** Shapes and spacing shared by the graph (sizes) and the SVG (drawing). */
export const GEOMETRY = {
  /** Padding inside a leaf state's box. */
  padX: 14,
  padY: 10,
  /** A leaf state is at least this wide, so that the boxes read as a set. */
  minStateWidth: 132,
  /** Gap between a state's name and its count badge. */
  badgeGap: 10,
  /** The count badge (room for five digits at the label size). */
  badgeWidth: 44,
  badgeHeight: 20,
  /** Inset of a final state's inner border. */
  finalInset: 4,
  /** A compound state: the gap under its header, and the padding around its children. */
  headerGap: 12,
  compoundPad: 18,
  /** The start marker (a filled dot pointing at the initial state). */
  startSize: 14,
  /** The gap between the lines of an arrow's label. */
  labelLineGap: 2,
  /** Space between a label's text and the edge of its background. */
  labelPad: 2,
  /** An event name longer than this breaks after an underscore. */
  eventWrap: 20,
  /** A guard wraps at spaces beyond this many characters. */
  guardWrap: 22,
  /** An event and its guard share a line when together no longer than this. */
  lineWrap: 28,
  /** A state's name longer than this breaks after an underscore near its middle. */
  nameWrap: 20,
  corner: 8,
} as const;

/** Prefix of the id of a start marker node; the id continues with the state (or machine) whose initial it marks. */
export const START_PREFIX = 'start:';
/** Prefix of the id of the arrow from a start marker to the initial state. */
export const START_EDGE_PREFIX = 'start-edge:';
/** Prefix of the id of the ELK edge that routes a group of parallel ViewerEdges; the first one's id follows. */
export const ROUTE_PREFIX = 'route:';
/** Prefix of the id of an ELK label; the (URI-encoded, space-separated) ids of the ViewerEdges it names follow. */
export const LABEL_PREFIX = 'label:';
/** Prefix of the id of a state's entry port, where the arrows whose labels sit at their head meet. */
export const ENTRY_PREFIX = 'entry:';

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

/** Splits text into lines of at most `width` characters at spaces (a longer word keeps a line to itself). */
function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    const last = lines.length - 1;
    if (last >= 0 && (lines[last] as string).length + 1 + word.length <= width) {
      lines[last] = `${lines[last]} ${word}`;
    } else {
      lines.push(word);
    }
  }
  return lines;
}

/** Breaks a long event name after underscores into lines of at most `width` characters where it can. */
function wrapName(name: string, width: number): string[] {
  if (name.length <= width) return [name];
  const lines: string[] = [];
  for (const part of name.split(/(?<=_)/)) {
    const last = lines.length - 1;
    if (last >= 0 && (lines[last] as string).length + part.length <= width) {
      lines[last] = `${lines[last]}${part}`;
    } else {
      lines.push(part);
    }
  }
  return lines;
}

/** One line of an arrow's label: part of the event's name, part of the guard (in brackets), or both. */
export interface LabelLine {
  event: string;
  guard: string;
}

/** A label line as plain text. */
export function lineText(line: LabelLine): string {
  return [line.event, line.guard].filter((part) => part !== '').join(' ');
}

/**
 * The short text on an arrow, line by line: the event (a long name broken after an underscore), then its guard in
 * brackets (wrapped at spaces); both on one line when short. Effects are left to the arrow's tooltip.
 */
export function edgeLabelLines(edge: Pick<ViewerEdge, 'event' | 'guard'>): LabelLine[] {
  const event = eventLabel(edge.event);
  const guard = edge.guard === null || edge.guard.trim() === '' ? '' : `[${edge.guard.trim()}]`;
  if (guard === '' || event.length + 1 + guard.length <= GEOMETRY.lineWrap) {
    return [{ event, guard }];
  }
  return [
    ...wrapName(event, GEOMETRY.eventWrap).map((part) => ({ event: part, guard: '' })),
    ...wrapWords(guard, GEOMETRY.guardWrap).map((part) => ({ event: '', guard: part })),
  ];
}

/** The size of a block of label lines. */
export function labelSize(lines: LabelLine[], measure: Measure): { width: number; height: number } {
  const sizes = lines.map((line) => measure(lineText(line), 'label'));
  const width = Math.max(0, ...sizes.map((s) => s.width));
  const height = sizes.reduce((sum, s) => sum + s.height, 0) + GEOMETRY.labelLineGap * (lines.length - 1);
  return {
    width: Math.ceil(width + 2 * GEOMETRY.labelPad),
    height: Math.ceil(height + 2 * GEOMETRY.labelPad),
  };
}

/**
 * A state's name as drawn, one string per line: a long name breaks after the underscore (or hyphen, dot or space)
 * nearest its middle, e.g. `pending_transaction_` / `info_update`. The lines joined are the name again.
 */
export function nameLines(key: string): string[] {
  if (key.length <= GEOMETRY.nameWrap) return [key];
  const middle = key.length / 2;
  let best = -1;
  for (let i = 1; i < key.length - 1; i++) {
    if (!/[_\-. ]/.test(key[i] as string)) continue;
    if (best < 0 || Math.abs(i + 1 - middle) < Math.abs(best + 1 - middle)) best = i;
  }
  return best < 0 ? [key] : [key.slice(0, best + 1), key.slice(best + 1)];
}

/** The size of a state's header: its name (all lines) and the count badge side by side. */
export function headerSize(
  state: Pick<GraphState, 'key'>,
  measure: Measure,
): { width: number; height: number } {
  const sizes = nameLines(state.key).map((line) => measure(line, 'state'));
  const name = {
    width: Math.max(0, ...sizes.map((s) => s.width)),
    height: sizes.reduce((sum, s) => sum + s.height, 0),
  };
  return {
    width: Math.ceil(name.width + GEOMETRY.badgeGap + GEOMETRY.badgeWidth),
    height: Math.ceil(Math.max(name.height, GEOMETRY.badgeHeight)),
  };
}

/** ViewerEdges that join the same two states in the same direction: ELK routes them as one arrow. */
export interface Route {
  /** `route:` and the first edge's id. */
  id: string;
  from: string;
  to: string;
  /** In machine order; the first draws the arrow, the others (twins) follow the same path. */
  edges: ViewerEdge[];
}

/**
 * The machine's edges grouped into routes: twins (guarded variants of one event, a root event beside a local one,
 * every self-loop of a state) share one arrow and stack their labels, in machine order.
 */
export function routesOf(edges: ViewerEdge[]): Route[] {
  const routes = new Map<string, Route>();
  for (const edge of edges) {
    const key = JSON.stringify([edge.from, edge.to]);
    const route = routes.get(key);
    if (route === undefined) {
      routes.set(key, { id: `${ROUTE_PREFIX}${edge.id}`, from: edge.from, to: edge.to, edges: [edge] });
    } else {
      route.edges.push(edge);
    }
  }
  return [...routes.values()];
}

/**
 * The routes whose labels go at their head, on the target's entry port: those that share an event (and guard) and
 * target with a route from another state (a root event such as `ERROR`, taken in every state). They meet in one
 * arrowhead under one label instead of crossing the drawing side by side, each repeating the same text.
 */
export function sharedEntries(routes: Route[]): Set<string> {
  const sources = new Map<string, Set<string>>();
  const key = (edge: ViewerEdge) => JSON.stringify([edge.event, edge.guard, edge.to]);
  for (const route of routes) {
    if (route.from === route.to) continue;
    for (const edge of route.edges)
      sources.set(key(edge), (sources.get(key(edge)) ?? new Set()).add(route.from));
  }
  return new Set(
    routes
      .filter((r) => r.from !== r.to && r.edges.some((edge) => (sources.get(key(edge))?.size ?? 0) > 1))
      .map((r) => r.id),
  );
}

/** The id of an ELK label naming the given ViewerEdges. */
export function labelId(edgeIds: string[]): string {
  return `${LABEL_PREFIX}${edgeIds.map(encodeURIComponent).join(' ')}`;
}

/** The ViewerEdge ids an ELK label names ([] for a label that is not an arrow's). */
export function labelEdgeIds(id: string | undefined): string[] {
  if (id === undefined || !id.startsWith(LABEL_PREFIX)) return [];
  return id.slice(LABEL_PREFIX.length).split(' ').map(decodeURIComponent);
}

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
