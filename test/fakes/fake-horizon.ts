/**
 * A fake Horizon for tests: a real HTTP server on 127.0.0.1 that answers with Horizon's JSON shapes, so
 * the SDK's `Horizon.Server` (and `createHorizonAccounts`) talk to it unchanged.
 *
 * Endpoints: `GET /` (root), `GET /accounts/:id`, and the history the watcher reads —
 * `GET /accounts/:id/payments`, `GET /accounts/:id/transactions`, `GET /payments`, `GET /transactions`,
 * `GET /transactions/:hash`, `GET /operations/:id` — with `cursor` (`now` too; a `Last-Event-ID` header wins, as
 * on Horizon), `order`, `limit` (default 10, max 200), `include_failed` and `join=transactions`, as HAL pages
 * (`_links.self/next/prev`, `_embedded.records`). The four list endpoints stream when asked with
 * `Accept: text/event-stream` (see `horizon-sse.ts` for the wire format, taken from Horizon's source).
 *
 * History is made of REAL signed transactions (`horizon-records.ts`): `appendTransaction`/`appendPayment` build,
 * sign and append one in the next ledger, and open streams get it at once. Failure controls: `dropStreams()`,
 * `setSilent()`, `failNext()`; `requestLog` records every request with its headers and status.
 *
 * `POST /transactions` (form field `tx`, a base64 envelope) submits a payment transaction as Horizon does:
 * the source account must exist, the sequence number be the account's next, the signatures (checked) reach
 * the medium threshold (at least 1), and the time bounds not be past; then it lands in the next ledger (the
 * account's sequence moves, its payments list it, `GET /transactions/:hash` finds it) and the answer is the
 * transaction record. A refusal is Horizon's `transaction_failed` problem with `extras.result_codes`
 * (`tx_bad_seq`, `tx_bad_auth`, `tx_too_late`, `tx_no_source_account`); `transaction_malformed` for bad XDR.
 * A hash already in the history is answered with its record, as Horizon does. `loseNextSubmissionAnswers(n)`
 * applies the next n submissions but answers 504, the ambiguous outcome a submitter must survive.
 * Simplified: only `payment` operations; destinations and balances are not checked.
 *
 * Routes are a table of (method, path pattern, handler); add endpoints with `route(...)` in `startFakeHorizon`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Asset,
  FeeBumpTransaction,
  Keypair,
  Networks,
  StrKey,
  TransactionBuilder,
  type Memo,
  type Transaction,
} from '@stellar/stellar-sdk';
import {
  createHorizonHistory,
  nowCursor,
  page,
  type HorizonHistory,
  type Stored,
  type StoredOperation,
} from './horizon-history.ts';
import {
  paymentTransaction,
  type BuiltTransaction,
  type PaymentInput,
  type TransactionSpec,
} from './horizon-records.ts';
import { createSseHub, type OpenStreamInfo } from './horizon-sse.ts';

export interface FakeSigner {
  key: string;
  weight: number;
  /** Horizon's signer type; `ed25519_public_key` for G... keys. */
  type?: 'ed25519_public_key' | 'sha256_hash' | 'preauth_tx' | 'ed25519_signed_payload';
}

export interface FakeThresholds {
  low_threshold: number;
  med_threshold: number;
  high_threshold: number;
}

export interface FakeAccountOptions {
  /** The account's complete signer list, master key included; default: the master key with weight 1. */
  signers?: FakeSigner[];
  /** Missing thresholds are 0, as on a fresh account. */
  thresholds?: Partial<FakeThresholds>;
  /** Native balance, default "10000.0000000". */
  nativeBalance?: string;
  sequence?: string;
}

export interface FakeHorizonOptions {
  networkPassphrase?: string;
  /** The `retry:` of the SSE hello event: how long EventSource waits before reconnecting. Horizon: 1000. */
  sseRetryMs?: number;
  /** Send `: keepalive` SSE comments this often. Horizon sends none, so: off by default. */
  keepAliveMs?: number;
}

/** One received request, as the log keeps it. */
export interface FakeRequest {
  method: string;
  /** Path with query, e.g. `/accounts/G.../payments?cursor=now`. */
  url: string;
  path: string;
  accept?: string;
  lastEventId?: string;
  /** Asked for `text/event-stream`. */
  stream: boolean;
  /** The status answered, once the response head is sent (a silent stream has none yet). */
  readonly status: number | undefined;
}

export interface SeedPaymentsOptions {
  /** Default: a random keypair. */
  from?: Keypair;
  /** Default: native. */
  asset?: Asset;
  /** Default: `${i + 1}` (payment i carries i + 1 units). */
  amount?: (i: number) => string;
  memo?: (i: number) => Memo | undefined;
  /** Transactions per ledger; default 100. */
  perLedger?: number;
}

export interface FakeHorizon {
  /** Base URL, e.g. `http://127.0.0.1:54321` (no trailing slash). */
  url: string;
  /** Creates or replaces an account. */
  addAccount(id: string, options?: FakeAccountOptions): void;
  removeAccount(id: string): void;
  /** Every request received, oldest first (method and path with query). */
  readonly requests: { method: string; url: string }[];
  /** Every request received, oldest first, with headers that matter here and the status answered. */
  readonly requestLog: readonly FakeRequest[];
  /** The latest ledger with history (1000 before anything is appended). */
  readonly latestLedger: number;
  /**
   * Builds, signs and appends a transaction in a new ledger (or in `options.ledger`, which may not be before the
   * latest). Open streams receive its records immediately. Returns the records as served.
   */
  appendTransaction(spec: TransactionSpec, options?: { ledger?: number }): BuiltTransaction;
  /** A one-operation transaction (payment by default; `type` picks a path payment or create_account). */
  appendPayment(payment: PaymentInput, options?: { ledger?: number }): BuiltTransaction;
  /** Same as `appendPayment`. */
  pay(payment: PaymentInput, options?: { ledger?: number }): BuiltTransaction;
  /** `n` payments to `account`, one signed transaction each, `perLedger` per ledger: a backlog. */
  seedPayments(account: string, n: number, options?: SeedPaymentsOptions): BuiltTransaction[];
  /** Closes every open SSE connection abruptly (socket destroyed, no goodbye). Returns how many. */
  dropStreams(): number;
  /** While silent, streams send nothing (no records, no keep-alive, no answer to new stream requests). */
  setSilent(silent: boolean): void;
  /** The next `n` requests (matching `filter`, if given) answer `status` with Horizon's problem JSON. */
  failNext(n: number, status?: number, filter?: (request: FakeRequest) => boolean): void;
  /** Open SSE connections. */
  openStreams(): OpenStreamInfo[];
  /** The next `n` valid submissions are applied, but answered 504 (the submitter cannot know). */
  loseNextSubmissionAnswers(n: number): void;
  /** Hashes of the transactions submitted and applied, oldest first. */
  readonly submitted: readonly string[];
  close(): Promise<void>;
}

interface AccountState {
  id: string;
  sequence: string;
  signers: Required<FakeSigner>[];
  thresholds: FakeThresholds;
  nativeBalance: string;
  lastModifiedLedger: number;
}

type Handler = (
  request: IncomingMessage,
  response: ServerResponse,
  params: Record<string, string>,
  url: URL,
) => void | Promise<void>;

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: Handler;
}

const LEDGER = 1_000;
const CLOSED_AT = '2026-11-24T12:00:00Z';

export async function startFakeHorizon(options: FakeHorizonOptions = {}): Promise<FakeHorizon> {
  const networkPassphrase = options.networkPassphrase ?? Networks.TESTNET;
  const accounts = new Map<string, AccountState>();
  const requests: { method: string; url: string }[] = [];
  const requestLog: FakeRequest[] = [];
  const routes: Route[] = [];
  const sse = createSseHub({ retryMs: options.sseRetryMs ?? 1000, keepAliveMs: options.keepAliveMs });
  const failures: { remaining: number; status: number; filter?: (request: FakeRequest) => boolean } = {
    remaining: 0,
    status: 500,
  };
  let base = '';
  const history: HorizonHistory = createHorizonHistory({
    baseUrl: () => base,
    networkPassphrase,
    firstLedger: LEDGER,
    firstLedgerClosedAt: CLOSED_AT,
  });
  history.onAppend(() => sse.pumpAll());

  /** `path` uses `:name` segments, e.g. `/accounts/:id`. */
  function route(method: string, path: string, handler: Handler): void {
    const names: string[] = [];
    const source = path.replace(/:([a-z_]+)/g, (_m, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    routes.push({ method, pattern: new RegExp(`^${source}/?$`), names, handler });
  }

  route('GET', '/', (_request, response) => {
    sendJson(
      response,
      200,
      rootRecord(base, networkPassphrase, history.latestLedger, history.closeTime(history.latestLedger)),
    );
  });

  route('GET', '/accounts/:id', (_request, response, { id }) => {
    const account = accounts.get(id!);
    if (!account) return sendProblem(response, notFound());
    sendJson(response, 200, accountRecord(base, account));
  });

  /** A list endpoint: a HAL page, or an SSE stream when the client accepts `text/event-stream`. */
  function listRoute(
    path: string,
    list: (params: Record<string, string>) => readonly Stored[],
    joinable: boolean,
  ) {
    route('GET', path, (request, response, params, url) => {
      if (params.id !== undefined && !StrKey.isValidEd25519PublicKey(params.id)) {
        return sendProblem(
          response,
          badRequest('account_id', 'Account ID must start with `G` and contain 56 alphanum characters'),
        );
      }
      const query = listQuery(request, url, history.latestLedger, joinable);
      if ('problem' in query) return sendProblem(response, query.problem);
      const render = (item: Stored) =>
        query.join && 'transaction' in item ? joinTransaction(item) : item.record;
      const items = list(params);
      if (wantsStream(request)) {
        // Horizon streams in ascending order; `order` is ignored, as is desc's "from the end" default.
        const cursor = query.cursorText === '' ? -1n : query.cursor;
        sse.open(request, response, {
          list: items,
          cursor,
          limit: query.limit,
          includeFailed: query.includeFailed,
          render,
        });
        return;
      }
      const records = page(items, query);
      response.setHeader('latest-ledger', String(history.latestLedger));
      sendJson(response, 200, {
        _links: pageLinks(base, url, query, records),
        _embedded: { records: records.map(render) },
      });
    });
  }

  listRoute('/accounts/:id/payments', ({ id }) => history.payments(id), true);
  listRoute('/accounts/:id/transactions', ({ id }) => history.transactions(id), false);
  listRoute('/payments', () => history.payments(), true);
  listRoute('/transactions', () => history.transactions(), false);

  route('GET', '/transactions/:hash', (request, response, { hash }) => {
    if (wantsStream(request)) return sendProblem(response, notAcceptable());
    if (!/^[0-9a-f]{64}$/.test(hash!)) {
      return sendProblem(
        response,
        badRequest('tx_id', 'Transaction hash must be a hex-encoded, lowercase SHA-256 hash'),
      );
    }
    const found = history.transaction(hash!);
    if (!found) return sendProblem(response, notFound());
    sendJson(response, 200, found.record);
  });

  let lostAnswers = 0;
  const submitted: string[] = [];

  route('POST', '/transactions', async (request, response) => {
    const form = new URLSearchParams(await readBody(request));
    const xdrText = form.get('tx') ?? '';
    let tx: Transaction;
    try {
      const parsed = TransactionBuilder.fromXDR(xdrText, networkPassphrase);
      if (parsed instanceof FeeBumpTransaction) throw new Error('fee bumps are not supported by the fake');
      tx = parsed;
    } catch {
      return sendProblem(response, malformed(xdrText));
    }
    const hash = Buffer.from(tx.hash()).toString('hex');
    const existing = history.transaction(hash);
    if (existing) return sendJson(response, 200, existing.record);
    const fail = (code: string) => sendProblem(response, transactionFailed(xdrText, code));
    const account = accounts.get(tx.source);
    if (!account) return fail('tx_no_source_account');
    if (BigInt(tx.sequence) !== BigInt(account.sequence) + 1n) return fail('tx_bad_seq');
    const maxTime = Number(tx.timeBounds?.maxTime ?? '0');
    if (maxTime !== 0 && maxTime < Math.floor(Date.now() / 1000)) return fail('tx_too_late');
    if (signedWeight(tx, account) < Math.max(1, account.thresholds.med_threshold)) return fail('tx_bad_auth');
    if (
      tx.operations.some(
        (op) => op.type !== 'payment' || (op.source !== undefined && op.source !== tx.source),
      )
    ) {
      return sendProblem(response, malformed(xdrText));
    }
    const operations = tx.operations.map((op) => {
      const payment = op as { destination: string; asset: Asset; amount: string };
      return {
        type: 'payment' as const,
        destination: payment.destination,
        asset: payment.asset,
        amount: payment.amount,
      };
    });
    const built = history.append({
      source: Keypair.fromPublicKey(tx.source),
      operations,
      memo: tx.memo,
      sequence: tx.sequence,
      baseFee: Number(tx.fee) / tx.operations.length,
      envelope: tx,
    });
    account.sequence = tx.sequence;
    submitted.push(hash);
    if (lostAnswers > 0) {
      lostAnswers--;
      return sendProblem(response, serverProblem(504));
    }
    sendJson(response, 200, built.transaction);
  });

  route('GET', '/operations/:id', (request, response, { id }, url) => {
    if (wantsStream(request)) return sendProblem(response, notAcceptable());
    const join = url.searchParams.get('join') ?? '';
    if (join !== '' && join !== 'transactions')
      return sendProblem(response, badRequest('join', 'Accepted values: transactions'));
    const found = /^\d+$/.test(id!) ? history.operation(id!) : undefined;
    if (!found) return sendProblem(response, notFound());
    sendJson(response, 200, join ? joinTransaction(found) : found.record);
  });

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://fake-horizon');
    const method = request.method ?? 'GET';
    requests.push({ method, url: `${url.pathname}${url.search}` });
    const entry: FakeRequest = {
      method,
      url: `${url.pathname}${url.search}`,
      path: url.pathname,
      accept: header(request, 'accept'),
      lastEventId: header(request, 'last-event-id'),
      stream: wantsStream(request),
      get status() {
        return response.headersSent ? response.statusCode : undefined;
      },
    };
    requestLog.push(entry);

    if (failures.remaining > 0 && (!failures.filter || failures.filter(entry))) {
      failures.remaining--;
      return sendProblem(response, serverProblem(failures.status));
    }
    for (const candidate of routes) {
      if (candidate.method !== request.method) continue;
      const match = candidate.pattern.exec(url.pathname);
      if (!match) continue;
      const params = Object.fromEntries(
        candidate.names.map((name, i) => [name, decodeURIComponent(match[i + 1]!)]),
      );
      // A throwing handler (sync or async) answers 500 rather than taking the test process down.
      Promise.resolve()
        .then(() => candidate.handler(request, response, params, url))
        .catch((error: unknown) => {
          if (response.headersSent) return void response.destroy();
          sendProblem(response, { ...serverProblem(500), detail: String(error) });
        });
      return;
    }
    sendProblem(response, notFound());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;

  function appendPayment(payment: PaymentInput, appendOptions?: { ledger?: number }): BuiltTransaction {
    return history.append(paymentTransaction(payment), appendOptions);
  }

  return {
    url: base,
    requests,
    requestLog,
    get latestLedger() {
      return history.latestLedger;
    },
    addAccount(id, accountOptions = {}) {
      accounts.set(id, {
        id,
        sequence: accountOptions.sequence ?? `${LEDGER * 4_294_967_296}`,
        signers: (accountOptions.signers ?? [{ key: id, weight: 1 }]).map((s) => ({
          type: 'ed25519_public_key',
          ...s,
        })),
        thresholds: {
          low_threshold: 0,
          med_threshold: 0,
          high_threshold: 0,
          ...accountOptions.thresholds,
        },
        nativeBalance: accountOptions.nativeBalance ?? '10000.0000000',
        lastModifiedLedger: LEDGER,
      });
    },
    removeAccount(id) {
      accounts.delete(id);
    },
    appendTransaction: (spec, appendOptions) => history.append(spec, appendOptions),
    appendPayment,
    pay: appendPayment,
    seedPayments(account, n, seed = {}) {
      const from = seed.from ?? Keypair.random();
      const asset = seed.asset ?? Asset.native();
      const amount = seed.amount ?? ((i: number) => `${i + 1}`);
      const perLedger = seed.perLedger ?? 100;
      const built: BuiltTransaction[] = [];
      for (let i = 0; i < n; i++) {
        const ledger = i % perLedger === 0 ? history.latestLedger + 1 : history.latestLedger;
        const payment = { from, destination: account, asset, amount: amount(i), memo: seed.memo?.(i) };
        built.push(appendPayment(payment, { ledger }));
      }
      return built;
    },
    dropStreams: () => sse.dropAll(),
    setSilent: (silent) => sse.setSilent(silent),
    failNext(n, status = 500, filter) {
      failures.remaining = n;
      failures.status = status;
      failures.filter = filter;
    },
    openStreams: () => sse.list(),
    loseNextSubmissionAnswers(n) {
      lostAnswers = n;
    },
    submitted,
    close() {
      sse.closeAll();
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Paging.

interface ListQuery {
  /** The resolved cursor as Horizon echoes it in links ('' when none was given). */
  cursorText: string;
  cursor: bigint;
  order: 'asc' | 'desc';
  limit: number;
  includeFailed: boolean;
  join: boolean;
}

const MAX_INT64 = (1n << 63n) - 1n;

/** Horizon's paging parameters (`actions.GetPageQuery`), `Last-Event-ID` overriding `cursor`. */
function listQuery(
  request: IncomingMessage,
  url: URL,
  latestLedger: number,
  joinable: boolean,
): ListQuery | { problem: Problem } {
  let cursorText = url.searchParams.get('cursor') ?? '';
  if (cursorText === 'now') cursorText = nowCursor(latestLedger).toString();
  const lastEventId = header(request, 'last-event-id');
  if (lastEventId) cursorText = lastEventId;
  if (cursorText !== '' && !/^\d+$/.test(cursorText))
    return { problem: badRequest('cursor', 'invalid value') };

  const orderText = url.searchParams.get('order') ?? '';
  if (orderText !== '' && orderText !== 'asc' && orderText !== 'desc') {
    return { problem: badRequest('order', 'order: invalid value') };
  }
  const order = orderText === 'desc' ? 'desc' : 'asc';

  const limitText = url.searchParams.get('limit') ?? '';
  let limit = 10;
  if (limitText !== '') {
    if (!/^-?\d+$/.test(limitText)) return { problem: badRequest('limit', 'unparseable value') };
    limit = Number(limitText);
    if (limit <= 0) return { problem: badRequest('limit', 'invalid limit: non-positive value provided') };
    if (limit > 200) {
      return { problem: badRequest('limit', 'invalid limit: value provided that is over limit max of 200') };
    }
  }

  const includeFailedText = url.searchParams.get('include_failed') ?? '';
  if (!['', 'true', 'false'].includes(includeFailedText)) {
    return { problem: badRequest('include_failed', 'Filter should be true or false') };
  }

  const joinText = joinable ? (url.searchParams.get('join') ?? '') : '';
  if (joinText !== '' && joinText !== 'transactions') {
    return { problem: badRequest('join', 'Accepted values: transactions') };
  }

  const cursor = cursorText === '' ? (order === 'asc' ? -1n : MAX_INT64) : BigInt(cursorText);
  return {
    cursorText,
    cursor,
    order,
    limit,
    includeFailed: includeFailedText === 'true',
    join: joinText !== '',
  };
}

/** `self`, `next`, `prev` as Horizon's `hal.Page.PopulateLinks` builds them: every query parameter kept, sorted. */
function pageLinks(base: string, url: URL, query: ListQuery, records: Stored[]) {
  const link = (cursor: string, order: string) => {
    const params = new URLSearchParams(url.searchParams);
    params.set('cursor', cursor);
    params.set('limit', String(query.limit));
    params.set('order', order);
    params.sort();
    return { href: `${base}${url.pathname}?${params.toString()}` };
  };
  const inverted = query.order === 'asc' ? 'desc' : 'asc';
  const first = records[0];
  const last = records[records.length - 1];
  return {
    self: link(query.cursorText, query.order),
    next: link(last ? last.pt.toString() : query.cursorText, query.order),
    prev: link(first ? first.pt.toString() : query.cursorText, inverted),
  };
}

/** The operation with its transaction embedded under `transaction`, right after `transaction_hash`. */
function joinTransaction(operation: StoredOperation): Record<string, unknown> {
  const joined: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(operation.record)) {
    joined[key] = value;
    if (key === 'transaction_hash') joined.transaction = operation.transaction.record;
  }
  return joined;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (text += chunk));
    request.on('end', () => resolve(text));
    request.on('error', reject);
  });
}

/** The weight of the account's signers that signed `tx` (each signature verified against its key). */
function signedWeight(tx: Transaction, account: AccountState): number {
  const hash = tx.hash();
  let weight = 0;
  for (const signer of account.signers) {
    if (signer.type !== 'ed25519_public_key' || signer.weight === 0) continue;
    const key = Keypair.fromPublicKey(signer.key);
    const hint = key.signatureHint();
    const signed = tx.signatures.some(
      (s) =>
        Buffer.from(s.hint.toBytes()).equals(Buffer.from(hint)) &&
        key.verify(hash, Buffer.from(s.signature.toBytes())),
    );
    if (signed) weight += signer.weight;
  }
  return weight;
}

function wantsStream(request: IncomingMessage): boolean {
  return (request.headers.accept ?? '').includes('text/event-stream');
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

// ---------------------------------------------------------------------------------------------------------------
// Responses.

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2);
  response.writeHead(status, {
    'content-type': 'application/hal+json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'access-control-allow-origin': '*',
  });
  response.end(text);
}

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  extras?: Record<string, unknown>;
}

function sendProblem(response: ServerResponse, problem: Problem): void {
  const text = JSON.stringify(problem, null, 2);
  response.writeHead(problem.status, {
    'content-type': 'application/problem+json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'access-control-allow-origin': '*',
  });
  response.end(text);
}

function badRequest(field: string, reason: string): Problem {
  return {
    type: 'https://stellar.org/horizon-errors/bad_request',
    title: 'Bad Request',
    status: 400,
    detail: 'The request you sent was invalid in some way.',
    extras: { invalid_field: field, reason },
  };
}

/** Horizon's answer to a submission core refused: `transaction_failed` with the result codes. */
function transactionFailed(envelopeXdr: string, code: string): Problem {
  return {
    type: 'https://stellar.org/horizon-errors/transaction_failed',
    title: 'Transaction Failed',
    status: 400,
    detail:
      'The transaction failed when submitted to the stellar network. The `extras.result_codes` field on this ' +
      'response contains further details.  Descriptions of each code can be found at: ' +
      'https://developers.stellar.org/docs/data/apis/horizon/api-reference/errors/http-status-codes/horizon-specific/transaction-failed',
    extras: { envelope_xdr: envelopeXdr, result_codes: { transaction: code } },
  };
}

function malformed(envelopeXdr: string): Problem {
  return {
    type: 'https://stellar.org/horizon-errors/transaction_malformed',
    title: 'Transaction Malformed',
    status: 400,
    detail:
      'Horizon could not decode the transaction envelope in this request. A transaction should be an ' +
      'XDR-encoded `TransactionEnvelope` union type, base64 encoded. Please ensure you have encoded the ' +
      'envelope properly.',
    extras: { envelope_xdr: envelopeXdr },
  };
}

function notAcceptable(): Problem {
  return {
    type: 'https://stellar.org/horizon-errors/not_acceptable',
    title: 'An acceptable response content-type could not be provided for this request',
    status: 406,
    detail: 'The Accept header on your request did not match any content type this endpoint supports.',
  };
}

/** Horizon's problem for a 5xx (or any injected) status. */
function serverProblem(status: number): Problem {
  switch (status) {
    case 500:
      return {
        type: 'https://stellar.org/horizon-errors/server_error',
        title: 'Internal Server Error',
        status,
        detail:
          'An error occurred while processing this request.  This is usually due to a bug within the server ' +
          'software.  Trying this request again may succeed if the bug is transient, otherwise please report ' +
          'this issue to the issue tracker at: https://github.com/stellar/go/issues. Please include this ' +
          'response in your issue.',
      };
    case 503:
      return {
        type: 'https://stellar.org/horizon-errors/service_unavailable',
        title: 'Service Unavailable',
        status,
        detail: 'The request cannot be serviced at this time.',
      };
    case 504:
      return {
        type: 'https://stellar.org/horizon-errors/timeout',
        title: 'Timeout',
        status,
        detail:
          'Your request timed out before completing.  Please try your request again. If you are submitting a ' +
          'transaction make sure you are sending exactly the same transaction (with the same sequence number).',
      };
    case 429:
      return {
        type: 'https://stellar.org/horizon-errors/rate_limit_exceeded',
        title: 'Rate Limit Exceeded',
        status,
        detail:
          'The rate limit for the requesting IP address is over its alloted limit.  The allowed limit and ' +
          'requests left per time period are communicated to clients via the http response headers ' +
          "'X-RateLimit-*' headers.",
      };
    default:
      return {
        type: 'https://stellar.org/horizon-errors/server_error',
        title: 'Injected failure',
        status,
        detail: `failNext(${status}) was called on the fake Horizon.`,
      };
  }
}

function notFound(): Problem {
  return {
    type: 'https://stellar.org/horizon-errors/not_found',
    title: 'Resource Missing',
    status: 404,
    detail:
      'The resource at the url requested was not found.  This usually occurs for one of two reasons:  ' +
      'The url requested is not valid, or no data in our database could be found with the parameters provided.',
  };
}

function rootRecord(base: string, networkPassphrase: string, latestLedger: number, latestClosedAt: string) {
  return {
    _links: {
      account: { href: `${base}/accounts/{account_id}`, templated: true },
      accounts: {
        href: `${base}/accounts{?signer,sponsor,asset,liquidity_pool,cursor,limit,order}`,
        templated: true,
      },
      ledger: { href: `${base}/ledgers/{sequence}`, templated: true },
      ledgers: { href: `${base}/ledgers{?cursor,limit,order}`, templated: true },
      operations: { href: `${base}/operations{?cursor,limit,order,include_failed}`, templated: true },
      payments: { href: `${base}/payments{?cursor,limit,order,include_failed}`, templated: true },
      self: { href: `${base}/` },
      transaction: { href: `${base}/transactions/{hash}`, templated: true },
      transactions: { href: `${base}/transactions{?cursor,limit,order}`, templated: true },
    },
    horizon_version: '23.0.0-fake',
    core_version: 'stellar-core 23.0.0 (fake)',
    ingest_latest_ledger: latestLedger,
    history_latest_ledger: latestLedger,
    history_latest_ledger_closed_at: latestClosedAt,
    history_elder_ledger: 2,
    core_latest_ledger: latestLedger,
    network_passphrase: networkPassphrase,
    current_protocol_version: 23,
    supported_protocol_version: 23,
    core_supported_protocol_version: 23,
  };
}

function accountRecord(base: string, account: AccountState) {
  const self = `${base}/accounts/${account.id}`;
  return {
    _links: {
      self: { href: self },
      transactions: { href: `${self}/transactions{?cursor,limit,order}`, templated: true },
      operations: { href: `${self}/operations{?cursor,limit,order}`, templated: true },
      payments: { href: `${self}/payments{?cursor,limit,order}`, templated: true },
      effects: { href: `${self}/effects{?cursor,limit,order}`, templated: true },
      offers: { href: `${self}/offers{?cursor,limit,order}`, templated: true },
      trades: { href: `${self}/trades{?cursor,limit,order}`, templated: true },
      data: { href: `${self}/data/{key}`, templated: true },
    },
    id: account.id,
    account_id: account.id,
    sequence: account.sequence,
    sequence_ledger: account.lastModifiedLedger,
    sequence_time: '1795003200',
    subentry_count: Math.max(0, account.signers.filter((s) => s.key !== account.id).length),
    last_modified_ledger: account.lastModifiedLedger,
    last_modified_time: CLOSED_AT,
    thresholds: { ...account.thresholds },
    flags: {
      auth_required: false,
      auth_revocable: false,
      auth_immutable: false,
      auth_clawback_enabled: false,
    },
    balances: [
      {
        balance: account.nativeBalance,
        buying_liabilities: '0.0000000',
        selling_liabilities: '0.0000000',
        asset_type: 'native',
      },
    ],
    // Horizon lists the master key last, with its weight (0 when disabled).
    signers: [
      ...account.signers.filter((s) => s.key !== account.id),
      ...account.signers.filter((s) => s.key === account.id),
    ].map((s) => ({ weight: s.weight, key: s.key, type: s.type })),
    num_sponsoring: 0,
    num_sponsored: 0,
    data: {},
    paging_token: account.id,
  };
}
