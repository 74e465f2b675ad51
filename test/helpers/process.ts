import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const BIN = join(import.meta.dirname, '..', '..', 'bin', 'mooring.js');

export { freePort } from '../../src/net/free-port.ts';

export interface RunningProcess {
  child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `mooring <args>` with a clean environment plus `env`; collects stdout and stderr. */
export function startMooringProcess(args: string[], env: Record<string, string>): RunningProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs `mooring <args>` to completion. */
export async function runMooring(args: string[], env: Record<string, string>) {
  const run = startMooringProcess(args, env);
  const code = await new Promise<number | null>((resolve) => run.child.once('exit', resolve));
  return { code, output: run.output() };
}

/** Polls `url` until it answers 200 or the process dies or the deadline passes. */
export async function waitForHttp(url: string, run: RunningProcess, timeoutMs = 30_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (run.child.exitCode !== null) throw new Error(`mooring exited early:\n${run.output()}`);
    try {
      const response = await fetch(url);
      if (response.ok) return response;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`no answer from ${url}:\n${run.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
