// Reads a server-sent-events response (fetch) event by event, waiting for conditions with a deadline.

export interface SseEvent {
  /** The `id:` field, or null when the event has none. */
  id: string | null;
  /** The `event:` field; `message` when absent. */
  event: string;
  data: string;
}

export interface SseStream {
  /** The next event matching `predicate` (events before it are skipped), or an error after `timeoutMs`. */
  next(predicate?: (event: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  /** Resolves true when the server ends the stream within `timeoutMs`, false otherwise. */
  ended(timeoutMs?: number): Promise<boolean>;
  /** Every event read so far, in order. */
  readonly seen: SseEvent[];
  close(): Promise<void>;
}

export function parseSseEvent(block: string): SseEvent | null {
  let id: string | null = null;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return data.length === 0 ? null : { id, event, data: data.join('\n') };
}

export function readSse(response: Response): SseStream {
  if (!response.body) throw new Error('the response has no body');
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const seen: SseEvent[] = [];
  const queue: SseEvent[] = [];
  let buffer = '';
  let finished = false;
  let pending: Promise<void> | null = null;

  /** Reads one chunk into the queue (one read at a time, shared by whoever waits). */
  const pull = (): Promise<void> => {
    pending ??= reader.read().then(({ value, done }) => {
      pending = null;
      if (done) {
        finished = true;
        return;
      }
      buffer += value.replace(/\r\n?/g, '\n');
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const event = parseSseEvent(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (event) {
          seen.push(event);
          queue.push(event);
        }
      }
    });
    return pending;
  };

  const withDeadline = async <T>(work: () => Promise<T | undefined>, timeoutMs: number, what: string) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const result = await work();
      if (result !== undefined) return result;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`no ${what} within ${timeoutMs} ms; seen: ${JSON.stringify(seen)}`);
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([pull(), new Promise((resolve) => (timer = setTimeout(resolve, left)))]);
      clearTimeout(timer);
    }
  };

  return {
    seen,
    next(predicate = () => true, timeoutMs = 10_000) {
      return withDeadline(
        async () => {
          while (queue.length > 0) {
            const event = queue.shift()!;
            if (predicate(event)) return event;
          }
          if (finished) throw new Error(`the stream ended; seen: ${JSON.stringify(seen)}`);
          return undefined;
        },
        timeoutMs,
        'matching event',
      );
    },
    async ended(timeoutMs = 10_000) {
      try {
        return await withDeadline(async () => (finished ? true : undefined), timeoutMs, 'end of stream');
      } catch {
        return false;
      }
    },
    async close() {
      await reader.cancel().catch(() => {});
    },
  };
}
