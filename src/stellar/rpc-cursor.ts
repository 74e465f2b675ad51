/**
 * Stellar RPC event positions. An event id (also a `getEvents` cursor) is `<TOID>-<event index>`, the TOID
 * zero-padded to 19 digits and the index to 10 (stellar/go `protocols/rpc/cursor.go`), so ids sort as
 * strings. TOID = ledger << 32 | transaction order << 12 | operation index. RPC numbers operations from
 * 0; Horizon's operation ids are the same TOIDs with operations numbered from 1.
 */

const TRANSACTION_MASK = (1n << 20n) - 1n;
const OPERATION_MASK = (1n << 12n) - 1n;
const MAX_EVENT = 4_294_967_295n;
const CURSOR = /^(\d{1,19})-(\d{1,10})$/;

export interface RpcPosition {
  ledger: number;
  tx: number;
  op: number;
  event: number;
}

export function isRpcCursor(value: string): boolean {
  return CURSOR.test(value);
}

export function parseRpcCursor(cursor: string): RpcPosition {
  const match = CURSOR.exec(cursor);
  if (!match) throw new RangeError(`not a Stellar RPC event id: ${JSON.stringify(cursor)}`);
  const toid = BigInt(match[1]!);
  return {
    ledger: Number(toid >> 32n),
    tx: Number((toid >> 12n) & TRANSACTION_MASK),
    op: Number(toid & OPERATION_MASK),
    event: Number(match[2]),
  };
}

export function formatRpcCursor(position: RpcPosition): string {
  const toid = (BigInt(position.ledger) << 32n) | (BigInt(position.tx) << 12n) | BigInt(position.op);
  return `${toid.toString().padStart(19, '0')}-${position.event.toString().padStart(10, '0')}`;
}

/** The cursor after every event of `ledger` (RPC answers the same when a scan ends there). */
export function endOfLedger(ledger: number): string {
  return formatRpcCursor({
    ledger,
    tx: Number(TRANSACTION_MASK),
    op: Number(OPERATION_MASK),
    event: Number(MAX_EVENT),
  });
}

/** True when `cursor` is after every event of its ledger. */
export function isEndOfLedger(cursor: string): boolean {
  return cursor === endOfLedger(parseRpcCursor(cursor).ledger);
}

export function ledgerOf(cursor: string): number {
  return parseRpcCursor(cursor).ledger;
}

/** The TOID of a position's operation with Horizon's numbering (operations from 1): its operation id. */
export function horizonOperationId(position: Pick<RpcPosition, 'ledger' | 'tx' | 'op'>): string {
  return (
    (BigInt(position.ledger) << 32n) |
    (BigInt(position.tx) << 12n) |
    BigInt(position.op + 1)
  ).toString();
}

/**
 * The RPC cursor after the operation a Horizon paging token (an operation id) names, so a watcher that
 * switches from Horizon to RPC resumes exactly where Horizon left off. `0` (Horizon's beginning) maps to
 * the start of the chain.
 */
export function rpcCursorAfterHorizonToken(token: string): string {
  if (!/^\d+$/.test(token)) throw new RangeError(`not a Horizon paging token: ${JSON.stringify(token)}`);
  const toid = BigInt(token);
  const ledger = Number(toid >> 32n);
  const op = Number(toid & OPERATION_MASK);
  if (op === 0)
    return ledger === 0 ? formatRpcCursor({ ledger: 0, tx: 0, op: 0, event: 0 }) : endOfLedger(ledger - 1);
  const tx = Number((toid >> 12n) & TRANSACTION_MASK);
  return formatRpcCursor({ ledger, tx, op: op - 1, event: Number(MAX_EVENT) });
}

/**
 * The Horizon paging token to page payments after, from an RPC cursor. Horizon lists whole operations, and
 * an event id names an operation whose payment to us was seen, so Horizon resumes after that operation.
 */
export function horizonTokenAfter(cursor: string): string {
  const position = parseRpcCursor(cursor);
  if (isEndOfLedger(cursor)) return (BigInt(position.ledger + 1) << 32n).toString();
  return horizonOperationId(position);
}

/** The ledger a Horizon paging token (an operation's TOID) is in. */
export function ledgerOfHorizonToken(token: string): number {
  return Number(BigInt(token) >> 32n);
}
