import { randomBytes } from 'node:crypto';
import type { MemoType } from '../../../machines/index.ts';

const MEMO_TYPES: readonly MemoType[] = ['id', 'text', 'hash'];
const UINT64_MAX = 18_446_744_073_709_551_615n;

/** A fresh receiving memo: 32 random bytes as a hash memo, base64 (SEP-31 sends hash memos in base64). */
export function newHashMemo(): { type: 'hash'; value: string } {
  return { type: 'hash', value: randomBytes(32).toString('base64') };
}

/** Whether `value` is a valid Stellar memo of `type`; returns the problem, or null when it is valid. */
export function memoProblem(type: MemoType, value: string): string | null {
  switch (type) {
    case 'id':
      return /^(0|[1-9]\d{0,19})$/.test(value) && BigInt(value) <= UINT64_MAX
        ? null
        : 'an id memo must be an unsigned 64-bit integer';
    case 'text': {
      const bytes = Buffer.byteLength(value, 'utf8');
      return bytes >= 1 && bytes <= 28 ? null : 'a text memo must be 1 to 28 bytes of UTF-8';
    }
    case 'hash':
      return isHashMemo(value) ? null : 'a hash memo must be 32 bytes, as base64 or 64 hex digits';
  }
}

function isHashMemo(value: string): boolean {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return true;
  return /^[A-Za-z0-9+/]{43}=$/.test(value) && Buffer.from(value, 'base64').length === 32;
}

export function isMemoType(value: unknown): value is MemoType {
  return typeof value === 'string' && (MEMO_TYPES as readonly string[]).includes(value);
}

export { MEMO_TYPES };
