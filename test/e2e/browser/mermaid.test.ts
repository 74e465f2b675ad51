import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRANSACTION_STATUSES, transactionMachine } from '../../../machines/index.ts';
import { embeddedBlock } from '../../../src/cli/machines-export.ts';
import { drawnEdges, toJson, transitionLabel } from '../../../src/diagrams/index.ts';

/**
 * The README's transaction diagram as readers see it: rendered by the real Mermaid library (the npm package,
 * loaded into Chromium from node_modules), then read back from the SVG. Each state must be titled by its SEP-31
 * status name (not its description), and every self-loop must keep its label.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) {
  throw new Error(`Chromium is required in CI for the Mermaid test and is not at ${CHROMIUM}`);
}
const ROOT = join(import.meta.dirname, '..', '..', '..');
const MERMAID = createRequire(import.meta.url).resolve('mermaid/dist/mermaid.min.js');

interface Rendered {
  /** Each state node's title: the first line Mermaid writes in it. */
  titles: string[];
  /** Each cluster's (composite state's) title. */
  clusters: string[];
  /** Every edge label's text. */
  labels: string[];
  /** Every note's text. */
  notes: string[];
}

describe.skipIf(!haveChromium)('the README diagram rendered by Mermaid', { timeout: 60_000 }, () => {
  let browser: Browser;
  let rendered: Rendered;

  beforeAll(async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const block = embeddedBlock(readme, 'transaction');
    const text = /```mermaid\n([\s\S]*?)```/.exec(block ?? '')?.[1];
    expect(text, 'the README has the transaction diagram').toBeDefined();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    const page = await browser.newPage();
    await page.setContent('<!doctype html><html><body></body></html>');
    await page.addScriptTag({ path: MERMAID });
    // Runs in the page (the test program has no DOM types).
    rendered = await page.evaluate(async (source) => {
      /* eslint-disable @typescript-eslint/no-explicit-any */
      const g = globalThis as any;
      g.mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });
      const { svg } = await g.mermaid.render('readme-diagram', source);
      const doc = g.document;
      doc.body.innerHTML = svg;
      const textOf = (el: any): string => (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
      const nodes = [...doc.querySelectorAll('svg g.node')].filter((n: any) => !n.id.includes('note'));
      return {
        titles: nodes.map((n: any) => textOf(n.querySelector('.nodeLabel, text, span'))).filter(Boolean),
        clusters: [...doc.querySelectorAll('svg g.cluster, svg g.statediagram-cluster')].map((c: any) =>
          textOf(c.querySelector('.cluster-label, .nodeLabel, text')),
        ),
        labels: [...doc.querySelectorAll('svg g.edgeLabel')].map(textOf),
        notes: [...doc.querySelectorAll('svg g.node')].filter((n: any) => n.id.includes('note')).map(textOf),
      };
      /* eslint-enable @typescript-eslint/no-explicit-any */
    }, text!);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('titles every state by its SEP-31 status name, not its description', () => {
    const graph = toJson(transactionMachine);
    for (const status of TRANSACTION_STATUSES) {
      const state = graph.states.find((s) => s.id === `${graph.id}.${status}`)!;
      const composite = graph.states.some((s) => s.parent === state.id);
      expect(composite ? rendered.clusters : rendered.titles, status).toContain(status);
    }
    for (const sub of graph.states.filter((s) => s.parent !== null)) {
      expect(rendered.titles, sub.id).toContain(sub.key);
    }
    // The descriptions are still there, under the names (or as a note for the composite).
    expect(rendered.notes.join(' ')).toContain('The receiving anchor is working');
    expect(rendered.titles.some((t) => t.startsWith('Ready – waiting'))).toBe(false);
  });

  it('keeps the label of every self-loop', () => {
    const graph = toJson(transactionMachine);
    const loops = drawnEdges(graph).filter((e) => e.from === e.to);
    expect(loops.length).toBeGreaterThan(2);
    for (const loop of loops) {
      expect(rendered.labels, `${loop.from} ${loop.transition.event}`).toContain(
        transitionLabel(loop.transition),
      );
    }
  });
});
