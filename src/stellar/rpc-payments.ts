/**
 * The payment source of `streams/` over Stellar RPC: `getEvents` for the CAP-67 `transfer` events to a
 * receiving account, decoded into the records the matcher reads (`rpc-transfers.ts`). Positions are RPC
 * event ids (`rpc-cursor.ts`); the pipeline (`watchPayments`) resumes from the last one it emitted.
 *
 * - Catch-up pages and the live follow are both `getEvents` from a cursor; the follow polls every
 *   `pollMs` and sends a keep-alive after each answer, so only an RPC that stops answering is silence.
 * - RPC scans at most 10,000 ledgers per call and answers with the cursor where its scan ended, events or
 *   not. That position reaches the watcher as a checkpoint record (ignored by the matcher, but its
 *   cursor is committed), at least every `checkpointLedgers` ledgers, so a quiet account's stored cursor
 *   stays inside RPC's retention window (about 7 days).
 * - A cursor older than the RPC's oldest ledger is a gap RPC cannot fill: `onRetentionGap` is told (each
 *   time it is met). With a Horizon source, the gap is caught up from Horizon's payments (whole
 *   operations, ids as Horizon's) up to a ledger inside the window, and RPC takes over from there; without
 *   one, `RetentionGapError` fails every attempt (the pipeline retries with backoff): never a silent skip.
 * - `getTransaction` only for events whose `to_muxed_id` needs the transaction's memo to be understood;
 *   it and `getLatestLedger` are read raw (`_getTransaction`, `_getLatestLedger`): we need the envelope and
 *   the sequence, and the SDK's parsers insist on result and ledger XDR we never read.
 */
import { Address, nativeToScVal, rpc } from '@stellar/stellar-sdk';
import {
  asyncScheduler,
  defer,
  from,
  lastValueFrom,
  mergeMap,
  repeat,
  timer,
  type SchedulerLike,
} from 'rxjs';
import {
  HEARTBEAT,
  type Heartbeat,
  type HorizonPaymentRecord,
  type PaymentPage,
  type PaymentSource,
} from '../../streams/index.ts';
import {
  endOfLedger,
  horizonTokenAfter,
  isEndOfLedger,
  isRpcCursor,
  ledgerOf,
  ledgerOfHorizonToken,
  rpcCursorAfterHorizonToken,
} from './rpc-cursor.ts';
import {
  decodeTransferEvent,
  envelopeMemo,
  resolveTransferMemo,
  type TransactionMemo,
} from './rpc-transfers.ts';

/** The record type of a checkpoint: a position with no payment, committed like any record. */
export const CHECKPOINT_TYPE = 'rpc_checkpoint';

/** Ledgers RPC's window must still hold past the end of a Horizon catch-up when RPC takes over. */
const HANDOVER_MARGIN_LEDGERS = 720;
/** `getTransaction` calls in flight at once for one page's memos. */
const MEMO_LOOKUPS_AT_ONCE = 8;
/** Events per `getEvents` of the live follow. */
const STREAM_LIMIT = 200;

export interface RetentionGap {
  account: string;
  cursor: string;
  cursorLedger: number;
  oldestLedger: number;
  /** `horizon`: the gap is caught up from Horizon; `none`: nothing can fill it. */
  catchUp: 'horizon' | 'none';
}

/** The stored cursor is older than what the RPC keeps: payments in between cannot be read from it. */
export class RetentionGapError extends Error {
  readonly gap: RetentionGap;
  constructor(gap: RetentionGap) {
    super(
      `Stellar RPC keeps ledgers from ${gap.oldestLedger} on, but the cursor of ${gap.account} is at ledger ` +
        `${gap.cursorLedger}: payments in between cannot be read (configure stellar.horizonUrl to catch up from Horizon)`,
    );
    this.name = 'RetentionGapError';
    this.gap = gap;
  }
}

/** A JSON-RPC error answer (the SDK throws the bare `{code, message}` object). */
export class RpcRequestError extends Error {
  readonly code: number | undefined;
  constructor(method: string, cause: unknown) {
    const { code, message } = (cause ?? {}) as { code?: unknown; message?: unknown };
    super(
      `Stellar RPC ${method} failed: ${typeof message === 'string' ? message : cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.name = 'RpcRequestError';
    this.code = typeof code === 'number' ? code : undefined;
  }
}

export interface RpcPaymentSourceOptions {
  networkPassphrase: string;
  /** Delay between polls of the live follow once caught up. */
  pollMs: number;
  /** Where a cursor older than RPC's retention is caught up from; none: the gap stops the account. */
  horizon?: PaymentSource<HorizonPaymentRecord> | null;
  /** A cursor was found older than the RPC's oldest ledger (each time it is met). */
  onRetentionGap?: (gap: RetentionGap) => void;
  /** An account read from RPC (not Horizon): any gap it had is over. */
  onRpcRead?: (account: string) => void;
  /** Longest run of ledgers the follow passes without emitting a checkpoint. Default 720 (about 1 h). */
  checkpointLedgers?: number;
  scheduler?: SchedulerLike;
  /** Sent as `X-App-Name`. */
  appName?: string;
}

/** The calls of `rpc.Server` the source uses (tests may pass a fake). */
export type RpcClient = Pick<rpc.Server, 'getEvents' | '_getLatestLedger' | '_getTransaction'>;

interface Fetched {
  records: HorizonPaymentRecord[];
  /** Where the next request starts. */
  next: string;
  caughtUp: boolean;
}

export function createRpcPaymentSource(
  rpcUrl: string,
  options: RpcPaymentSourceOptions,
  client: RpcClient = new rpc.Server(rpcUrl, {
    allowHttp: rpcUrl.startsWith('http://'),
    ...(options.appName !== undefined ? { headers: { 'X-App-Name': options.appName } } : {}),
  }),
): PaymentSource<HorizonPaymentRecord> {
  const { networkPassphrase } = options;
  const scheduler = options.scheduler ?? asyncScheduler;
  const checkpointLedgers = options.checkpointLedgers ?? 720;
  const transferTopic = nativeToScVal('transfer', { type: 'symbol' }).toXdr('base64');
  const filtersFor = (account: string): rpc.Api.EventFilter[] => [
    // One filter, one topic pattern: SAC transfers (exactly four topics) to this account, from anyone.
    { type: 'contract', topics: [[transferTopic, '*', new Address(account).toScVal().toXdr('base64'), '*']] },
  ];

  async function call<T>(method: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw error instanceof Error ? error : new RpcRequestError(method, error);
    }
  }

  async function latestCursor(): Promise<string> {
    // Raw: the sequence is all we need, and the SDK's parse also insists on the header and meta XDR.
    const latest = await call('getLatestLedger', () => client._getLatestLedger());
    return endOfLedger(latest.sequence);
  }

  async function memoOf(hash: string): Promise<TransactionMemo> {
    const answer = await call('getTransaction', () => client._getTransaction(hash));
    if (answer.status === 'NOT_FOUND' || answer.envelopeXdr === undefined) {
      throw new Error(`Stellar RPC does not know transaction ${hash} (needed for its memo)`);
    }
    return envelopeMemo(answer.envelopeXdr, networkPassphrase);
  }

  async function decode(events: readonly rpc.Api.EventResponse[]): Promise<HorizonPaymentRecord[]> {
    const decoded = events.map((event) => decodeTransferEvent(event, networkPassphrase));
    // The memos a page needs, a few transactions at a time (most pages need none or a handful).
    const hashes = [...new Set(events.filter((_, i) => decoded[i]?.pending).map((event) => event.txHash))];
    const memos = new Map<string, TransactionMemo>();
    for (let i = 0; i < hashes.length; i += MEMO_LOOKUPS_AT_ONCE) {
      const batch = hashes.slice(i, i + MEMO_LOOKUPS_AT_ONCE);
      const found = await Promise.all(batch.map((hash) => memoOf(hash)));
      batch.forEach((hash, j) => memos.set(hash, found[j]!));
    }
    const records: HorizonPaymentRecord[] = [];
    decoded.forEach((transfer, i) => {
      if (transfer === null) return; // filtered on four topics, so only a malformed event lands here
      records.push(
        transfer.pending === null
          ? transfer.record
          : resolveTransferMemo(transfer, memos.get(events[i]!.txHash)!),
      );
    });
    return records;
  }

  /** One `getEvents` after `cursor`; a gap in retention is caught up from Horizon or thrown. */
  async function fetchOnce(account: string, cursor: string, limit: number): Promise<Fetched> {
    let answer: rpc.Api.GetEventsResponse;
    try {
      answer = await client.getEvents({ filters: filtersFor(account), cursor, limit });
    } catch (error) {
      const range = ledgerRange(error);
      if (range === null || ledgerOf(cursor) >= range.oldest) throw wrap(error);
      // The end of the ledger just before the window leaves nothing unread: start at the window.
      if (isEndOfLedger(cursor) && ledgerOf(cursor) === range.oldest - 1) {
        answer = await call('getEvents', () =>
          client.getEvents({ filters: filtersFor(account), startLedger: range.oldest, limit }),
        );
      } else {
        return fromHorizon(account, cursor, range, limit);
      }
    }
    options.onRpcRead?.(account);
    const records = await decode(answer.events);
    const full = answer.events.length >= limit;
    return {
      records,
      next: answer.cursor,
      caughtUp: !full && ledgerOf(answer.cursor) >= answer.latestLedger,
    };
  }

  async function fromHorizon(
    account: string,
    cursor: string,
    range: { oldest: number; latest: number },
    limit: number,
  ): Promise<Fetched> {
    const gap: RetentionGap = {
      account,
      cursor,
      cursorLedger: ledgerOf(cursor),
      oldestLedger: range.oldest,
      catchUp: options.horizon ? 'horizon' : 'none',
    };
    options.onRetentionGap?.(gap);
    if (!options.horizon) throw new RetentionGapError(gap);
    // Horizon up to the end of `handover`, RPC after it: a ledger the window keeps for a while yet.
    const handover = Math.max(
      range.oldest,
      Math.min(range.oldest + HANDOVER_MARGIN_LEDGERS, range.latest) - 1,
    );
    const page = await lastValueFrom(from(options.horizon.page(account, horizonTokenAfter(cursor), limit)));
    const records: HorizonPaymentRecord[] = [];
    let reachedHandover = page.records.length < limit;
    for (const record of page.records) {
      if (ledgerOfHorizonToken(record.paging_token) > handover) {
        reachedHandover = true;
        break;
      }
      records.push({ ...record, paging_token: rpcCursorAfterHorizonToken(record.paging_token) });
    }
    if (reachedHandover) return { records, next: endOfLedger(handover), caughtUp: false };
    return { records, next: records.at(-1)?.paging_token ?? cursor, caughtUp: false };
  }

  /** Pages until it has records or has caught up with the RPC's latest ledger. */
  async function fetchPage(account: string, cursor: string, limit: number): Promise<Fetched> {
    let position: string;
    if (cursor === 'now') position = await latestCursor();
    // `0` (the watcher's `startFrom: 'beginning'`): before anything RPC keeps, so Horizon's history or a gap.
    else if (cursor === '0') position = rpcCursorAfterHorizonToken('0');
    else if (isRpcCursor(cursor)) position = cursor;
    else throw new RangeError(`not a Stellar RPC cursor: ${cursor}`);
    for (;;) {
      const fetched = await fetchOnce(account, position, limit);
      if (fetched.records.length > 0 || fetched.caughtUp || fetched.next === position) return fetched;
      // An empty scan window (RPC reads at most 10,000 ledgers a call), or the Horizon handover.
      if (!isEndOfLedger(fetched.next)) return fetched;
      position = fetched.next;
      if (ledgerOf(position) - ledgerOf(cursor) >= checkpointLedgers) return { ...fetched, records: [] };
    }
  }

  return {
    async page(account, cursor, limit): Promise<PaymentPage<HorizonPaymentRecord>> {
      const fetched = await fetchPage(account, cursor, limit);
      const last = fetched.records.at(-1)?.paging_token ?? cursor;
      const records =
        fetched.next > last || !isRpcCursor(last)
          ? [...fetched.records, checkpoint(fetched.next)]
          : fetched.records;
      // Fewer records than `limit` makes the pipeline switch to `stream`; a full page asks again from `next`.
      return { records, next: fetched.next };
    },

    stream(account, cursor) {
      return defer(() => {
        let position = cursor;
        let committedLedger = isRpcCursor(cursor) ? ledgerOf(cursor) : 0;
        let again = false;
        return defer(() => from(fetchPage(account, position, STREAM_LIMIT))).pipe(
          mergeMap((fetched): (HorizonPaymentRecord | Heartbeat)[] => {
            const items: (HorizonPaymentRecord | Heartbeat)[] = [...fetched.records];
            const last = fetched.records.at(-1)?.paging_token ?? position;
            if (fetched.records.length > 0) committedLedger = ledgerOf(last);
            if (fetched.next > last && ledgerOf(fetched.next) - committedLedger >= checkpointLedgers) {
              items.push(checkpoint(fetched.next));
              committedLedger = ledgerOf(fetched.next);
            }
            // Straight on while behind; wait a poll once caught up, or if RPC did not move us forward.
            again = !fetched.caughtUp && fetched.next > position;
            position = fetched.next > position ? fetched.next : position;
            items.push(HEARTBEAT);
            return items;
          }),
          repeat({ delay: () => timer(again ? 0 : options.pollMs, scheduler) }),
        );
      });
    },

    latest: () => latestCursor(),
  };
}

function checkpoint(cursor: string): HorizonPaymentRecord {
  return {
    id: `checkpoint:${cursor}`,
    paging_token: cursor,
    type: CHECKPOINT_TYPE,
    created_at: '',
    transaction_hash: '',
  };
}

/** The ledger range of RPC's "startLedger must be within the ledger range: 100 - 200" refusal. */
function ledgerRange(error: unknown): { oldest: number; latest: number } | null {
  const message = (error as { message?: unknown } | null)?.message;
  if (typeof message !== 'string') return null;
  const match = /ledger range: (\d+) - (\d+)/.exec(message);
  return match ? { oldest: Number(match[1]), latest: Number(match[2]) } : null;
}

function wrap(error: unknown): Error {
  return error instanceof Error ? error : new RpcRequestError('getEvents', error);
}
