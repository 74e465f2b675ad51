/**
 * An operator with the machine viewer open: one server-sent-events connection to the viewer's live
 * endpoint, authenticated with OPERATOR_TOKEN, read as fast as it comes (as a browser tab reads it, so
 * the server never waits on a full socket). It is open once the first `counts` event has arrived: from
 * then on Mooring's live feed polls the event log and re-reads the per-state counts.
 */
import { request, type ClientRequest } from 'node:http';
import { VIEWER_PATHS } from '../../src/viewer/api.ts';

const OPEN_TIMEOUT_MS = 30_000;

export interface OpenViewer {
  /** Events received so far (`counts` and `transition`). */
  events(): number;
  close(): void;
}

export function openViewer(baseUrl: string, operatorToken: string): Promise<OpenViewer> {
  return new Promise((resolve, reject) => {
    let events = 0;
    let opened = false;
    let tail = '';
    const req: ClientRequest = request(
      `${baseUrl}${VIEWER_PATHS.live}`,
      { headers: { authorization: `Bearer ${operatorToken}`, accept: 'text/event-stream' } },
      (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`GET ${VIEWER_PATHS.live} answered ${res.statusCode}`));
          res.resume();
          return;
        }
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          // Only the event boundaries matter; the tail keeps a boundary split across chunks.
          const text = tail + chunk;
          events += text.split('\n\n').length - 1;
          tail = text.slice(text.lastIndexOf('\n\n') + 2).slice(-1);
          if (!opened && text.includes('event: counts')) {
            opened = true;
            clearTimeout(timer);
            resolve({ events: () => events, close: () => req.destroy() });
          }
        });
        res.on('error', () => {});
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no counts event from ${VIEWER_PATHS.live} within ${OPEN_TIMEOUT_MS} ms`));
    }, OPEN_TIMEOUT_MS);
    req.on('error', (error) => {
      clearTimeout(timer);
      if (!opened) reject(error);
    });
    req.end();
  });
}
