/**
 * A fake Stellar RPC for tests: a real HTTP server on 127.0.0.1 speaking JSON-RPC 2.0 (`POST /`), so the
 * SDK's `rpc.Server` talks to it unchanged. Methods: `getEvents`, `getLatestLedger`, `getTransaction`,
 * `getHealth`, `getNetwork`.
 *
 * Shapes and rules follow Stellar RPC itself, checked against:
 * - the parameters and result fields of `getEvents` documented at
 *   https://developers.stellar.org/network/soroban-rpc/methods/getEvents (also in the OpenRPC document
 *   https://developers.stellar.org/stellar-rpc.openrpc.json, and QuickNode's copy,
 *   https://www.quicknode.com/docs/stellar/getEvents); `test/integration/watcher/rpc-payments-sdk.test.ts`
 *   checks the fake answers with exactly those fields: `startLedger` or
 *   `pagination.cursor` (not both), `filters` of `{type, contractIds, topics}` (at most 5 filters, 5 topic
 *   patterns each, segments base64 ScVal or `*`), `pagination.limit`; answer `{events, cursor,
 *   latestLedger, oldestLedger, latestLedgerCloseTime, oldestLedgerCloseTime}`, each event `{type, ledger,
 *   ledgerClosedAt, contractId, id, operationIndex, transactionIndex, txHash, inSuccessfulContractCall,
 *   topic, value}`;
 * - stellar/stellar-rpc `cmd/stellar-rpc/internal/methods/get_events.go`: a cursor resumes after its event;
 *   a start outside the retention window is refused with code -32600 "startLedger must be within the
 *   ledger range: <oldest> - <latest>"; a scan covers at most 10,000 ledgers; the answer's `cursor` is the
 *   last event's id when the page is full, else the end of the scanned window;
 * - stellar/go `protocols/rpc/cursor.go` for ids (`%019d-%010d` of TOID and event index), and
 *   stellar-rpc `internal/db/event.go` (operations numbered from 0, failed transactions' events kept with
 *   `inSuccessfulContractCall: false`).
 *
 * Events are CAP-67 `transfer` events built with the SDK (`rpc-events.ts`), added one by one
 * (`addTransfer`) or derived from a real signed transaction of the fake Horizon (`addTransaction`: each
 * payment or path payment becomes the transfer to its destination, `to_muxed_id` carrying the muxed id or
 * the memo as CAP-67 says). Controls: `setOldestLedger` (retention), `closeLedgers`, `failNext`,
 * `setDown` (every request answered 503), `requests` (every call with its params).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Asset, FeeBumpTransaction, MuxedAccount, type Transaction, type rpc } from '@stellar/stellar-sdk';
import { amounts } from '../../machines/index.ts';
import { endOfLedger, parseRpcCursor } from '../../src/stellar/rpc-cursor.ts';
import type { BuiltTransaction } from './horizon-records.ts';
import { rawTransferEvent, type TransferSpec } from './rpc-events.ts';

export interface FakeStellarRpcOptions {
  networkPassphrase: string;
  /** Default 1000. */
  latestLedger?: number;
  /** Default 1. */
  oldestLedger?: number;
}

export interface FakeRpcCall {
  method: string;
  params: Record<string, unknown>;
  /** HTTP status answered, or the JSON-RPC error code. */
  outcome: 'ok' | number;
}

export interface FakeStellarRpc {
  url: string;
  readonly latestLedger: number;
  readonly oldestLedger: number;
  readonly calls: readonly FakeRpcCall[];
  /**
   * Adds a transfer event (in a new ledger unless `spec.ledger` is given); returns it as served. With
   * `envelope`, the event is that transaction's (its hash), and getTransaction knows it.
   */
  addTransfer(
    spec: Omit<TransferSpec, 'ledger' | 'txHash'> & { ledger?: number },
    envelope?: Transaction | FeeBumpTransaction,
  ): rpc.Api.RawEventResponse;
  /** The transfers a real signed transaction of the fake Horizon emits, in its ledger; also known to getTransaction. */
  addTransaction(built: BuiltTransaction): rpc.Api.RawEventResponse[];
  closeLedgers(n: number): void;
  setOldestLedger(ledger: number): void;
  /** The next `n` calls (of `method`, if given) fail: HTTP 503, or a JSON-RPC error with that code. */
  failNext(n: number, options?: { method?: string; jsonRpcCode?: number }): void;
  setDown(down: boolean): void;
  close(): Promise<void>;
}

const SCAN_LIMIT = 10_000;
const MAX_LIMIT = 10_000;
const DEFAULT_LIMIT = 100;

class RpcError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

export async function startFakeStellarRpc(options: FakeStellarRpcOptions): Promise<FakeStellarRpc> {
  const { networkPassphrase } = options;
  let latest = options.latestLedger ?? 1_000;
  let oldest = options.oldestLedger ?? 1;
  let down = false;
  const failures: { method: string | undefined; code: number | undefined }[] = [];
  const events: rpc.Api.RawEventResponse[] = [];
  const transactions = new Map<
    string,
    { envelopeXdr: string; ledger: number; successful: boolean; feeBump: boolean }
  >();
  const calls: FakeRpcCall[] = [];
  const closeTime = (ledger: number) => Math.floor(Date.UTC(2026, 11, 3) / 1000 + ledger * 5);

  function insert(event: rpc.Api.RawEventResponse): void {
    events.push(event);
    events.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    latest = Math.max(latest, event.ledger);
  }

  function matches(event: rpc.Api.RawEventResponse, filters: rpc.Api.EventFilter[]): boolean {
    if (filters.length === 0) return true;
    return filters.some((filter) => {
      if (filter.type !== undefined && filter.type !== event.type) return false;
      if (filter.contractIds?.length && !filter.contractIds.includes(event.contractId)) return false;
      if (!filter.topics?.length) return true;
      const topic = event.topic ?? [];
      return filter.topics.some(
        (pattern) =>
          pattern.length === topic.length &&
          pattern.every((segment, i) => segment === '*' || segment === topic[i]),
      );
    });
  }

  function getEvents(params: Record<string, unknown>) {
    const pagination = (params.pagination ?? {}) as { cursor?: string; limit?: number };
    const filters = (params.filters ?? []) as rpc.Api.EventFilter[];
    if (filters.length > 5) throw new RpcError(-32602, 'maximum 5 filters per request');
    if (filters.some((f) => (f.topics?.length ?? 0) > 5 || (f.contractIds?.length ?? 0) > 5)) {
      throw new RpcError(-32602, 'maximum 5 topics and 5 contract IDs per filter');
    }
    const limit = pagination.limit ?? DEFAULT_LIMIT;
    if (limit > MAX_LIMIT) throw new RpcError(-32602, `limit must not exceed ${MAX_LIMIT}`);
    let startLedger: number;
    let after: string | null = null;
    if (pagination.cursor !== undefined) {
      if (params.startLedger !== undefined)
        throw new RpcError(-32602, 'ledger ranges and cursor cannot both be set');
      startLedger = parseRpcCursor(pagination.cursor).ledger;
      after = pagination.cursor;
    } else {
      startLedger = Number(params.startLedger);
    }
    if (!(startLedger >= oldest && startLedger <= latest)) {
      throw new RpcError(-32600, `startLedger must be within the ledger range: ${oldest} - ${latest}`);
    }
    const endLedger = Math.min(startLedger + SCAN_LIMIT, latest + 1);
    const found = events
      .filter((e) => e.ledger >= startLedger && e.ledger < endLedger && (after === null || e.id > after))
      .filter((e) => matches(e, filters))
      .slice(0, limit);
    return {
      events: found,
      cursor: found.length === limit ? found.at(-1)!.id : endOfLedger(endLedger - 1),
      latestLedger: latest,
      oldestLedger: oldest,
      latestLedgerCloseTime: String(closeTime(latest)),
      oldestLedgerCloseTime: String(closeTime(oldest)),
    };
  }

  function getTransaction(params: Record<string, unknown>) {
    const known = transactions.get(String(params.hash));
    const base = {
      latestLedger: latest,
      latestLedgerCloseTime: String(closeTime(latest)),
      oldestLedger: oldest,
      oldestLedgerCloseTime: String(closeTime(oldest)),
      txHash: String(params.hash),
    };
    if (known === undefined || known.ledger < oldest) return { ...base, status: 'NOT_FOUND' };
    return {
      ...base,
      status: known.successful ? 'SUCCESS' : 'FAILED',
      ledger: known.ledger,
      createdAt: String(closeTime(known.ledger)),
      applicationOrder: 1,
      feeBump: known.feeBump,
      envelopeXdr: known.envelopeXdr,
    };
  }

  const methods: Record<string, (params: Record<string, unknown>) => unknown> = {
    getEvents,
    getTransaction,
    // Without `headerXdr`/`metadataXdr` (Mooring reads the sequence raw): the SDK's parsed form needs them.
    getLatestLedger: () => ({
      id: 'ab'.repeat(32),
      protocolVersion: 23,
      sequence: latest,
      closeTime: String(closeTime(latest)),
    }),
    getHealth: () => ({
      status: 'healthy',
      latestLedger: latest,
      oldestLedger: oldest,
      ledgerRetentionWindow: latest - oldest + 1,
    }),
    getNetwork: () => ({ passphrase: networkPassphrase, protocolVersion: 23 }),
  };

  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      let id: unknown = null;
      let method: string;
      let params: Record<string, unknown>;
      const answer = (payload: object) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ jsonrpc: '2.0', id, ...payload }));
      };
      try {
        ({
          id,
          method,
          params = {},
        } = JSON.parse(body) as { id: unknown; method: string; params?: Record<string, unknown> });
      } catch {
        answer({ error: { code: -32700, message: 'parse error' } });
        return;
      }
      const failure = failures.findIndex((f) => f.method === undefined || f.method === method);
      if (down || failure >= 0) {
        const code = failure >= 0 ? failures.splice(failure, 1)[0]!.code : undefined;
        calls.push({ method, params, outcome: code ?? 503 });
        if (code !== undefined) {
          answer({ error: { code, message: 'injected failure' } });
        } else {
          response.writeHead(503, { 'content-type': 'text/plain' });
          response.end('service unavailable');
        }
        return;
      }
      const handler = methods[method];
      try {
        if (handler === undefined) throw new RpcError(-32601, `method "${method}" not found`);
        const result = handler(params);
        calls.push({ method, params, outcome: 'ok' });
        answer({ result });
      } catch (error) {
        const code = error instanceof RpcError ? error.code : -32603;
        calls.push({ method, params, outcome: code });
        answer({ error: { code, message: error instanceof Error ? error.message : String(error) } });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    get latestLedger() {
      return latest;
    },
    get oldestLedger() {
      return oldest;
    },
    calls,
    addTransfer(spec, envelope) {
      const ledger = spec.ledger ?? latest + 1;
      const txHash = envelope === undefined ? undefined : Buffer.from(envelope.hash()).toString('hex');
      const event = rawTransferEvent({ ...spec, ledger, ...(txHash && { txHash }) }, networkPassphrase);
      insert(event);
      if (envelope && txHash) {
        transactions.set(txHash, {
          envelopeXdr: envelope.toEnvelope().toXDR('base64'),
          ledger,
          successful: spec.successful ?? true,
          feeBump: envelope instanceof FeeBumpTransaction,
        });
      }
      return event;
    },
    addTransaction(built) {
      const envelope = built.envelope;
      const inner = envelope instanceof FeeBumpTransaction ? envelope.innerTransaction : envelope;
      const successful = built.transaction.successful;
      const hash = built.transaction.hash;
      const added: rpc.Api.RawEventResponse[] = [];
      for (const op of built.operations) {
        if (!['payment', 'path_payment_strict_receive', 'path_payment_strict_send'].includes(op.type))
          continue;
        const record = op as unknown as {
          paging_token: string;
          from: string;
          to: string;
          to_muxed?: string;
          asset_type: string;
          asset_code?: string;
          asset_issuer?: string;
          amount: string;
        };
        const position = parseRpcCursor(`${record.paging_token.padStart(19, '0')}-0000000000`);
        const asset =
          record.asset_type === 'native'
            ? Asset.native()
            : new Asset(record.asset_code!, record.asset_issuer!);
        const event = rawTransferEvent(
          {
            ledger: position.ledger,
            tx: position.tx,
            op: position.op - 1,
            from: record.from,
            to: record.to,
            asset,
            amount: amounts.toStroops(record.amount),
            ...toMuxedId(record.to_muxed, inner.memo),
            txHash: hash,
            successful,
            closedAt: built.transaction.created_at,
          },
          networkPassphrase,
        );
        insert(event);
        added.push(event);
      }
      transactions.set(hash, {
        envelopeXdr: envelope.toEnvelope().toXDR('base64'),
        ledger: built.transaction.ledger,
        successful,
        feeBump: envelope instanceof FeeBumpTransaction,
      });
      return added;
    },
    closeLedgers(n) {
      latest += n;
    },
    setOldestLedger(ledger) {
      oldest = ledger;
    },
    failNext(n, failOptions = {}) {
      for (let i = 0; i < n; i++)
        failures.push({ method: failOptions.method, code: failOptions.jsonRpcCode });
    },
    setDown(value) {
      down = value;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** CAP-67: `to_muxed_id` is the destination's muxed id, else the transaction's memo, else absent. */
function toMuxedId(
  toMuxed: string | undefined,
  memo: { type: string; value: unknown },
): Pick<TransferSpec, 'toMuxedId'> {
  if (toMuxed !== undefined)
    return { toMuxedId: { u64: BigInt(MuxedAccount.fromAddress(toMuxed, '0').id()) } };
  switch (memo.type) {
    case 'id':
      return { toMuxedId: { u64: BigInt(String(memo.value)) } };
    case 'text':
      return { toMuxedId: { text: Buffer.from(memo.value as Uint8Array).toString('utf8') } };
    case 'hash':
    case 'return':
      return { toMuxedId: { bytes: Buffer.from(memo.value as Uint8Array) } };
    default:
      return {};
  }
}
