/**
 * What a benchmark environment must undo (child processes, running Moorings, the database and the NATS
 * stream it created, temporary folders), newest first, on a normal end, a failure and Ctrl-C alike.
 */

/** A step that hangs (a NATS drain, a stuck query) must not keep the rest from being cleaned up. */
const STEP_TIMEOUT_MS = 20_000;

interface Step {
  what: string;
  run(): Promise<void>;
  done: boolean;
}

export class Teardown {
  readonly #steps: Step[] = [];

  /** Registers `run`; the returned function runs it now (once) and takes it off the list. */
  add(what: string, run: () => Promise<void>): () => Promise<void> {
    const step: Step = { what, run, done: false };
    this.#steps.push(step);
    return async () => {
      if (step.done) return;
      step.done = true;
      await withTimeout(step.run(), STEP_TIMEOUT_MS, step.what);
    };
  }

  /** Runs every step not run yet, newest first; a failing step is reported and the others still run. */
  async runAll(): Promise<void> {
    for (const step of [...this.#steps].reverse()) {
      if (step.done) continue;
      step.done = true;
      try {
        await withTimeout(step.run(), STEP_TIMEOUT_MS, step.what);
      } catch (error) {
        console.warn(`bench cleanup (${step.what}): ${errorMessage(error)}`);
      }
    }
  }
}

export function errorMessage(error: unknown): string {
  const e = error as { message?: string; code?: string } | null;
  return e?.message || e?.code || String(error);
}

async function withTimeout(work: Promise<void>, ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: gave up after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
