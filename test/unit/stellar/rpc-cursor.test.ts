import { describe, expect, it } from 'vitest';
import {
  endOfLedger,
  formatRpcCursor,
  horizonOperationId,
  horizonTokenAfter,
  isEndOfLedger,
  parseRpcCursor,
  rpcCursorAfterHorizonToken,
} from '../../../src/stellar/rpc-cursor.ts';

describe('Stellar RPC cursors', () => {
  it('formats and parses as stellar/go does (TOID padded to 19 digits, event index to 10)', () => {
    // Ledger 1000, transaction 2, operation 0, event 1: TOID = 1000 << 32 | 2 << 12.
    const id = formatRpcCursor({ ledger: 1000, tx: 2, op: 0, event: 1 });
    expect(id).toBe(`${((1000n << 32n) | (2n << 12n)).toString().padStart(19, '0')}-0000000001`);
    expect(parseRpcCursor(id)).toEqual({ ledger: 1000, tx: 2, op: 0, event: 1 });
    expect(() => parseRpcCursor('now')).toThrow(RangeError);
  });

  it('the end of a ledger is the largest position in it, as RPC answers after a scan', () => {
    expect(endOfLedger(1000)).toBe(
      formatRpcCursor({ ledger: 1000, tx: 1_048_575, op: 4095, event: 4_294_967_295 }),
    );
    expect(isEndOfLedger(endOfLedger(1000))).toBe(true);
    expect(endOfLedger(1000) < formatRpcCursor({ ledger: 1001, tx: 0, op: 0, event: 0 })).toBe(true);
  });

  it('maps between Horizon operation ids (operations from 1) and RPC positions (from 0)', () => {
    const op = { ledger: 1000, tx: 3, op: 0 };
    const horizonId = horizonOperationId(op);
    expect(horizonId).toBe(((1000n << 32n) | (3n << 12n) | 1n).toString());
    // Switching to RPC after Horizon's token resumes after every event of that operation...
    const cursor = rpcCursorAfterHorizonToken(horizonId);
    expect(parseRpcCursor(cursor)).toEqual({ ...op, event: 4_294_967_295 });
    expect(cursor > formatRpcCursor({ ...op, event: 7 })).toBe(true);
    expect(cursor < formatRpcCursor({ ...op, op: 1, event: 0 })).toBe(true);
    // ...and catching up from Horizon after that cursor asks for the operations after the same one.
    expect(horizonTokenAfter(cursor)).toBe(horizonId);
    expect(horizonTokenAfter(endOfLedger(1000))).toBe((1001n << 32n).toString());
    expect(rpcCursorAfterHorizonToken('0')).toBe(formatRpcCursor({ ledger: 0, tx: 0, op: 0, event: 0 }));
  });
});
