// The text inside the drawing: arrow labels and state names, line by line, and the room they take.
import type { GraphState } from '../../diagrams/graph.ts';
import { eventLabel } from '../../diagrams/event-label.ts';
import type { ViewerEdge } from '../api.ts';
import { GEOMETRY, type Measure } from './geometry.ts';

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
