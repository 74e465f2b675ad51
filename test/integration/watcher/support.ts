/** Retries `check` until it passes or `timeoutMs` runs out (then rethrows its last failure). No fixed sleeps. */
export async function eventually<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 20 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}

type Level = 'debug' | 'info' | 'warn' | 'error';

/** A logger (pino's shape) that keeps what it is told, for assertions. */
export function captureLog() {
  const lines: { level: Level; msg: string; obj: object }[] = [];
  const at = (level: Level) => (obj: object, msg?: string) => {
    lines.push({ level, msg: msg ?? '', obj });
  };
  return {
    lines,
    messages: (level: Level) => lines.filter((l) => l.level === level).map((l) => l.msg),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
}
