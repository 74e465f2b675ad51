import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Keypair } from '@stellar/stellar-sdk';

/** One callback POST as a sending anchor's endpoint sees it. */
export interface ReceivedCallback {
  signature: string;
  host: string;
  body: string;
}

/** A sending anchor's callback endpoint on 127.0.0.1: records every POST and answers 204. */
export async function startCallbackReceiver() {
  const received: ReceivedCallback[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push({
        signature: String(request.headers.signature),
        host: String(request.headers.host),
        body,
      });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callbacks`,
    received,
    /** The `transaction.status` of each callback, in arrival order. */
    statuses: () =>
      received.map((c) => (JSON.parse(c.body) as { transaction: { status: string } }).transaction.status),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Checks `Signature: t=…, s=…` over `t.host.body` the way a sending anchor would, with the SDK only. */
export function signatureIsValid(callback: ReceivedCallback, signingKey: string): boolean {
  const [, t, s] = /^t=(\d+), s=(.+)$/.exec(callback.signature) ?? [];
  if (t === undefined || s === undefined) return false;
  return Keypair.fromPublicKey(signingKey).verify(
    Buffer.from(`${t}.${callback.host}.${callback.body}`),
    Buffer.from(s, 'base64'),
  );
}
