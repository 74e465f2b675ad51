/**
 * A fake Horizon for tests: a real HTTP server on 127.0.0.1 that answers with Horizon's JSON shapes, so
 * the SDK's `Horizon.Server` (and `createHorizonAccounts`) talk to it unchanged.
 *
 * Today: `GET /` (root) and `GET /accounts/:id`. Routes are a table of (method, path pattern, handler);
 * more endpoints (payments, transactions, SSE streams) are added with `route(...)` in `startFakeHorizon`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Networks } from '@stellar/stellar-sdk';

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

export interface FakeHorizon {
  /** Base URL, e.g. `http://127.0.0.1:54321` (no trailing slash). */
  url: string;
  /** Creates or replaces an account. */
  addAccount(id: string, options?: FakeAccountOptions): void;
  removeAccount(id: string): void;
  /** Every request received, oldest first (method and path with query). */
  readonly requests: { method: string; url: string }[];
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

export async function startFakeHorizon(options: { networkPassphrase?: string } = {}): Promise<FakeHorizon> {
  const networkPassphrase = options.networkPassphrase ?? Networks.TESTNET;
  const accounts = new Map<string, AccountState>();
  const requests: { method: string; url: string }[] = [];
  const routes: Route[] = [];
  let base = '';

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
    sendJson(response, 200, rootRecord(base, networkPassphrase));
  });

  route('GET', '/accounts/:id', (_request, response, { id }) => {
    const account = accounts.get(id!);
    if (!account) return sendProblem(response, notFound());
    sendJson(response, 200, accountRecord(base, account));
  });

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://fake-horizon');
    requests.push({ method: request.method ?? 'GET', url: `${url.pathname}${url.search}` });
    for (const candidate of routes) {
      if (candidate.method !== request.method) continue;
      const match = candidate.pattern.exec(url.pathname);
      if (!match) continue;
      const params = Object.fromEntries(
        candidate.names.map((name, i) => [name, decodeURIComponent(match[i + 1]!)]),
      );
      Promise.resolve(candidate.handler(request, response, params, url)).catch((error: unknown) => {
        sendProblem(response, {
          type: 'https://stellar.org/horizon-errors/server_error',
          title: 'Internal Server Error',
          status: 500,
          detail: String(error),
        });
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

  return {
    url: base,
    requests,
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
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

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

function rootRecord(base: string, networkPassphrase: string) {
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
    ingest_latest_ledger: LEDGER,
    history_latest_ledger: LEDGER,
    history_latest_ledger_closed_at: CLOSED_AT,
    history_elder_ledger: 2,
    core_latest_ledger: LEDGER,
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
