/**
 * The simulated sending anchor's callback endpoint: records every POST with its `Signature` header, and checks
 * each one against the SIGNING_KEY of the receiving anchor's stellar.toml, as SEP-31 asks a sender to do.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Keypair } from '@stellar/stellar-sdk';

export interface ReceivedCallback {
  signature: string;
  host: string;
  body: string;
  status: string | null;
}

export interface CallbackReceiver {
  url: string;
  readonly received: readonly ReceivedCallback[];
  /** How many callbacks carry a valid signature by `signingKey` (G...). */
  validSignatures(signingKey: string): number;
  close(): Promise<void>;
}

export async function startCallbackReceiver(): Promise<CallbackReceiver> {
  const received: ReceivedCallback[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push({
        signature: String(request.headers.signature ?? ''),
        host: String(request.headers.host ?? ''),
        body,
        status: statusOf(body),
      });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callbacks`,
    received,
    validSignatures(signingKey) {
      const signer = Keypair.fromPublicKey(signingKey);
      return received.filter(({ signature, host, body }) => {
        const [, t, s] = /^t=(\d+), s=(.+)$/.exec(signature) ?? [];
        return (
          t !== undefined && signer.verify(Buffer.from(`${t}.${host}.${body}`), Buffer.from(s!, 'base64'))
        );
      }).length;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function statusOf(body: string): string | null {
  try {
    return (JSON.parse(body) as { transaction?: { status?: string } }).transaction?.status ?? null;
  } catch {
    return null;
  }
}
