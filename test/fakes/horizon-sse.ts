/**
 * Horizon's Server-Sent Events, as `internal/render/sse` writes them (stellar/stellar-horizon):
 *
 * ```text
 * retry: 1000            ← preamble ("hello"), once per connection
 * event: open
 * data: "hello"
 *
 * id: 4294971392         ← one event per record: id = paging_token, data = the record as compact JSON
 * data: {"_links":…}
 *
 * retry: 10              ← "goodbye", after `limit` records (default 10, max 200): the stream ENDS here and the
 * event: close             SDK reconnects from its last paging_token
 * data: "byebye"
 * ```
 *
 * Horizon sends NO keep-alive: between ledgers with nothing new the connection is silent, and the SDK's
 * `reconnectTimeout` (15 s without a message) rebuilds the stream. So keep-alive comments are off by default;
 * `keepAliveMs` adds `: keepalive` comment lines for clients that want them (EventSource ignores comments).
 *
 * The fake pushes records as soon as they are appended (Horizon polls once per ledger close).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { firstAfter, type Stored } from './horizon-history.ts';

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'access-control-allow-origin': '*',
};

/** Horizon's hello event: tells the client to retry an errored connection after `retryMs`. */
export function helloEvent(retryMs: number): string {
  return `retry: ${retryMs}\nevent: open\ndata: "hello"\n\n`;
}

/** Horizon's goodbye event, sent when the stream has sent `limit` records. */
export const GOODBYE_EVENT = 'retry: 10\nevent: close\ndata: "byebye"\n\n';

export const KEEPALIVE_COMMENT = ': keepalive\n\n';

export function recordEvent(id: string, data: unknown): string {
  return `id: ${id}\ndata: ${JSON.stringify(data)}\n\n`;
}

export interface StreamRequest {
  /** The live list to follow (it keeps growing). */
  list: readonly Stored[];
  /** Exclusive: the first record sent is the first one after it. */
  cursor: bigint;
  /** Records to send before the goodbye. */
  limit: number;
  includeFailed: boolean;
  render(item: Stored): unknown;
}

export interface OpenStreamInfo {
  url: string;
  /** Paging token of the last record sent on this connection. */
  lastSentId?: string;
  sent: number;
  /** False while the fake is silent and has not answered this connection yet. */
  answered: boolean;
}

export interface SseHub {
  open(request: IncomingMessage, response: ServerResponse, stream: StreamRequest): void;
  /** Sends whatever each open stream has not sent yet (after an append, or when silence ends). */
  pumpAll(): void;
  /** Destroys every open stream's socket without a goodbye. Returns how many were dropped. */
  dropAll(): number;
  setSilent(silent: boolean): void;
  readonly silent: boolean;
  list(): OpenStreamInfo[];
  closeAll(): void;
}

interface Client {
  request: IncomingMessage;
  response: ServerResponse;
  stream: StreamRequest;
  next: number;
  remaining: number;
  sent: number;
  lastSentId?: string;
  started: boolean;
  closed: boolean;
  keepAlive?: ReturnType<typeof setInterval>;
}

export function createSseHub(settings: { retryMs: number; keepAliveMs?: number }): SseHub {
  const clients = new Set<Client>();
  let silent = false;

  function forget(client: Client): void {
    client.closed = true;
    if (client.keepAlive) clearInterval(client.keepAlive);
    clients.delete(client);
  }

  function pump(client: Client): void {
    if (client.closed || silent) return;
    const { response, stream } = client;
    if (response.destroyed || response.writableEnded) return forget(client);
    if (!client.started) {
      client.started = true;
      response.writeHead(200, SSE_HEADERS);
      response.write(helloEvent(settings.retryMs));
      if (settings.keepAliveMs) {
        client.keepAlive = setInterval(() => {
          if (!silent && !client.closed) response.write(KEEPALIVE_COMMENT);
        }, settings.keepAliveMs);
        client.keepAlive.unref();
      }
    }
    const list = stream.list;
    while (client.remaining > 0 && client.next < list.length) {
      const item = list[client.next++]!;
      if (!item.successful && !stream.includeFailed) continue;
      client.lastSentId = item.pt.toString();
      response.write(recordEvent(client.lastSentId, stream.render(item)));
      client.remaining--;
      client.sent++;
    }
    if (client.remaining === 0) {
      response.end(GOODBYE_EVENT);
      forget(client);
    }
  }

  return {
    open(request, response, stream) {
      const client: Client = {
        request,
        response,
        stream,
        next: firstAfter(stream.list, stream.cursor),
        remaining: stream.limit,
        sent: 0,
        started: false,
        closed: false,
      };
      clients.add(client);
      response.on('close', () => forget(client));
      response.on('error', () => forget(client));
      pump(client);
    },
    pumpAll() {
      for (const client of [...clients]) pump(client);
    },
    dropAll() {
      const dropped = [...clients];
      for (const client of dropped) {
        forget(client);
        client.request.socket.destroy();
      }
      return dropped.length;
    },
    setSilent(value) {
      silent = value;
      if (!silent) this.pumpAll();
    },
    get silent() {
      return silent;
    },
    list() {
      return [...clients].map((client) => ({
        url: client.request.url ?? '',
        lastSentId: client.lastSentId,
        sent: client.sent,
        answered: client.started,
      }));
    },
    closeAll() {
      for (const client of [...clients]) forget(client);
    },
  };
}
