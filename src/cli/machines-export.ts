import { writeFile } from 'node:fs/promises';
import { MACHINES, toJson, toMermaid } from '../diagrams/index.ts';

export async function exportMachine(options: { format: 'mermaid' | 'json'; machine: string; out?: string }) {
  const machine = MACHINES[options.machine];
  if (!machine) {
    throw new Error(`unknown machine "${options.machine}"; known: ${Object.keys(MACHINES).join(', ')}`);
  }
  const text =
    options.format === 'mermaid' ? toMermaid(machine) : `${JSON.stringify(toJson(machine), null, 2)}\n`;
  if (options.out) await writeFile(options.out, text);
  else process.stdout.write(text);
}
