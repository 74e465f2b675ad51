import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, testConfigFile, type TestApp } from '../../helpers/app.ts';

/** Real sockets against a listening app: slow bodies are cut off, connections over the cap are closed. */
describe('HTTP sockets', () => {
  let t: TestApp;
  let port: number;
  const open: Socket[] = [];

  beforeAll(async () => {
    t = await buildTestApp({
      file: testConfigFile({ http: { requestTimeoutSeconds: 1, maxConnections: 3 } }),
    });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const socket of open) socket.destroy();
    await t?.close();
  });

  function socket(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(s));
      s.on('error', reject);
      open.push(s);
    });
  }

  /** Resolves with what the server sent when it closes the socket. */
  function closed(s: Socket): Promise<string> {
    let received = '';
    s.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
    s.on('error', () => undefined);
    return new Promise((resolve) => s.on('close', () => resolve(received)));
  }

  /** One request on a kept-alive socket; resolves with the status line. */
  function statusOf(s: Socket, path: string): Promise<string> {
    return new Promise((resolve) => {
      s.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8').split('\r\n')[0]!));
      s.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n`);
    });
  }

  it('closes a socket whose body trickles in slower than the request timeout', async () => {
    const slow = await socket();
    const done = closed(slow);
    let isClosed = false;
    void done.then(() => (isClosed = true));
    slow.write(
      'POST /auth HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{',
    );
    // One byte every 200 ms: never idle, never done. Bounded: gives up after 15 s.
    for (let i = 0; i < 75 && !isClosed; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      if (!isClosed) slow.write(' ');
    }
    expect(isClosed).toBe(true);
    expect(await done).toMatch(/^HTTP\/1\.1 408/);
  }, 30_000);

  it('closes connections over http.maxConnections as they arrive, and keeps serving the others', async () => {
    const kept = [await socket(), await socket(), await socket()];
    for (const s of kept) expect(await statusOf(s, '/health')).toBe('HTTP/1.1 200 OK');
    const extra = await socket().catch(() => null);
    if (extra !== null) {
      const answer = closed(extra);
      extra.write('GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n');
      expect(await answer).toBe('');
    }
    expect(await statusOf(kept[0]!, '/health')).toBe('HTTP/1.1 200 OK');
  });
});
