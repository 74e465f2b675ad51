/**
 * A small in-process Horizon for `mooring demo` (node:http on 127.0.0.1): just what the payment watcher and
 * SEP-10 need.
 * - `GET /accounts/:id`: the account (master key signer, weight 1), or Horizon's 404 problem.
 * - `GET /accounts/:id/payments`: `cursor` (a `Last-Event-ID` header wins), `order`, `limit` (default 10,
 *   max 200), `join=transactions`, as a HAL page (`_embedded.records`); with `Accept: text/event-stream` an SSE
 *   stream as Horizon writes it (`retry:` / `event: open` / `data: "hello"`, then `id:` + `data:` per record),
 *   pushed as soon as a payment is made.
 * Payments are real signed transactions (`payment-records.ts`), one per ledger.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { joined, paymentRecords, type PaymentInput, type StoredPayment } from './payment-records.ts';

export interface DemoHorizon {
  url: string;
  addAccount(id: string): void;
  /** Signs and "closes" a payment in the next ledger; open streams get it at once. Returns its records. */
  pay(input: PaymentInput): StoredPayment;
  /** Resolves once someone streams `account`'s payments (the watcher is listening). */
  streaming(account: string): Promise<void>;
  close(): Promise<void>;
}

interface Stream {
  account: string;
  response: ServerResponse;
  after: bigint;
  join: boolean;
}

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

export async function startDemoHorizon(networkPassphrase: string): Promise<DemoHorizon> {
  const accounts = new Set<string>();
  const payments: StoredPayment[] = [];
  const streams = new Set<Stream>();
  const waiting = new Map<string, (() => void)[]>();
  let ledger = 1000;
  let base = '';

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', base);
    const match = /^\/accounts\/(G[A-Z2-7]{55})(\/payments)?\/?$/.exec(url.pathname);
    if (request.method !== 'GET' || !match) return problem(response, 404, 'Resource Missing');
    const account = match[1]!;
    if (!match[2]) {
      return accounts.has(account)
        ? json(response, 200, accountRecord(account))
        : problem(response, 404, 'Resource Missing');
    }
    const query = listQuery(request, url);
    if (!query) return problem(response, 400, 'Bad Request');
    const list = payments.filter((p) => p.accounts.includes(account));
    const render = (p: StoredPayment) => (query.join ? joined(p) : p.operation);
    if ((request.headers.accept ?? '').includes('text/event-stream')) {
      const stream: Stream = { account, response, after: query.cursor ?? -1n, join: query.join };
      streams.add(stream);
      response.on('close', () => streams.delete(stream));
      response.writeHead(200, SSE_HEADERS);
      response.write('retry: 1000\nevent: open\ndata: "hello"\n\n');
      pump(stream);
      for (const resolve of waiting.get(account) ?? []) resolve();
      waiting.delete(account);
      return;
    }
    const sorted = query.order === 'asc' ? list : [...list].reverse();
    const records = sorted
      .filter((p) =>
        query.cursor === null
          ? true
          : query.order === 'asc'
            ? p.pagingToken > query.cursor
            : p.pagingToken < query.cursor,
      )
      .slice(0, query.limit);
    json(response, 200, {
      _links: { self: { href: url.href } },
      _embedded: { records: records.map(render) },
    });
  });

  function pump(stream: Stream) {
    for (const p of payments) {
      if (p.pagingToken <= stream.after || !p.accounts.includes(stream.account)) continue;
      stream.after = p.pagingToken;
      const record = stream.join ? joined(p) : p.operation;
      stream.response.write(`id: ${p.pagingToken}\ndata: ${JSON.stringify(record)}\n\n`);
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    addAccount: (id) => void accounts.add(id),
    pay(input) {
      ledger += 1;
      const payment = paymentRecords(input, { base, ledger, networkPassphrase, sequence: `${ledger}` });
      payments.push(payment);
      for (const stream of streams) pump(stream);
      return payment;
    },
    streaming(account) {
      if ([...streams].some((s) => s.account === account)) return Promise.resolve();
      return new Promise((resolve) => waiting.set(account, [...(waiting.get(account) ?? []), resolve]));
    },
    async close() {
      for (const stream of streams) stream.response.end();
      streams.clear();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function listQuery(request: IncomingMessage, url: URL) {
  const lastEventId = request.headers['last-event-id'];
  let cursor: string =
    (typeof lastEventId === 'string' && lastEventId) || (url.searchParams.get('cursor') ?? '');
  if (cursor === 'now') cursor = String(Number.MAX_SAFE_INTEGER);
  const order = url.searchParams.get('order') || 'asc';
  const limit = Number(url.searchParams.get('limit') || '10');
  const join = url.searchParams.get('join') ?? '';
  if ((cursor !== '' && !/^\d+$/.test(cursor)) || !['asc', 'desc'].includes(order)) return null;
  if (!Number.isInteger(limit) || limit < 1 || limit > 200 || !['', 'transactions'].includes(join))
    return null;
  return { cursor: cursor === '' ? null : BigInt(cursor), order, limit, join: join === 'transactions' };
}

function accountRecord(id: string) {
  return {
    id,
    account_id: id,
    sequence: '1000',
    subentry_count: 0,
    thresholds: { low_threshold: 0, med_threshold: 0, high_threshold: 0 },
    flags: {
      auth_required: false,
      auth_revocable: false,
      auth_immutable: false,
      auth_clawback_enabled: false,
    },
    balances: [{ balance: '10000.0000000', asset_type: 'native' }],
    signers: [{ weight: 1, key: id, type: 'ed25519_public_key' }],
    data: {},
  };
}

function json(response: ServerResponse, status: number, body: unknown) {
  response
    .writeHead(status, { 'content-type': 'application/hal+json; charset=utf-8' })
    .end(JSON.stringify(body));
}

function problem(response: ServerResponse, status: number, title: string) {
  response.writeHead(status, { 'content-type': 'application/problem+json; charset=utf-8' });
  response.end(
    JSON.stringify({
      type: `https://stellar.org/horizon-errors/${status === 404 ? 'not_found' : 'bad_request'}`,
      title,
      status,
    }),
  );
}
