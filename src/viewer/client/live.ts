// Server-sent events: live counts and transitions. EventSource reconnects by itself after a dropped connection;
// when the server refuses the stream (e.g. 401 after the session ended) it gives up, and so we ask what happened.
import { VIEWER_PATHS } from '../api.ts';
import type { ViewerCounts, ViewerTransition } from '../api.ts';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'offline';

export interface LiveHandlers {
  counts(counts: ViewerCounts): void;
  transition(transition: ViewerTransition): void;
  status(status: LiveStatus): void;
  /** The server closed the stream for good; resolves true to reconnect (still signed in), false to stop. */
  refused(): Promise<boolean>;
}

function parse<T>(event: Event): T | null {
  try {
    return JSON.parse((event as MessageEvent<string>).data) as T;
  } catch {
    return null;
  }
}

export class Live {
  private readonly handlers: LiveHandlers;
  private source: EventSource | null = null;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private delay = 1000;

  constructor(handlers: LiveHandlers) {
    this.handlers = handlers;
  }

  start(): void {
    this.stop();
    this.handlers.status('connecting');
    const source = new EventSource(VIEWER_PATHS.live, { withCredentials: true });
    this.source = source;
    source.addEventListener('open', () => {
      this.delay = 1000;
      this.handlers.status('live');
    });
    source.addEventListener('counts', (event) => {
      const counts = parse<ViewerCounts>(event);
      if (counts !== null) this.handlers.counts(counts);
    });
    source.addEventListener('transition', (event) => {
      const transition = parse<ViewerTransition>(event);
      if (transition !== null) this.handlers.transition(transition);
    });
    source.addEventListener('error', () => {
      if (this.source !== source) return;
      this.handlers.status('reconnecting');
      if (source.readyState !== EventSource.CLOSED) return; // the browser retries by itself
      source.close();
      this.source = null;
      void this.handlers.refused().then((again) => {
        if (!again) return this.handlers.status('offline');
        this.retry = setTimeout(() => this.start(), this.delay);
        this.delay = Math.min(this.delay * 2, 30_000);
      });
    });
  }

  stop(): void {
    if (this.retry !== null) clearTimeout(this.retry);
    this.retry = null;
    this.source?.close();
    this.source = null;
  }
}
