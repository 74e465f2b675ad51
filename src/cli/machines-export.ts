import { readFile, writeFile } from 'node:fs/promises';
import { MACHINES, toDot, toJson, toMermaid, toScxml } from '../diagrams/index.ts';

export const EXPORT_FORMATS = ['mermaid', 'dot', 'scxml', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** `--machine` names no machine: the CLI prints the message alone. */
export class UnknownMachineError extends Error {
  constructor(name: string) {
    super(`unknown machine "${name}"; known: ${Object.keys(MACHINES).join(', ')}`);
    this.name = 'UnknownMachineError';
  }
}

export function renderMachine(name: string, format: ExportFormat): string {
  const machine = MACHINES[name];
  if (!machine) throw new UnknownMachineError(name);
  switch (format) {
    case 'mermaid':
      return toMermaid(machine);
    case 'dot':
      return toDot(machine);
    case 'scxml':
      return toScxml(machine);
    case 'json':
      return `${JSON.stringify(toJson(machine), null, 2)}\n`;
  }
}

/** Markers around a generated diagram in a Markdown file, e.g. the README. */
export function markers(name: string) {
  return { start: `<!-- machine:${name}:start -->`, end: `<!-- machine:${name}:end -->` };
}

/** The Markdown block a document holds between the machine's markers (null when it has none). */
export function embeddedBlock(document: string, name: string): string | null {
  const { start, end } = markers(name);
  const from = document.indexOf(start);
  const to = document.indexOf(end);
  return from === -1 || to < from ? null : document.slice(from + start.length, to);
}

export function mermaidBlock(diagram: string): string {
  return `\n\n\`\`\`mermaid\n${diagram.trimEnd()}\n\`\`\`\n\n`;
}

export async function exportMachine(options: {
  format: ExportFormat;
  machine: string;
  out?: string;
  into?: string;
}) {
  const text = renderMachine(options.machine, options.format);
  if (options.into) {
    const document = await readFile(options.into, 'utf8');
    if (embeddedBlock(document, options.machine) === null) {
      const { start, end } = markers(options.machine);
      throw new Error(`${options.into} has no ${start} … ${end} block`);
    }
    const { start, end } = markers(options.machine);
    const block =
      options.format === 'mermaid' ? mermaidBlock(text) : `\n\n\`\`\`${options.format}\n${text}\`\`\`\n\n`;
    const updated = document.replace(
      new RegExp(`${escape(start)}[\\s\\S]*?${escape(end)}`),
      () => `${start}${block}${end}`,
    );
    await writeFile(options.into, updated);
  } else if (options.out) {
    await writeFile(options.out, text);
  } else {
    process.stdout.write(text);
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
