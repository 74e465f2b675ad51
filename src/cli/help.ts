/** The configuration part of `mooring --help`, generated from what the config loader reads. */
import { CONFIG_FILE_NAMES } from '../config/defaults.ts';
import { SETTINGS } from '../config/env.ts';

export function configurationHelp(): string {
  const rows = Object.values(SETTINGS).map((spec) => ({
    env: spec.env,
    where: spec.file === null ? '(environment only)' : `config file: ${spec.file.join('.')}`,
  }));
  const width = Math.max(...rows.map((row) => row.env.length));
  return [
    '',
    'Configuration:',
    '  Config file: --config <file>, else $MOORING_CONFIG, else the first found in the working directory of',
    `  ${CONFIG_FILE_NAMES.join(', ')}. Optional: without one, a sandbox on the embedded defaults.`,
    '  Environment variables (they override the config file):',
    ...rows.map((row) => `    ${row.env.padEnd(width)}  ${row.where}`),
    '',
    'See README.md (Configuration) and docs/deploy.md.',
  ].join('\n');
}
