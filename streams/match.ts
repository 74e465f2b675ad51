/**
 * Payment matching, pure: a Horizon operation record (fetched with `join=transactions`) and the one
 * transaction it may be for decide whether the payment is credited, stored as unmatched, or ignored.
 *
 * The caller looks the candidate up with `paymentLookupKey(record, watchedAccounts)` (receiving account,
 * memo type, memo in every stored form) and passes what it found. Amount policy (under-payment → error,
 * over-payment → credit and refund the excess) belongs to the transaction machine; the asset is checked
 * here, so a wrong-asset payment goes to the unmatched table without asking the machine.
 *
 * Horizon facts this relies on:
 * - `/payments` also lists `create_account`, `account_merge` and `invoke_host_function`; only `payment`
 *   and the two path payments move an asset to a destination we can credit.
 * - Path payments (strict-send and strict-receive alike) give what the destination received as
 *   `amount`/`asset_*`; `source_amount` is what the sender spent and is never credited.
 * - A payment to a muxed account (M...) names the base account in `to` and the muxed one in `to_muxed`.
 * - With `join=transactions` the SDK keeps the embedded transaction at `transaction_attr`. For a fee-bump
 *   transaction, Horizon fills `memo`/`memo_type` from the inner transaction (a fee bump has no memo of
 *   its own) and `hash` (= the operation's `transaction_hash`) with the fee-bump hash; the inner hash is
 *   `inner_transaction.hash`. We credit with the operation's `transaction_hash`: the envelope the ledger
 *   applied.
 * - Hash and return memos come base64; id memos as a decimal string; text memos as the text.
 */
import type { MemoType, TransactionEvent, TransactionStatus } from '../machines/index.ts';

/** The embedded transaction of a record (`join=transactions`), as far as matching needs it. */
export interface HorizonTransactionAttr {
  hash?: string;
  successful?: boolean;
  /** `none`, `text`, `id`, `hash` or `return`. */
  memo_type?: string;
  memo?: string;
  memo_bytes?: string;
  fee_bump_transaction?: { hash: string };
  inner_transaction?: { hash: string };
}

/**
 * An operation record of Horizon's payments endpoint. Structural, so both the SDK's records and plain
 * JSON fit; only `payment` and the path payments carry the destination fields.
 */
export interface HorizonPaymentRecord {
  id: string;
  paging_token: string;
  type: string;
  created_at: string;
  transaction_hash: string;
  transaction_successful?: boolean;
  source_account?: string;
  from?: string;
  to?: string;
  to_muxed?: string;
  to_muxed_id?: string;
  asset_type?: string;
  asset_code?: string;
  asset_issuer?: string;
  amount?: string;
  source_amount?: string;
  transaction_attr?: HorizonTransactionAttr;
}

/**
 * The payment types that credit a destination: Horizon's operations, and `transfer`, a Stellar Asset
 * Contract's CAP-67 transfer event decoded by the Stellar RPC source (same fields, `amount` received).
 */
export const PAYMENT_TYPES: readonly string[] = [
  'payment',
  'path_payment_strict_receive',
  'path_payment_strict_send',
  'transfer',
];

/** An incoming payment, normalised: what gets credited or stored as unmatched. */
export interface IncomingPayment {
  operationId: string;
  transactionHash: string;
  /** The watched account that received it (the base account of a muxed destination). */
  account: string;
  /** The muxed destination (M...), when the payment named one. */
  toMuxed: string | null;
  fromAccount: string | null;
  /** What the destination received, decimal string. */
  amount: string;
  /** `native` for XLM. */
  assetCode: string;
  assetIssuer: string | null;
  /** Horizon's memo type (`none`, `text`, `id`, `hash`, `return`), null if the record had no transaction. */
  memoType: string | null;
  memo: string | null;
  createdAt: string;
}

/** What the caller must look the candidate transaction up by. */
export interface PaymentLookupKey {
  account: string;
  memoType: MemoType;
  /** Canonical form: base64 for hash memos, decimal without leading zeros for id memos. */
  memo: string;
  /** Every form a stored memo equal to `memo` may take (hash memos: base64 and lower-case hex). */
  memoForms: string[];
}

/** The transaction found for a payment's (account, memo type, memo). */
export interface PaymentCandidate {
  id: string;
  status: TransactionStatus;
  stellarAccountId: string | null;
  memoType: MemoType | null;
  memo: string | null;
  assetCode: string;
  assetIssuer: string | null;
  /** The Horizon operation id already credited to it, if any. */
  creditedOperationId: string | null;
}

export type IgnoreReason =
  'not_a_payment' | 'failed_transaction' | 'not_to_watched_account' | 'outgoing' | 'self_payment';

/** `expired`: the transaction expired unpaid before this payment came (a late payment, never credited). */
export type MatchUnmatchedReason =
  'no_memo' | 'unknown_memo' | 'not_pending_sender' | 'expired' | 'wrong_asset';

export type PaymentReceived = Extract<TransactionEvent, { type: 'PAYMENT_RECEIVED' }>;

export type MatchResult =
  | { outcome: 'ignore'; reason: IgnoreReason }
  | { outcome: 'credit'; transactionId: string; event: PaymentReceived; payment: IncomingPayment }
  | {
      outcome: 'unmatched';
      reason: MatchUnmatchedReason;
      transactionId: string | null;
      payment: IncomingPayment;
    };

export interface MatchContext {
  /**
   * Accounts whose incoming payments count. The watcher passes only the account of the stream the
   * record came from, so a payment between two watched accounts is handled by one pipeline only.
   */
  watchedAccounts: Iterable<string>;
  /** The transaction found by `paymentLookupKey`, or null. */
  candidate: PaymentCandidate | null;
}

type Direction = { incoming: IncomingPayment } | { ignore: IgnoreReason };

/** Whether the record is a successful payment into a watched account, and if so its normalised form. */
export function incomingPayment(record: HorizonPaymentRecord, watchedAccounts: Iterable<string>): Direction {
  if (!PAYMENT_TYPES.includes(record.type)) return { ignore: 'not_a_payment' };
  if (record.transaction_successful === false || record.transaction_attr?.successful === false) {
    return { ignore: 'failed_transaction' };
  }
  const watched = new Set(watchedAccounts);
  const to = record.to ?? '';
  const from = record.from ?? record.source_account ?? null;
  if (!watched.has(to)) {
    return { ignore: from !== null && watched.has(from) ? 'outgoing' : 'not_to_watched_account' };
  }
  if (from === to) return { ignore: 'self_payment' };
  const attr = record.transaction_attr;
  const native = record.asset_type === 'native';
  return {
    incoming: {
      operationId: record.id,
      transactionHash: record.transaction_hash || attr?.hash || '',
      account: to,
      toMuxed: record.to_muxed ?? null,
      fromAccount: from,
      amount: record.amount ?? '0',
      assetCode: native ? 'native' : (record.asset_code ?? ''),
      assetIssuer: native ? null : (record.asset_issuer ?? null),
      memoType: attr?.memo_type ?? null,
      memo: attr?.memo ?? null,
      createdAt: record.created_at,
    },
  };
}

/**
 * The key to look the candidate transaction up by, or null when there is nothing to look up (ignored
 * record, no memo, a memo type we never issue, or a malformed memo).
 */
export function paymentLookupKey(
  record: HorizonPaymentRecord,
  watchedAccounts: Iterable<string>,
): PaymentLookupKey | null {
  const direction = incomingPayment(record, watchedAccounts);
  if (!('incoming' in direction)) return null;
  const { account, memoType, memo } = direction.incoming;
  if (memoType !== 'text' && memoType !== 'id' && memoType !== 'hash') return null;
  if (memo === null) return null;
  const canonical = canonicalMemo(memoType, memo);
  if (canonical === null) return null;
  const forms = memoType === 'hash' ? [canonical, hexOf(canonical)] : [canonical];
  return { account, memoType, memo: canonical, memoForms: forms };
}

/** Decides what a payment record does. Pure: the same record and candidate always give the same answer. */
export function matchPayment(record: HorizonPaymentRecord, context: MatchContext): MatchResult {
  const direction = incomingPayment(record, context.watchedAccounts);
  if (!('incoming' in direction)) return { outcome: 'ignore', reason: direction.ignore };
  const payment = direction.incoming;
  const unmatched = (reason: MatchUnmatchedReason, transactionId: string | null = null): MatchResult => ({
    outcome: 'unmatched',
    reason,
    transactionId,
    payment,
  });

  if (payment.memoType === null || payment.memoType === 'none' || payment.memo === null) {
    return unmatched('no_memo');
  }
  const key = paymentLookupKey(record, context.watchedAccounts);
  const candidate = context.candidate;
  if (key === null || candidate === null || !sameKey(key, candidate)) return unmatched('unknown_memo');

  const event: PaymentReceived = {
    type: 'PAYMENT_RECEIVED',
    at: payment.createdAt,
    payment: {
      operationId: payment.operationId,
      transactionHash: payment.transactionHash,
      amount: payment.amount,
      assetCode: payment.assetCode,
      assetIssuer: payment.assetIssuer,
      createdAt: payment.createdAt,
    },
  };
  // Already credited with this very operation (a replay): the host acknowledges it as a duplicate.
  if (candidate.creditedOperationId === payment.operationId) {
    return { outcome: 'credit', transactionId: candidate.id, event, payment };
  }
  if (candidate.status === 'expired') return unmatched('expired', candidate.id);
  if (candidate.status !== 'pending_sender') return unmatched('not_pending_sender', candidate.id);
  if (candidate.assetCode !== payment.assetCode || candidate.assetIssuer !== payment.assetIssuer) {
    return unmatched('wrong_asset', candidate.id);
  }
  return { outcome: 'credit', transactionId: candidate.id, event, payment };
}

function sameKey(key: PaymentLookupKey, candidate: PaymentCandidate): boolean {
  if (candidate.stellarAccountId !== key.account || candidate.memoType !== key.memoType) return false;
  return candidate.memo !== null && canonicalMemo(candidate.memoType, candidate.memo) === key.memo;
}

const UINT64_MAX = 18_446_744_073_709_551_615n;

/**
 * One spelling per memo: hash memos as padded base64 of their 32 bytes (from base64 or hex), id memos as
 * a decimal without leading zeros, text memos as they are. Null when the value is not a valid memo.
 */
export function canonicalMemo(type: MemoType, value: string): string | null {
  switch (type) {
    case 'text':
      return value;
    case 'id': {
      if (!/^\d{1,20}$/.test(value)) return null;
      const id = BigInt(value);
      return id <= UINT64_MAX ? id.toString() : null;
    }
    case 'hash': {
      const bytes = /^[0-9a-fA-F]{64}$/.test(value) ? fromHex(value) : fromBase64(value);
      return bytes !== null && bytes.length === 32 ? toBase64(bytes) : null;
    }
  }
}

function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

// Plain loops: the watcher canonicalises every memo of a catch-up page, so these are on its hot path.
function fromBase64(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

function hexOf(base64: string): string {
  let hex = '';
  for (const byte of fromBase64(base64) ?? []) hex += HEX[byte];
  return hex;
}
