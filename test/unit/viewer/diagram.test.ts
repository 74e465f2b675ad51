import { beforeAll, describe, expect, it } from 'vitest';
import type { ElkNode } from 'elkjs/lib/elk-api.js';
import { MACHINES, drawnEdges, toJson, transitionLabel } from '../../../src/diagrams/index.ts';
import type { ViewerMachine } from '../../../src/viewer/api.ts';
import { layoutMachine, toElkGraph } from '../../../src/viewer/diagram/elk-graph.ts';
import type { Measure } from '../../../src/viewer/diagram/geometry.ts';
import { edgeLabelLines, lineText, nameLines } from '../../../src/viewer/diagram/labels.ts';
import { routesOf, sharedEntries } from '../../../src/viewer/diagram/routes.ts';
import { renderSvg, xml } from '../../../src/viewer/diagram/svg.ts';
import { viewerMachine, viewerMachines } from '../../../src/viewer/machines.ts';

/** A stand-in for the browser's canvas: a width per character, wider for capitals and bold names. */
const measure: Measure = (text, kind) => {
  const size = kind === 'state' ? 14 : 12;
  let width = 0;
  for (const c of text) width += (/[A-Z]/.test(c) ? 0.72 : 0.6) * size * (kind === 'state' ? 1.08 : 1);
  return { width, height: kind === 'state' ? 18 : 15 };
};

// ---- a small, strict XML reader: throws on anything that is not well-formed ------------------------------------

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: (XmlElement | string)[];
  parent: XmlElement | null;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(raw: string, where: number): string {
  if (raw.includes('<')) throw new Error(`a raw "<" in text or an attribute at ${where}`);
  return raw.replace(/&([^;\s]*);?/g, (whole, name: string) => {
    if (!whole.endsWith(';')) throw new Error(`an unterminated entity "${whole}" at ${where}`);
    if (name in ENTITIES) return ENTITIES[name] as string;
    const code = /^#x([0-9a-f]+)$/i.exec(name)?.[1] ?? /^#(\d+)$/.exec(name)?.[1];
    if (code === undefined) throw new Error(`an unknown entity "${whole}" at ${where}`);
    return String.fromCodePoint(parseInt(code, name.startsWith('#x') ? 16 : 10));
  });
}

function parseXml(source: string): XmlElement {
  const document: XmlElement = { name: '#document', attrs: {}, children: [], parent: null };
  let current = document;
  let i = 0;
  while (i < source.length) {
    const rest = source.slice(i);
    if (rest.startsWith('</')) {
      const close = /^<\/([A-Za-z][\w:.-]*)\s*>/.exec(rest);
      if (close === null || close[1] !== current.name) {
        throw new Error(`</${close?.[1]}> closes <${current.name}> at ${i}`);
      }
      current = current.parent as XmlElement;
      i += close[0].length;
    } else if (rest.startsWith('<')) {
      const open = /^<([A-Za-z][\w:.-]*)((?:\s+[A-Za-z_:][\w:.-]*="[^"]*")*)\s*(\/?)>/.exec(rest);
      if (open === null) throw new Error(`a malformed tag at ${i}: ${rest.slice(0, 60)}`);
      const element: XmlElement = { name: open[1] as string, attrs: {}, children: [], parent: current };
      for (const [, name, value] of (open[2] as string).matchAll(/([A-Za-z_:][\w:.-]*)="([^"]*)"/g)) {
        if (name! in element.attrs) throw new Error(`a repeated attribute ${name} at ${i}`);
        element.attrs[name!] = decode(value!, i);
      }
      current.children.push(element);
      if (open[3] !== '/') current = element;
      i += open[0].length;
    } else {
      const end = source.indexOf('<', i);
      const raw = source.slice(i, end < 0 ? undefined : end);
      current.children.push(decode(raw, i));
      i += raw.length;
    }
  }
  if (current !== document) throw new Error(`<${current.name}> is never closed`);
  const roots = document.children.filter((c): c is XmlElement => typeof c !== 'string');
  if (roots.length !== 1) throw new Error(`${roots.length} root elements`);
  return roots[0] as XmlElement;
}

function elements(root: XmlElement): XmlElement[] {
  return [root, ...root.children.flatMap((c) => (typeof c === 'string' ? [] : elements(c)))];
}

function textOf(element: XmlElement): string {
  return element.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');
}

function hasClass(element: XmlElement, name: string): boolean {
  return (element.attrs.class ?? '').split(/\s+/).includes(name);
}

function child(element: XmlElement, name: string, className?: string): XmlElement | undefined {
  return element.children.find(
    (c): c is XmlElement =>
      typeof c !== 'string' && c.name === name && (!className || hasClass(c, className)),
  );
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

function boxOf(rect: XmlElement | undefined): Box {
  if (rect === undefined) throw new Error('no rect');
  const [x, y, width, height] = ['x', 'y', 'width', 'height'].map((a) => Number(rect.attrs[a]));
  return { x: x!, y: y!, width: width!, height: height! };
}

function overlap(a: Box, b: Box, margin = 0): boolean {
  return (
    a.x < b.x + b.width - margin &&
    b.x < a.x + a.width - margin &&
    a.y < b.y + b.height - margin &&
    b.y < a.y + a.height - margin
  );
}

function inside(inner: Box, outer: Box): boolean {
  return (
    inner.x >= outer.x &&
    inner.y >= outer.y &&
    inner.x + inner.width <= outer.x + outer.width &&
    inner.y + inner.height <= outer.y + outer.height
  );
}

function pathPoints(d: string): { x: number; y: number }[] {
  const numbers = [...d.matchAll(/-?\d+(?:\.\d+)?/g)].map((m) => Number(m[0]));
  const points: { x: number; y: number }[] = [];
  for (let i = 0; i + 1 < numbers.length; i += 2) points.push({ x: numbers[i]!, y: numbers[i + 1]! });
  return points;
}

/** Distance from a point to a box's outline (0 on it). */
function distanceToOutline(p: { x: number; y: number }, box: Box): number {
  const dx = Math.max(box.x - p.x, 0, p.x - (box.x + box.width));
  const dy = Math.max(box.y - p.y, 0, p.y - (box.y + box.height));
  if (dx > 0 || dy > 0) return Math.hypot(dx, dy);
  return Math.min(p.x - box.x, box.x + box.width - p.x, p.y - box.y, box.y + box.height - p.y);
}

// ---- the machines, laid out as the browser does --------------------------------------------------------------

describe('viewerMachines', () => {
  it('describes every machine the project draws, edge ids being the index of each drawn edge', () => {
    const machines = viewerMachines();
    expect(machines.map((m) => m.name)).toEqual(Object.keys(MACHINES));
    expect(machines[0]?.name).toBe('transaction');
    for (const machine of machines) {
      const graph = toJson(MACHINES[machine.name]!);
      expect(machine.counted).toBe(machine.name === 'transaction');
      expect(machine.id).toBe(graph.id);
      expect(machine.initial).toBe(graph.initial);
      expect(machine.states).toEqual(graph.states);
      expect(machine.edges).toEqual(
        drawnEdges(graph).map(({ from, to, transition: t }, i) => ({
          id: String(i),
          from,
          to,
          event: t.event,
          guard: t.guard,
          effects: t.effects,
          transition: t.key,
          label: transitionLabel(t),
        })),
      );
    }
    expect(() => viewerMachine('no-such-machine')).toThrow(/unknown machine/);
  });
});

describe.each(viewerMachines().map((m) => [m.name, m] as const))('the %s machine drawn', (_name, machine) => {
  let laidOut: ElkNode;
  let svg: string;
  let root: XmlElement;
  let all: XmlElement[];
  const states = new Map<string, XmlElement>();
  const boxes = new Map<string, Box>();

  beforeAll(async () => {
    laidOut = await layoutMachine(machine, measure);
    svg = renderSvg(machine, laidOut);
    root = parseXml(svg);
    all = elements(root);
    for (const g of all.filter((e) => e.attrs['data-state'] !== undefined)) {
      states.set(g.attrs['data-state']!, g);
      boxes.set(g.attrs['data-state']!, boxOf(child(g, 'rect', 'box')));
    }
  });

  it('is one well-formed <svg> for the machine, scaled by CSS (a viewBox, no fixed size), with a name', () => {
    expect(root.name).toBe('svg');
    expect(root.attrs['data-machine']).toBe(machine.name);
    expect(root.attrs.role).toBe('img');
    expect(root.attrs['aria-label']).toMatch(new RegExp(machine.name));
    expect(root.attrs.viewBox).toMatch(/^0 0 [\d.]+ [\d.]+$/);
    expect(root.attrs.width).toBeUndefined();
    expect(root.attrs.height).toBeUndefined();
    expect(hasClass(root, 'counted')).toBe(machine.counted);
  });

  it('has no inline style anywhere (the page allows stylesheets only)', () => {
    expect(svg).not.toMatch(/\sstyle=/i);
    expect(all.filter((e) => 'style' in e.attrs || e.name === 'style')).toEqual([]);
  });

  it('draws every state exactly once, with its name and a count; compound states hold their children', () => {
    const drawn = all.filter((e) => e.attrs['data-state'] !== undefined).map((e) => e.attrs['data-state']);
    expect([...drawn].sort()).toEqual(machine.states.map((s) => s.id).sort());
    for (const state of machine.states) {
      const g = states.get(state.id)!;
      expect(g.name).toBe('g');
      expect(hasClass(g, 'state'), state.id).toBe(true);
      expect(textOf(child(g, 'text', 'name')!), state.id).toBe(state.key);
      const count = child(g, 'text', 'count');
      expect(count?.attrs['data-count-for'], state.id).toBe(state.id);
      expect(textOf(count!)).toMatch(/^0?$/);
      expect(hasClass(g, 'final'), state.id).toBe(state.type === 'final');
      if (state.type === 'final') expect(child(g, 'rect', 'inner'), state.id).toBeDefined();
      if (state.parent !== null) expect(g.parent, state.id).toBe(states.get(state.parent));
      expect(textOf(child(g, 'title')!), state.id).toContain(state.description ?? state.key);
    }
    const counts = all
      .filter((e) => e.attrs['data-count-for'] !== undefined)
      .map((e) => e.attrs['data-count-for']);
    expect(new Set(counts).size).toBe(counts.length);
  });

  it('draws every edge exactly once with an arrowhead, its short label, and the full label as its tooltip', () => {
    const drawn = all.filter((e) => e.attrs['data-edge'] !== undefined);
    expect(drawn.map((e) => e.attrs['data-edge']).sort()).toEqual(machine.edges.map((e) => e.id).sort());
    const markers = new Set(all.filter((e) => e.name === 'marker').map((e) => e.attrs.id));
    for (const edge of machine.edges) {
      const g = drawn.find((e) => e.attrs['data-edge'] === edge.id)!;
      expect(hasClass(g, 'edge')).toBe(true);
      expect(g.attrs['data-event']).toBe(edge.event);
      expect(g.attrs['data-from']).toBe(edge.from);
      expect(g.attrs['data-to']).toBe(edge.to);
      const path = child(g, 'path', 'line')!;
      expect(pathPoints(path.attrs.d ?? '').length, edge.id).toBeGreaterThanOrEqual(2);
      expect(markers.has(/^url\(#(.+)\)$/.exec(path.attrs['marker-end'] ?? '')?.[1])).toBe(true);
      const label = textOf(child(g, 'text', 'label')!);
      expect(label.replace(/\s+/g, ''), edge.id).toContain(
        edgeLabelLines(edge).map(lineText).join('').replace(/\s+/g, ''),
      );
      expect(label).toContain(edge.event === '' ? 'always' : edge.event.slice(0, 8));
      for (const effect of edge.effects) expect(label).not.toContain(effect);
      expect(textOf(child(g, 'title')!)).toContain(edge.label);
    }
  });

  it('marks the initial states with a start dot pointing at them', () => {
    const starts = all.filter((e) => hasClass(e, 'start')).map((e) => e.attrs['data-start-for']);
    const scopes = [machine.id, ...machine.states.filter((s) => s.initial !== null).map((s) => s.id)];
    expect(starts.sort()).toEqual(scopes.sort());
  });

  it('keeps sibling states apart and children inside their compound state', () => {
    const parents = new Set(machine.states.map((s) => s.parent));
    for (const parent of parents) {
      const siblings = machine.states.filter((s) => s.parent === parent);
      for (const [i, a] of siblings.entries()) {
        for (const b of siblings.slice(i + 1)) {
          expect(overlap(boxes.get(a.id)!, boxes.get(b.id)!), `${a.id} / ${b.id}`).toBe(false);
        }
        if (parent !== null) expect(inside(boxes.get(a.id)!, boxes.get(parent)!), a.id).toBe(true);
      }
    }
  });

  it('keeps every label off the states, and every arrow between the outlines of its two states', () => {
    const leaves = machine.states.filter((s) => s.type !== 'compound' && s.type !== 'parallel');
    for (const bg of all.filter((e) => hasClass(e, 'label-bg'))) {
      for (const leaf of leaves) {
        expect(overlap(boxOf(bg), boxes.get(leaf.id)!, 0.5), `a label over ${leaf.id}`).toBe(false);
      }
    }
    for (const edge of machine.edges) {
      const g = all.find((e) => e.attrs['data-edge'] === edge.id)!;
      const points = pathPoints(child(g, 'path', 'line')!.attrs.d ?? '');
      expect(
        distanceToOutline(points[0]!, boxes.get(edge.from)!),
        `${edge.id} starts on ${edge.from}`,
      ).toBeLessThan(2);
      expect(
        distanceToOutline(points.at(-1)!, boxes.get(edge.to)!),
        `${edge.id} ends on ${edge.to}`,
      ).toBeLessThan(2);
    }
  });

  it('fits everything in its viewBox', () => {
    const [, , width, height] = (root.attrs.viewBox ?? '').split(' ').map(Number);
    const frame = { x: 0, y: 0, width: width!, height: height! };
    for (const rect of all.filter((e) => e.name === 'rect' && e.attrs.x !== undefined)) {
      expect(inside(boxOf(rect), frame), JSON.stringify(rect.attrs)).toBe(true);
    }
    for (const path of all.filter((e) => e.name === 'path' && hasClass(e, 'line'))) {
      for (const p of pathPoints(path.attrs.d ?? '')) {
        expect(inside({ ...p, width: 0, height: 0 }, frame), path.attrs.d).toBe(true);
      }
    }
  });

  it('lays out the same way every time', async () => {
    expect(renderSvg(machine, await layoutMachine(machine, measure))).toBe(svg);
  });
});

describe('toElkGraph', () => {
  const machine = viewerMachine('transaction');
  const graph = toElkGraph(machine, measure);

  it('asks ELK for a layered layout, top down, compound states laid out with their children', () => {
    expect(graph.layoutOptions).toMatchObject({
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
    });
    const compound = graph.children?.find((c) => c.id === 'transaction.pending_receiver');
    expect(compound?.children?.map((c) => c.id)).toEqual(
      expect.arrayContaining([
        'transaction.pending_receiver.preparing',
        'transaction.pending_receiver.ready',
        'transaction.pending_receiver.paying_out',
      ]),
    );
    expect(compound?.width).toBeUndefined(); // sized by ELK around its children
  });

  it('routes parallel edges as one arrow with a label each, and labels a root event once where it arrives', () => {
    const routes = routesOf(machine.edges);
    expect(routes.flatMap((r) => r.edges).length).toBe(machine.edges.length);
    const twins = routes.find(
      (r) => r.from === 'transaction.pending_sender' && r.to === 'transaction.pending_receiver.ready',
    );
    expect(twins?.edges.map((e) => e.guard)).toEqual([
      'paidBeforeQuoteExpired and inTransactionAsset and paidExactly',
      'paidBeforeQuoteExpired and inTransactionAsset and overpaid',
    ]);
    const errorRoutes = routes.filter((r) => r.edges.some((e) => e.event === 'ERROR') && r.from !== r.to);
    expect(errorRoutes.length).toBeGreaterThan(3);
    expect(errorRoutes.every((r) => sharedEntries(routes).has(r.id))).toBe(true);
    const errorLabels = (graph.edges ?? [])
      .flatMap((e) => e.labels ?? [])
      .filter((l) => l.text === 'ERROR' && l.layoutOptions?.['elk.edgeLabels.placement'] === 'HEAD');
    expect(errorLabels).toHaveLength(1);
  });

  it('rejects an edge to a state the machine does not have', () => {
    const broken = { ...machine, edges: [{ ...machine.edges[0]!, to: 'transaction.nowhere' }] };
    expect(() => toElkGraph(broken, measure)).toThrow(/unknown states/);
  });
});

describe('labels and names', () => {
  it('puts the event and its guard on the arrow, breaking long ones onto lines', () => {
    expect(edgeLabelLines({ event: 'ERROR', guard: null }).map(lineText)).toEqual(['ERROR']);
    expect(edgeLabelLines({ event: 'EXPIRE', guard: 'deadlinePassed' }).map(lineText)).toEqual([
      'EXPIRE [deadlinePassed]',
    ]);
    expect(edgeLabelLines({ event: '', guard: 'complete' }).map(lineText)).toEqual(['always [complete]']);
    const long = edgeLabelLines({ event: 'TRANSACTION_INFO_UPDATED', guard: 'providesRequiredFields' });
    expect(long.map(lineText)).toEqual(['TRANSACTION_INFO_', 'UPDATED', '[providesRequiredFields]']);
    expect(nameLines('pending_transaction_info_update')).toEqual(['pending_transaction_', 'info_update']);
    expect(nameLines('pending_sender')).toEqual(['pending_sender']);
  });
});

describe('escaping', () => {
  const nasty = '<b>"A & B"</b> \'quoted\'';
  const machine: ViewerMachine = {
    name: 'esc<ape>"&',
    id: 'm',
    description: `A machine ${nasty}`,
    initial: 'm.a',
    states: [
      {
        id: 'm.a',
        key: 'a<&>"',
        parent: null,
        type: 'atomic',
        description: nasty,
        initial: null,
        effects: [],
      },
      {
        id: 'm."b"&',
        key: 'b',
        parent: null,
        type: 'final',
        description: null,
        initial: null,
        effects: ['x<y'],
      },
    ],
    edges: [
      {
        id: '0',
        from: 'm.a',
        to: 'm."b"&',
        event: 'GO<&>',
        guard: 'a && "b" < c',
        effects: ['send<it>'],
        transition: 'm.a:GO<&>:0',
        label: 'GO<&> [a && "b" < c] / send<it>',
      },
      {
        id: '1',
        from: 'm.a',
        to: 'm.a',
        event: 'STAY&',
        guard: null,
        effects: [],
        transition: 'm.a:STAY&:0',
        label: 'STAY&',
      },
    ],
    counted: false,
  };

  it('escapes every text and attribute, so the SVG stays well-formed and reads back as written', async () => {
    expect(xml(`<&>"'`)).toBe('&lt;&amp;&gt;&quot;&apos;');
    const svg = renderSvg(machine, await layoutMachine(machine, measure));
    expect(svg).not.toContain('<b>');
    const root = parseXml(svg);
    const all = elements(root);
    expect(root.attrs['data-machine']).toBe(machine.name);
    const a = all.find((e) => e.attrs['data-state'] === 'm.a')!;
    expect(textOf(child(a, 'text', 'name')!)).toBe('a<&>"');
    expect(textOf(child(a, 'title')!)).toContain(nasty);
    expect(all.some((e) => e.attrs['data-state'] === 'm."b"&')).toBe(true);
    const go = all.find((e) => e.attrs['data-edge'] === '0')!;
    expect(go.attrs['data-event']).toBe('GO<&>');
    expect(go.attrs['data-to']).toBe('m."b"&');
    expect(textOf(child(go, 'text', 'label')!)).toContain('GO<&>');
    expect(textOf(child(go, 'title')!)).toContain(machine.edges[0]!.label);
    expect(all.find((e) => e.name === 'desc') && textOf(all.find((e) => e.name === 'desc')!)).toContain(
      nasty,
    );
  });

  it('rejects markup that is not well-formed (the reader is strict)', () => {
    expect(() => parseXml('<svg><text>a < b</text></svg>')).toThrow();
    expect(() => parseXml('<svg><text>a & b</text></svg>')).toThrow();
    expect(() => parseXml('<svg><g></svg>')).toThrow();
    expect(() => parseXml('<svg a="1" a="2"></svg>')).toThrow();
  });
});
