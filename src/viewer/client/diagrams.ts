// The diagrams: one SVG per machine (laid out here, in the browser), a tab per machine, zoom, live counts on the
// states and a transaction's path highlighted.
import type { ViewerCounts, ViewerMachine, ViewerTransaction } from '../api.ts';
import { layoutMachine } from '../diagram/elk-graph.ts';
import { FONTS, renderSvg } from '../diagram/svg.ts';
import { byId, h } from './dom.ts';
import { canvasMeasure } from './measure.ts';

const HIGHLIGHTS = ['visited', 'current', 'taken'] as const;
const MAX_ZOOM = 2.5;
const ZOOM_STEP = 1.25;
/**
 * The smallest arrow-label text (CSS px) the default zoom allows: where fitting the pane's width would shrink
 * text below it (a phone), the diagram opens at this size and the pane scrolls instead.
 */
const LEGIBLE_LABEL_PX = 11;
/** The stylesheet's narrow-screen breakpoint. */
const NARROW = '(max-width: 800px)';
/** How long a live transition's arrow stays lit. */
const FIRED_MS = 4_000;

interface Drawn {
  machine: ViewerMachine;
  figure: HTMLElement;
  svg: SVGSVGElement;
  states: Map<string, Element>;
  edges: Map<string, Element[]>;
  counts: Map<string, Element>;
}

/** The transaction machine (the one counted) first, then the others in the server's order. */
function ordered(machines: ViewerMachine[]): ViewerMachine[] {
  const first = (m: ViewerMachine) => (m.counted ? 0 : m.name === 'transaction' ? 1 : 2);
  return [...machines].sort((a, b) => first(a) - first(b));
}

function formatCount(n: number): string {
  return n >= 100_000 ? new Intl.NumberFormat(undefined, { notation: 'compact' }).format(n) : String(n);
}

export class Diagrams {
  private readonly container = byId('diagrams');
  private readonly tabs = byId('machine-tabs');
  private readonly status = byId('diagrams-status');
  private readonly zoomFit = byId<HTMLButtonElement>('zoom-fit');
  private readonly drawn = new Map<string, Drawn>();
  private machines: ViewerMachine[] = [];
  private active: string | null = null;
  private zoom: number | 'fit' = 'fit';
  /** Whether the operator chose a zoom: the default (fit, or legible on a narrow pane) is left alone then. */
  private zoomChosen = false;
  private counts: ViewerCounts | null = null;
  private transaction: ViewerTransaction | null = null;
  private readonly fired = new Map<Element, ReturnType<typeof setTimeout>>();

  /** `openState`: a state's count was clicked (list its transactions). */
  constructor(openState: (stateId: string) => void) {
    this.container.addEventListener('click', (event) => {
      const target = event.target as Element;
      if (target.closest('svg.counted') === null || target.closest('.badge, .count') === null) return;
      const state = target.closest('[data-state]')?.getAttribute('data-state');
      if (state) openState(state);
    });
    byId('zoom-in').addEventListener('click', () => this.zoomBy(ZOOM_STEP));
    byId('zoom-out').addEventListener('click', () => this.zoomBy(1 / ZOOM_STEP));
    this.zoomFit.addEventListener('click', () => this.setZoom('fit'));
    window.addEventListener('resize', () => {
      const drawn = this.activeDrawn();
      if (!this.zoomChosen && drawn) this.setZoom(this.legibleZoom(drawn), false);
    });
    this.tabs.addEventListener('click', (event) => {
      const tab = (event.target as Element).closest('[data-machine-tab]');
      const name = tab?.getAttribute('data-machine-tab');
      if (name) this.select(name);
    });
  }

  /** Whether the machines are drawn already. */
  get loaded(): boolean {
    return this.machines.length > 0;
  }

  /** The machine a transaction's path is drawn on. */
  get transactionMachine(): string | null {
    const machine =
      this.machines.find((m) => m.counted) ?? this.machines.find((m) => m.name === 'transaction');
    return machine?.name ?? null;
  }

  /** Lays out and draws every machine, the transaction machine first (shown as soon as it is ready). */
  async show(machines: ViewerMachine[]): Promise<void> {
    this.machines = ordered(machines);
    this.tabs.replaceChildren(
      ...this.machines.map((m) =>
        h(
          'button',
          { type: 'button', role: 'tab', 'data-machine-tab': m.name, 'aria-selected': 'false', title: m.id },
          m.name,
        ),
      ),
    );
    this.status.textContent = 'Laying out the machines…';
    this.status.hidden = false;
    const measure = canvasMeasure();
    for (const machine of this.machines) {
      const laidOut = await layoutMachine(machine, measure);
      this.draw(machine, renderSvg(machine, laidOut));
      if (this.active === null) this.select(machine.name);
      await new Promise((resolve) => setTimeout(resolve, 0)); // let the page paint before the next layout
    }
    this.status.hidden = true;
  }

  private draw(machine: ViewerMachine, markup: string): void {
    const figure = h('figure', { class: 'machine', 'data-machine-panel': machine.name, hidden: true });
    figure.innerHTML = markup; // renderSvg escapes every text it writes
    const svg = figure.querySelector('svg');
    if (svg === null) throw new Error(`no SVG drawn for ${machine.name}`);
    if (machine.description) figure.append(h('figcaption', {}, machine.description));
    const drawn: Drawn = { machine, figure, svg, states: new Map(), edges: new Map(), counts: new Map() };
    for (const g of svg.querySelectorAll('[data-state]'))
      drawn.states.set(g.getAttribute('data-state') ?? '', g);
    for (const g of svg.querySelectorAll('[data-edge]')) {
      const id = g.getAttribute('data-edge') ?? '';
      drawn.edges.set(id, [...(drawn.edges.get(id) ?? []), g]);
    }
    for (const t of svg.querySelectorAll('[data-count-for]'))
      drawn.counts.set(t.getAttribute('data-count-for') ?? '', t);
    this.drawn.set(machine.name, drawn);
    this.container.append(figure);
    if (!this.zoomChosen && this.active === null) this.setZoom(this.legibleZoom(drawn), false);
    this.applyZoom(drawn);
    if (this.counts?.machine === machine.name) this.showCounts(this.counts);
    if (this.transaction !== null && this.transactionMachine === machine.name)
      this.highlight(this.transaction);
  }

  /** Shows one machine (the others stay in the page, hidden). */
  select(name: string): void {
    if (!this.machines.some((m) => m.name === name)) return;
    this.active = name;
    for (const tab of this.tabs.querySelectorAll('[data-machine-tab]')) {
      tab.setAttribute('aria-selected', String(tab.getAttribute('data-machine-tab') === name));
    }
    for (const drawn of this.drawn.values()) drawn.figure.hidden = drawn.machine.name !== name;
  }

  /** Live counts: each state's badge, and `occupied` on the states that hold transactions. */
  showCounts(counts: ViewerCounts): void {
    this.counts = counts;
    const drawn = this.drawn.get(counts.machine);
    if (drawn === undefined) return;
    for (const [id, text] of drawn.counts) {
      const n = counts.counts[id] ?? 0;
      text.textContent = formatCount(n);
      drawn.states.get(id)?.classList.toggle('occupied', n > 0);
    }
  }

  /** Highlights a transaction's path: `visited` states, the `current` state and its ancestors, `taken` arrows. */
  highlight(transaction: ViewerTransaction): void {
    this.transaction = transaction;
    const name = this.transactionMachine;
    const drawn = name === null ? undefined : this.drawn.get(name);
    if (drawn === undefined) return;
    this.clearIn(drawn);
    const parents = new Map(drawn.machine.states.map((s) => [s.id, s.parent]));
    for (const id of transaction.path.states) drawn.states.get(id)?.classList.add('visited');
    for (let id: string | null | undefined = transaction.state; id; id = parents.get(id)) {
      drawn.states.get(id)?.classList.add('current');
    }
    for (const id of transaction.path.edges) {
      for (const g of drawn.edges.get(id) ?? []) {
        g.classList.add('taken');
        g.parentNode?.appendChild(g); // drawn last: on top of the arrows (and shared labels) it crosses
      }
    }
    drawn.svg.classList.add('has-path');
    if (name !== null && this.active !== name) this.select(name);
    this.revealCurrent(drawn);
  }

  /**
   * Lights the one arrow a live transition took (`fired`) for a moment: the recorded transition, so of guarded
   * twins only the one taken.
   */
  flash(edge: string | null): void {
    const name = this.transactionMachine;
    const drawn = name === null ? undefined : this.drawn.get(name);
    if (edge === null || drawn === undefined) return;
    for (const g of drawn.edges.get(edge) ?? []) {
      g.classList.remove('fired');
      g.classList.add('fired');
      g.parentNode?.appendChild(g);
      const timers = this.fired.get(g);
      if (timers !== undefined) clearTimeout(timers);
      this.fired.set(
        g,
        setTimeout(() => {
          g.classList.remove('fired');
          this.fired.delete(g);
        }, FIRED_MS),
      );
    }
  }

  /** Removes every highlight. */
  clear(): void {
    this.transaction = null;
    for (const drawn of this.drawn.values()) this.clearIn(drawn);
  }

  private clearIn(drawn: Drawn): void {
    for (const element of drawn.svg.querySelectorAll(HIGHLIGHTS.map((c) => `.${c}`).join(','))) {
      element.classList.remove(...HIGHLIGHTS);
    }
    drawn.svg.classList.remove('has-path');
  }

  /** When zoomed in, scrolls the current state into view. */
  private revealCurrent(drawn: Drawn): void {
    if (this.zoom === 'fit') return;
    const current = [...drawn.svg.querySelectorAll('.state.current')].pop();
    current?.scrollIntoView({ block: 'nearest', inline: 'center', behavior: 'smooth' });
  }

  private activeDrawn(): Drawn | undefined {
    return this.active === null ? undefined : this.drawn.get(this.active);
  }

  /** The scale the active diagram is drawn at now. */
  private currentScale(): number {
    if (typeof this.zoom === 'number') return this.zoom;
    const drawn = this.activeDrawn();
    const width = drawn?.svg.viewBox.baseVal.width ?? 0;
    return width > 0 && drawn ? drawn.svg.getBoundingClientRect().width / width : 1;
  }

  private zoomBy(factor: number): void {
    const drawn = this.activeDrawn();
    if (drawn === undefined) return;
    const next = Math.min(MAX_ZOOM, this.currentScale() * factor);
    const fitted = this.container.clientWidth / (drawn.svg.viewBox.baseVal.width || 1);
    this.setZoom(factor < 1 && next <= fitted ? 'fit' : next);
  }

  /**
   * On a narrow screen (the stylesheet's breakpoint), 'fit' only when fitting the pane keeps arrow labels
   * legible, else the scale that makes them LEGIBLE_LABEL_PX; on a wide one 'fit' (the whole machine at once).
   */
  private legibleZoom(drawn: Drawn): number | 'fit' {
    if (!window.matchMedia(NARROW).matches) return 'fit';
    const fitted = this.container.clientWidth / (drawn.svg.viewBox.baseVal.width || 1);
    const legible = LEGIBLE_LABEL_PX / FONTS.label.size;
    return fitted >= legible ? 'fit' : legible;
  }

  private setZoom(zoom: number | 'fit', chosen = true): void {
    this.zoomChosen ||= chosen;
    this.zoom = zoom;
    this.container.classList.toggle('fit', zoom === 'fit');
    this.zoomFit.textContent = zoom === 'fit' ? 'Fit' : `${Math.round(zoom * 100)}%`;
    this.zoomFit.setAttribute('aria-pressed', String(zoom === 'fit'));
    for (const drawn of this.drawn.values()) this.applyZoom(drawn);
    const current = this.activeDrawn();
    if (current) this.revealCurrent(current);
  }

  /**
   * Sizes by attributes, never styles (CSP): its natural size when fitted (CSS then caps it at the pane's width,
   * so a small machine is not blown up), or the zoomed size (the pane scrolls).
   */
  private applyZoom(drawn: Drawn): void {
    const box = drawn.svg.viewBox.baseVal;
    const scale = this.zoom === 'fit' ? 1 : this.zoom;
    drawn.svg.setAttribute('width', String(Math.round(box.width * scale)));
    drawn.svg.setAttribute('height', String(Math.round(box.height * scale)));
  }
}
