// Small DOM helpers: elements are built with text nodes only (never HTML from data), except the diagrams' SVG,
// which src/viewer/diagram/svg.ts writes with every text escaped.
import { utc } from './format.ts';

/** The element with this id; the page (index.html) has them all. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`#${id} is missing from the page`);
  return element as T;
}

type Child = Node | string | number | null | undefined | false;

/** An element with attributes (`true` sets an empty one, `false`/undefined none) and children (strings as text). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** A `<time>` showing an ISO time in UTC with the zone (the ISO text as its tooltip). */
export function time(iso: string | null, style: 'full' | 'time' = 'full'): HTMLElement {
  if (iso === null) return h('span', { class: 'muted' }, '–');
  const text = utc(iso, style);
  if (text === null) return h('span', {}, iso);
  return h('time', { datetime: iso, title: iso }, text);
}
