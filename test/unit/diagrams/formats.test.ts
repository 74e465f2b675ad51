import { describe, expect, it } from 'vitest';
import { EXPORT_FORMATS, renderMachine } from '../../../src/cli/machines-export.ts';
import { drawnEdges, MACHINES, renderDot, renderScxml, toJson } from '../../../src/diagrams/index.ts';

describe.each(Object.keys(MACHINES))('the %s machine', (name) => {
  const graph = toJson(MACHINES[name]!);
  const edges = drawnEdges(graph);

  it('exports in every format, deterministically', () => {
    for (const format of EXPORT_FORMATS) {
      const text = renderMachine(name, format);
      expect(text.length, format).toBeGreaterThan(100);
      expect(renderMachine(name, format), format).toBe(text);
    }
  });

  describe('as DOT', () => {
    const dot = renderDot(graph);
    const declared = new Set([...dot.matchAll(/^\s*"([^"]+)" \[(?:label|shape)=/gm)].map((m) => m[1]));
    const arrows = [...dot.matchAll(/^\s*"([^"]+)" -> "([^"]+)"(?: \[(.*)\])?;$/gm)];

    it('declares every simple state as a node and every composite as a cluster', () => {
      for (const state of graph.states) {
        if (state.initial) expect(dot).toContain(`subgraph "cluster_${state.id}"`);
        else expect(declared.has(state.id), state.id).toBe(true);
      }
      expect(dot.split('{').length).toBe(dot.split('}').length);
    });

    it('draws every transition once, between declared nodes, labelled with its event and guard', () => {
      const transitions = arrows.filter(([, from]) => !from!.endsWith('.__initial'));
      expect(transitions).toHaveLength(edges.length);
      for (const [, from, to] of arrows) {
        expect(declared.has(from!), from).toBe(true);
        expect(declared.has(to!), to).toBe(true);
      }
      for (const { transition } of edges.filter((e) => e.transition.guard !== null)) {
        expect(dot).toContain(`[${transition.guard}]`);
      }
    });
  });

  describe('as SCXML', () => {
    const scxml = renderScxml(graph);
    const ids = [...scxml.matchAll(/<(?:state|final|parallel) id="([^"]+)"/g)].map((m) => m[1]);

    it('has every state, with the machine initial state, and balanced elements', () => {
      expect(ids).toHaveLength(graph.states.length);
      expect(scxml).toMatch(new RegExp(`<scxml [^>]*initial="${graph.initial!.slice(graph.id.length + 1)}"`));
      expect(scxml.split('<state ').length).toBe(scxml.split('</state>').length);
      expect(scxml.split('<final ').length).toBe(scxml.split('</final>').length);
    });

    it('has every transition, with guards as cond and targets among the states', () => {
      const transitions = [...scxml.matchAll(/<transition ([^>]*?)\/?>/g)].map((m) => m[1]!);
      expect(transitions).toHaveLength(edges.length);
      for (const attributes of transitions) {
        const target = /target="([^"]+)"/.exec(attributes)?.[1];
        if (target !== undefined) expect(ids).toContain(target);
      }
      for (const { transition } of edges.filter((e) => e.transition.guard !== null)) {
        expect(scxml).toContain(`cond="${transition.guard}"`);
      }
    });
  });
});
