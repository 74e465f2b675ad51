// A laid-out machine (elk-graph.ts) as SVG markup. Pure: a string out, no DOM, so it runs in Node
// (tests) and in the browser. No inline styles (the page's CSP allows stylesheets only): classes and presentation
// attributes; the viewer's stylesheet colours everything by class.
import type { ElkEdgeSection, ElkExtendedEdge, ElkLabel, ElkNode, ElkPoint } from 'elkjs/lib/elk-api.js';
import type { ViewerEdge, ViewerMachine } from '../api.ts';
import type { GraphState } from '../../diagrams/graph.ts';
import { GEOMETRY, START_EDGE_PREFIX, START_PREFIX } from './geometry.ts';
import { edgeLabelLines, nameLines } from './labels.ts';
import { labelEdgeIds, routesOf } from './routes.ts';

/** The fonts the SVG draws with; a `Measure` for the layout must measure with the same ones. */
export const FONTS = {
  family: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
  /** `lineHeight`: the height a `Measure` gives one line. */
  state: { size: 14, weight: 600, lineHeight: 18 },
  label: { size: 12, weight: 400, lineHeight: 15 },
} as const;

/** Escapes text for XML content and attribute values. */
export function xml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A number for an attribute: at most two decimals. */
function n(value: number): string {
  return String(Math.round(value * 100) / 100);
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The marker id for a machine's arrowheads: unique in a page that holds several diagrams. */
export function arrowId(machine: Pick<ViewerMachine, 'name'>): string {
  return `mooring-arrow-${machine.name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** Every node of the laid-out graph with its box in the root's coordinates (ELK gives shapes relative to parents). */
export function absoluteBoxes(root: ElkNode): Map<string, Box> {
  const boxes = new Map<string, Box>();
  const visit = (node: ElkNode, dx: number, dy: number) => {
    for (const child of node.children ?? []) {
      const x = dx + (child.x ?? 0);
      const y = dy + (child.y ?? 0);
      boxes.set(child.id, { x, y, width: child.width ?? 0, height: child.height ?? 0 });
      visit(child, x, y);
    }
  };
  visit(root, 0, 0);
  return boxes;
}

/** Every edge of the laid-out graph, wherever ELK keeps it. */
function allEdges(node: ElkNode): ElkExtendedEdge[] {
  return [...(node.edges ?? []), ...(node.children ?? []).flatMap(allEdges)];
}

/** A polyline through the points with its corners rounded. */
export function roundedPath(points: ElkPoint[], radius = 6): string {
  const [first, ...rest] = points;
  if (first === undefined) return '';
  let d = `M${n(first.x)},${n(first.y)}`;
  let before = first;
  rest.forEach((here, i) => {
    const after = rest[i + 1];
    const inLength = Math.hypot(here.x - before.x, here.y - before.y);
    const outLength = after === undefined ? 0 : Math.hypot(after.x - here.x, after.y - here.y);
    const r = Math.min(radius, inLength / 2, outLength / 2);
    if (after === undefined || r <= 0.5) {
      d += ` L${n(here.x)},${n(here.y)}`;
    } else {
      const enter = {
        x: here.x - ((here.x - before.x) / inLength) * r,
        y: here.y - ((here.y - before.y) / inLength) * r,
      };
      const leave = {
        x: here.x + ((after.x - here.x) / outLength) * r,
        y: here.y + ((after.y - here.y) / outLength) * r,
      };
      d += ` L${n(enter.x)},${n(enter.y)} Q${n(here.x)},${n(here.y)} ${n(leave.x)},${n(leave.y)}`;
    }
    before = here;
  });
  return d;
}

/** Cubic Bézier curves: ELK's spline routes give the start point, then the control points of each curve. */
export function splinePath(points: ElkPoint[]): string {
  const [first, ...rest] = points;
  if (first === undefined) return '';
  let d = `M${n(first.x)},${n(first.y)}`;
  let i = 0;
  for (; i + 3 <= rest.length; i += 3) {
    const [a, b, c] = rest.slice(i, i + 3) as [ElkPoint, ElkPoint, ElkPoint];
    d += ` C${n(a.x)},${n(a.y)} ${n(b.x)},${n(b.y)} ${n(c.x)},${n(c.y)}`;
  }
  for (const p of rest.slice(i)) d += ` L${n(p.x)},${n(p.y)}`;
  return d;
}

function sectionPoints(section: ElkEdgeSection): ElkPoint[] {
  return [section.startPoint, ...(section.bendPoints ?? []), section.endPoint];
}

/** The edge's route as path data, its sections joined start to end. */
export function edgePath(edge: ElkExtendedEdge, splines = false): string {
  const points: ElkPoint[] = [];
  for (const section of edge.sections ?? []) {
    for (const point of sectionPoints(section)) {
      const last = points[points.length - 1];
      if (last === undefined || last.x !== point.x || last.y !== point.y) points.push(point);
    }
  }
  return splines ? splinePath(points) : roundedPath(points);
}

/** The tooltip of a state: its key, what it is, and what it records on entry. */
function stateTitle(state: GraphState): string {
  const parts = [state.key + (state.type === 'final' ? ' (final)' : '')];
  if (state.description !== null && state.description !== '') parts.push(state.description);
  if (state.effects.length > 0) parts.push(`on entry: ${state.effects.join(', ')}`);
  return parts.join('\n');
}

/** The tooltip of an arrow: the full label (effects included) and its ends. */
function edgeTitle(edge: ViewerEdge, keys: Map<string, string>): string {
  return `${edge.label}\n${keys.get(edge.from) ?? edge.from} → ${keys.get(edge.to) ?? edge.to}`;
}

function font(which: 'state' | 'label'): string {
  return ` font-size="${FONTS[which].size}" font-weight="${FONTS[which].weight}"`;
}

interface Drawing {
  boxes: Map<string, Box>;
  nodes: Map<string, ElkNode>;
  childrenOf: Map<string, GraphState[]>;
}

function renderState(state: GraphState, drawing: Drawing): string {
  const box = drawing.boxes.get(state.id);
  if (box === undefined) return '';
  const children = drawing.childrenOf.get(state.id) ?? [];
  const compound = children.length > 0 || state.type === 'compound' || state.type === 'parallel';
  const final = state.type === 'final';
  const classes = ['state', compound ? 'compound' : 'leaf', ...(final ? ['final'] : [])].join(' ');
  const inset = final ? GEOMETRY.finalInset : 0;
  const headerHeight = drawing.nodes.get(state.id)?.labels?.[0]?.height ?? GEOMETRY.badgeHeight;
  const centreY = compound ? box.y + GEOMETRY.padY + headerHeight / 2 : box.y + box.height / 2;
  const badgeX = box.x + box.width - GEOMETRY.padX - inset - GEOMETRY.badgeWidth;
  const nameX = box.x + GEOMETRY.padX + inset;
  const names = nameLines(state.key);
  const nameSpans = names.map((line, i) => {
    const y = centreY + (i - (names.length - 1) / 2) * FONTS.state.lineHeight;
    return `<tspan x="${n(nameX)}" y="${n(y)}">${xml(line)}</tspan>`;
  });
  const parts = [
    `<g class="${classes}" data-state="${xml(state.id)}" data-type="${xml(state.type)}">`,
    `<title>${xml(stateTitle(state))}</title>`,
    `<rect class="box" x="${n(box.x)}" y="${n(box.y)}" width="${n(box.width)}" height="${n(box.height)}" rx="${GEOMETRY.corner}"/>`,
  ];
  if (final) {
    parts.push(
      `<rect class="inner" x="${n(box.x + inset)}" y="${n(box.y + inset)}" width="${n(box.width - 2 * inset)}" height="${n(box.height - 2 * inset)}" rx="${GEOMETRY.corner - inset / 2}"/>`,
    );
  }
  if (compound) {
    const ruleY = box.y + GEOMETRY.padY + headerHeight + GEOMETRY.headerGap / 2;
    parts.push(
      `<line class="rule" x1="${n(box.x)}" y1="${n(ruleY)}" x2="${n(box.x + box.width)}" y2="${n(ruleY)}"/>`,
    );
  }
  parts.push(
    `<text class="name"${font('state')} dominant-baseline="central">${nameSpans.join('')}</text>`,
    `<rect class="badge" x="${n(badgeX)}" y="${n(centreY - GEOMETRY.badgeHeight / 2)}" width="${GEOMETRY.badgeWidth}" height="${GEOMETRY.badgeHeight}" rx="${GEOMETRY.badgeHeight / 2}"/>`,
    `<text class="count" data-count-for="${xml(state.id)}" x="${n(badgeX + GEOMETRY.badgeWidth / 2)}" y="${n(centreY)}"${font('label')} text-anchor="middle" dominant-baseline="central"></text>`,
    ...children.map((child) => renderState(child, drawing)),
    '</g>',
  );
  return parts.join('');
}

function renderLabel(edge: ViewerEdge, label: ElkLabel | undefined): string {
  if (label === undefined || label.x === undefined || label.y === undefined) return '';
  const { x, y } = label;
  const lines = edgeLabelLines(edge);
  const width = label.width ?? 0;
  const height = label.height ?? 0;
  const pad = GEOMETRY.labelPad;
  const lineHeight = (height - 2 * pad - GEOMETRY.labelLineGap * (lines.length - 1)) / lines.length;
  const cx = x + width / 2;
  const spans = lines.map((line, i) => {
    const lineY = y + pad + i * (lineHeight + GEOMETRY.labelLineGap) + lineHeight / 2;
    const parts = [
      ...(line.event === '' ? [] : [`<tspan class="event">${xml(line.event)}</tspan>`]),
      ...(line.guard === '' ? [] : [`<tspan class="guard">${xml(line.guard)}</tspan>`]),
    ];
    return `<tspan x="${n(cx)}" y="${n(lineY)}">${parts.join(' ')}</tspan>`;
  });
  return (
    `<rect class="label-bg" x="${n(x)}" y="${n(y)}" width="${n(width)}" height="${n(height)}" rx="3"/>` +
    `<text class="label"${font('label')} text-anchor="middle" dominant-baseline="central">${spans.join('')}</text>`
  );
}

/**
 * SVG markup for a machine laid out by `layoutMachine`:
 * - a `g.state[data-state]` per state (a compound state's group holds its children's), with its box, its name
 *   (`text.name`), a count badge (`text.count[data-count-for]`, empty until counts arrive) and its description as
 *   the tooltip; `.final` states have a double border, `.compound` ones a header;
 * - a `g.edge[data-edge][data-event][data-from][data-to]` per ViewerEdge with its `path.line` (an arrowhead marker
 *   at its end) and its short `text.label`, the full label as the tooltip; twins that share a route draw their
 *   line as `path.line.twin` (shown only when highlighted);
 * - a `g.start` dot with an arrow to each initial state.
 */
export function renderSvg(machine: ViewerMachine, laidOut: ElkNode): string {
  const nodes = new Map<string, ElkNode>();
  const collect = (node: ElkNode) => {
    for (const child of node.children ?? []) {
      nodes.set(child.id, child);
      collect(child);
    }
  };
  collect(laidOut);
  const childrenOf = new Map<string, GraphState[]>();
  for (const state of machine.states) {
    const key = state.parent ?? '';
    childrenOf.set(key, [...(childrenOf.get(key) ?? []), state]);
  }
  const drawing: Drawing = { boxes: absoluteBoxes(laidOut), nodes, childrenOf };
  const laidEdges = new Map(allEdges(laidOut).map((e) => [e.id, e]));
  const labels = new Map<string, ElkLabel>();
  for (const edge of laidEdges.values()) {
    for (const label of edge.labels ?? []) {
      for (const id of labelEdgeIds(label.id)) labels.set(id, label);
    }
  }
  const keys = new Map(machine.states.map((s) => [s.id, s.key]));
  const arrow = arrowId(machine);
  const splines = laidOut.layoutOptions?.['elk.edgeRouting'] === 'SPLINES';
  const aria = `State machine ${machine.name}: ${machine.states.length} states, ${machine.edges.length} transitions`;

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="machine-diagram${machine.counted ? ' counted' : ''}" data-machine="${xml(machine.name)}" viewBox="0 0 ${n(laidOut.width ?? 0)} ${n(laidOut.height ?? 0)}" role="img" aria-label="${xml(aria)}" font-family="${xml(FONTS.family)}">`,
  ];
  if (machine.description !== null && machine.description !== '') {
    out.push(`<desc>${xml(machine.description)}</desc>`);
  }
  out.push(
    `<defs><marker id="${arrow}" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto"><path class="arrowhead" d="M0,0.5 L10,5 L0,9.5 z"/></marker></defs>`,
  );

  out.push('<g class="states">', ...(childrenOf.get('') ?? []).map((s) => renderState(s, drawing)), '</g>');

  out.push('<g class="starts">');
  for (const [id, box] of drawing.boxes) {
    if (!id.startsWith(START_PREFIX)) continue;
    const scope = id.slice(START_PREFIX.length);
    const edge = laidEdges.get(`${START_EDGE_PREFIX}${scope}`);
    const r = box.width / 2;
    out.push(
      `<g class="start" data-start-for="${xml(scope)}">`,
      `<circle cx="${n(box.x + r)}" cy="${n(box.y + r)}" r="${n(r / 2 + 1)}"/>`,
      edge === undefined ? '' : `<path class="line" d="${edgePath(edge)}" marker-end="url(#${arrow})"/>`,
      '</g>',
    );
  }
  out.push('</g>');

  out.push('<g class="edges">');
  for (const route of routesOf(machine.edges)) {
    const laid = laidEdges.get(route.id);
    const d = laid === undefined ? '' : edgePath(laid, splines);
    route.edges.forEach((edge, i) => {
      const classes = [
        'edge',
        ...(edge.from === edge.to ? ['self'] : []),
        ...(edge.event === '' ? ['eventless'] : []),
      ];
      out.push(
        `<g class="${classes.join(' ')}" data-edge="${xml(edge.id)}" data-event="${xml(edge.event)}" data-from="${xml(edge.from)}" data-to="${xml(edge.to)}">`,
        `<title>${xml(edgeTitle(edge, keys))}</title>`,
        `<path class="${i === 0 ? 'line' : 'line twin'}" d="${d}" marker-end="url(#${arrow})"/>`,
        renderLabel(edge, labels.get(edge.id)),
        '</g>',
      );
    });
  }
  out.push('</g></svg>');
  return out.join('');
}
