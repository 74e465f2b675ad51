// A strict reading of the subset of Mermaid's stateDiagram-v2 grammar (stateDiagram.jison) that toMermaid writes.
// Fast and without a browser; the Chromium test (test/e2e/browser/mermaid.test.ts) renders it with real Mermaid.

const ID = '[A-Za-z0-9_]+';
/** Text after `:` runs to the end of the line and may hold neither `:` nor `;` (lexer rule for DESCR). */
const DESCR = '[^:\\n;]+';

const LINE_FORMS: [string, RegExp][] = [
  ['comment', /^%%[^{].*$/],
  ['accessible description', /^accDescr: [^\n]+$/],
  ['initial arrow', new RegExp(`^\\[\\*\\] --> ${ID}$`)],
  ['final arrow', new RegExp(`^${ID} --> \\[\\*\\]$`)],
  ['transition', new RegExp(`^${ID} --> ${ID}( : ${DESCR})?$`)],
  ['composite', new RegExp(`^state (${ID}|"[^"]+" as ${ID}) \\{$`)],
  ['end of composite', /^\}$/],
  ['named state', new RegExp(`^state "[^"]+" as ${ID}$`)],
  ['description', new RegExp(`^${ID} : ${DESCR}$`)],
  ['note', new RegExp(`^note (left|right) of ${ID} : ${DESCR}$`)],
  ['concurrency separator', /^--$/],
];

export interface MermaidParse {
  /** The composite each declared state sits in (null: top level). */
  parentOf: Map<string, string | null>;
  /** Every `a --> b` with the composite it was written in. */
  arrows: { scope: string | null; from: string; to: string; label: string | null }[];
  errors: string[];
}

/** Checks every line against the forms above and tracks composites; returns what it read and what it refused. */
export function parseMermaid(text: string): MermaidParse {
  const lines = text.split('\n');
  const errors: string[] = [];
  const parentOf = new Map<string, string | null>();
  const arrows: MermaidParse['arrows'] = [];
  const stack: string[] = [];
  if (lines[0] !== 'stateDiagram-v2') errors.push('first line must be stateDiagram-v2');
  if (lines.at(-1) !== '') errors.push('must end with a newline');
  for (const [index, raw] of lines.slice(1).entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const form = LINE_FORMS.find(([, re]) => re.test(line));
    if (form === undefined) {
      errors.push(`line ${index + 2} fits no form: ${JSON.stringify(raw)}`);
      continue;
    }
    const scope = stack.at(-1) ?? null;
    const composite = /^state (?:"[^"]+" as )?(\S+) \{$/.exec(line);
    const named = /^state "[^"]+" as (\S+)$/.exec(line);
    const arrow = /^(\S+) --> (\S+)(?: : (.*))?$/.exec(line);
    if (composite?.[1] !== undefined) {
      parentOf.set(composite[1], scope);
      stack.push(composite[1]);
    } else if (line === '}') {
      if (stack.pop() === undefined) errors.push(`line ${index + 2}: } without a composite`);
    } else if (named?.[1] !== undefined) {
      parentOf.set(named[1], scope);
    } else if (arrow?.[1] !== undefined && arrow[2] !== undefined) {
      arrows.push({ scope, from: arrow[1], to: arrow[2], label: arrow[3] ?? null });
    }
  }
  if (stack.length > 0) errors.push(`unclosed composites: ${stack.join(', ')}`);
  for (const { from, to } of arrows) {
    for (const id of [from, to]) if (id !== '[*]' && !parentOf.has(id)) parentOf.set(id, null);
  }
  return { parentOf, arrows, errors };
}

/**
 * Mermaid puts a state in the last composite that mentions it: an arrow written inside composite C may only
 * name states declared in C or below it.
 */
export function misplacedArrows(parse: MermaidParse): string[] {
  const inside = (id: string, scope: string): boolean => {
    for (let p = parse.parentOf.get(id) ?? null; p !== null; p = parse.parentOf.get(p) ?? null) {
      if (p === scope) return true;
    }
    return false;
  };
  return parse.arrows
    .filter(({ scope }) => scope !== null)
    .filter(({ scope, from, to }) => [from, to].some((id) => id !== '[*]' && !inside(id, scope ?? '')))
    .map(({ scope, from, to }) => `${from} --> ${to} written inside ${scope ?? ''}`);
}
