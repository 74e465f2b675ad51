/**
 * A small in-process Stellar RPC for `mooring demo --source rpc` (JSON-RPC on 127.0.0.1): just what the
 * payment watcher reads. Each payment of the demo's fake Horizon becomes the CAP-67 `transfer` event its
 * asset's Stellar Asset Contract emits (built with the SDK: topics `["transfer", from, to, asset]`, data
 * `{amount, to_muxed_id: <hash memo>}`), in the same ledger; `getTransaction` serves its envelope.
 * Methods: `getEvents` (cursor or startLedger, the watcher's one topic filter), `getLatestLedger`,
 * `getTransaction`. The tests' fuller fake is `test/fakes/fake-stellar-rpc.ts`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Address, nativeToScVal, type Asset } from '@stellar/stellar-sdk';
import { amounts } from '../../machines/index.ts';
import { endOfLedger, formatRpcCursor } from '../stellar/rpc-cursor.ts';
import type { PaymentInput, StoredPayment } from './payment-records.ts';

export interface DemoRpc {
  url: string;
  /** The transfer event of a payment the demo Horizon closed. */
  record(payment: StoredPayment, input: PaymentInput): void;
  /** Resolves once someone asks for events (the watcher is listening). */
  polling(): Promise<void>;
  close(): Promise<void>;
}

interface StoredEvent {
  ledger: number;
  event: Record<string, unknown>;
  to: string;
}

export async function startDemoRpc(networkPassphrase: string, firstLedger = 1000): Promise<DemoRpc> {
  const events: StoredEvent[] = [];
  const envelopes = new Map<string, { envelopeXdr: string; ledger: number }>();
  let latest = firstLedger;
  let polled = false;
  const waiting: (() => void)[] = [];

  function getEvents(params: {
    pagination?: { cursor?: string; limit?: number };
    startLedger?: number;
    filters?: { topics?: string[][] }[];
  }) {
    const cursor = params.pagination?.cursor;
    const limit = params.pagination?.limit ?? 100;
    const to = params.filters?.[0]?.topics?.[0]?.[2];
    const found = events
      .filter((e) =>
        cursor === undefined ? e.ledger >= (params.startLedger ?? 0) : String(e.event.id) > cursor,
      )
      .filter((e) => to === undefined || to === '*' || e.to === to)
      .slice(0, limit)
      .map((e) => e.event);
    return {
      events: found,
      cursor: found.length === limit ? String(found.at(-1)!.id) : endOfLedger(latest),
      latestLedger: latest,
      oldestLedger: 1,
      latestLedgerCloseTime: String(Math.floor(Date.now() / 1000)),
      oldestLedgerCloseTime: '0',
    };
  }

  const methods: Record<string, (params: never) => unknown> = {
    getEvents,
    getLatestLedger: () => ({ id: '00'.repeat(32), protocolVersion: 23, sequence: latest }),
    getTransaction: ({ hash }: { hash: string }) => {
      const known = envelopes.get(hash);
      return known === undefined
        ? { status: 'NOT_FOUND', latestLedger: latest, oldestLedger: 1 }
        : {
            status: 'SUCCESS',
            latestLedger: latest,
            oldestLedger: 1,
            ledger: known.ledger,
            envelopeXdr: known.envelopeXdr,
          };
    },
  };

  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      const { id, method, params } = JSON.parse(body || '{}') as {
        id?: unknown;
        method?: string;
        params?: never;
      };
      const handler = method === undefined ? undefined : methods[method];
      if (method === 'getEvents' && !polled) {
        polled = true;
        for (const resolve of waiting.splice(0)) resolve();
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify(
          handler
            ? { jsonrpc: '2.0', id, result: handler(params ?? ({} as never)) }
            : { jsonrpc: '2.0', id, error: { code: -32601, message: `method "${method}" not found` } },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    record(payment, input) {
      const transaction = payment.transaction as {
        hash: string;
        ledger: number;
        envelope_xdr: string;
        created_at: string;
      };
      const operation = payment.operation as { from: string; to: string; amount: string };
      const asset: Asset = input.asset;
      latest = Math.max(latest, transaction.ledger);
      const data = nativeToScVal(
        {
          amount: amounts.toStroops(operation.amount),
          to_muxed_id: Buffer.from(input.memo.value as Uint8Array),
        },
        { type: { amount: ['symbol', 'i128'], to_muxed_id: ['symbol', 'bytes'] } },
      );
      const toTopic = new Address(operation.to).toScVal().toXdr('base64');
      events.push({
        ledger: transaction.ledger,
        to: toTopic,
        event: {
          type: 'contract',
          ledger: transaction.ledger,
          ledgerClosedAt: transaction.created_at,
          contractId: asset.contractId(networkPassphrase),
          id: formatRpcCursor({ ledger: transaction.ledger, tx: 1, op: 0, event: 0 }),
          operationIndex: 0,
          transactionIndex: 1,
          txHash: transaction.hash,
          inSuccessfulContractCall: true,
          topic: [
            nativeToScVal('transfer', { type: 'symbol' }),
            new Address(operation.from).toScVal(),
            new Address(operation.to).toScVal(),
            nativeToScVal(asset.isNative() ? 'native' : `${asset.getCode()}:${asset.getIssuer()}`, {
              type: 'string',
            }),
          ].map((topic) => topic.toXdr('base64')),
          value: data.toXdr('base64'),
        },
      });
      envelopes.set(transaction.hash, { envelopeXdr: transaction.envelope_xdr, ledger: transaction.ledger });
    },
    polling: () => (polled ? Promise.resolve() : new Promise<void>((resolve) => waiting.push(resolve))),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
