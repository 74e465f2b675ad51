/**
 * CAP-67 (Protocol 23) unified `transfer` events of Stellar Asset Contracts, decoded into the payment
 * records the matcher of `streams/` reads, so RPC payments are matched exactly as Horizon's are.
 *
 * Event shape (stellar-protocol `core/cap-0067.md`): topics `["transfer", from: Address, to: Address,
 * asset: String]`, the asset in SEP-11 form (`native` or `CODE:ISSUER`); data either the `i128` amount or
 * a map `{amount: i128, to_muxed_id: u64 | bytes | string}`. Classic payments, path payments (the amount
 * the destination received) and contract `transfer` calls all emit it.
 *
 * `to_muxed_id` is the destination's muxed id or else the transaction's memo: a string can only be a text
 * memo; a u64 (id memo or muxed id) and bytes (hash or return memo) are told apart by the transaction's own
 * memo (`resolveTransferMemo`, after `getTransaction`).
 *
 * Any contract can emit an event with these topics: it counts only when the emitting contract is the
 * Stellar Asset Contract of the asset it names.
 */
import {
  Account,
  Address,
  Asset,
  FeeBumpTransaction,
  MuxedAccount,
  TransactionBuilder,
  scValToNative,
  type rpc,
  type xdr,
} from '@stellar/stellar-sdk';
import type { HorizonPaymentRecord } from '../../streams/index.ts';

/** The record type of a SAC transfer (counted as a payment by the matcher). */
export const TRANSFER_TYPE = 'transfer';
/** A `transfer` event that is not a Stellar Asset Contract's: never a payment (the matcher ignores it). */
export const FOREIGN_TRANSFER_TYPE = 'transfer_not_asset_contract';

/** What `to_muxed_id` held when the transaction's memo must decide what it means. */
export type PendingMemo = { kind: 'u64'; value: string } | { kind: 'bytes'; value: string };

export interface DecodedTransfer {
  record: HorizonPaymentRecord;
  /** Non-null: call `resolveTransferMemo` with the transaction's memo before matching. */
  pending: PendingMemo | null;
}

/** A transaction memo as Horizon spells it: hash and return memos base64, id memos decimal. */
export interface TransactionMemo {
  type: 'none' | 'id' | 'text' | 'hash' | 'return';
  value: string | null;
}

/** Decodes one event of a `getEvents` answer; null when it is not a SAC-shaped `transfer` event. */
export function decodeTransferEvent(
  event: rpc.Api.EventResponse,
  networkPassphrase: string,
): DecodedTransfer | null {
  const [name, fromVal, toVal, assetVal] = event.topic;
  if (event.topic.length !== 4 || name === undefined || fromVal === undefined || toVal === undefined)
    return null;
  if (name.type !== 'scvSymbol' || scValToNative(name) !== 'transfer') return null;
  if (assetVal?.type !== 'scvString') return null;
  const from = addressOf(fromVal);
  const to = addressOf(toVal);
  const asset = parseSep11Asset(String(scValToNative(assetVal)));
  const data = decodeData(event.value);
  if (from === null || to === null || asset === null || data === null) return null;

  const genuine = event.contractId?.contractId() === asset.contractId(networkPassphrase);
  const native = asset.isNative();
  const record: HorizonPaymentRecord = {
    id: event.id,
    paging_token: event.id,
    type: genuine ? TRANSFER_TYPE : FOREIGN_TRANSFER_TYPE,
    created_at: event.ledgerClosedAt,
    transaction_hash: event.txHash,
    transaction_successful: event.inSuccessfulContractCall,
    from: from.account,
    to: to.account,
    asset_type: native ? 'native' : asset.getAssetType(),
    ...(native ? {} : { asset_code: asset.getCode(), asset_issuer: asset.getIssuer() }),
    amount: horizonAmount(data.amount),
    transaction_attr: { hash: event.txHash, successful: event.inSuccessfulContractCall, memo_type: 'none' },
  };
  if (to.muxedId !== null) withMuxed(record, to.muxedId);

  const id = data.toMuxedId;
  if (id === null) return { record, pending: null };
  if (typeof id === 'string') {
    record.transaction_attr = { ...record.transaction_attr, memo_type: 'text', memo: id };
    return { record, pending: null };
  }
  if (typeof id === 'bigint') return { record, pending: { kind: 'u64', value: id.toString() } };
  return { record, pending: { kind: 'bytes', value: Buffer.from(id).toString('base64') } };
}

/**
 * Settles what a u64 or bytes `to_muxed_id` means, from the transaction's own memo:
 * - the transaction carries that very memo: it is the memo;
 * - the transaction has another memo: `to_muxed_id` is the muxed id, and the memo is the transaction's;
 * - the transaction has no memo: a u64 is the muxed id of the destination (`M…`), which also counts as
 *   its id memo (how contract wallets, which cannot set memos on Soroban calls, say whom they pay).
 */
export function resolveTransferMemo(decoded: DecodedTransfer, memo: TransactionMemo): HorizonPaymentRecord {
  const { record, pending } = decoded;
  if (pending === null) return record;
  const attr = record.transaction_attr ?? {};
  const sameMemo =
    pending.kind === 'u64'
      ? memo.type === 'id' && memo.value === pending.value
      : (memo.type === 'hash' || memo.type === 'return') && memo.value === pending.value;
  if (sameMemo) return { ...record, transaction_attr: { ...attr, memo_type: memo.type, memo: memo.value! } };
  const resolved: HorizonPaymentRecord = { ...record };
  if (pending.kind === 'u64') withMuxed(resolved, BigInt(pending.value));
  if (memo.type !== 'none' && memo.value !== null) {
    resolved.transaction_attr = { ...attr, memo_type: memo.type, memo: memo.value };
  } else if (pending.kind === 'u64') {
    resolved.transaction_attr = { ...attr, memo_type: 'id', memo: pending.value };
  } else {
    resolved.transaction_attr = { ...attr, memo_type: 'hash', memo: pending.value };
  }
  return resolved;
}

/** The memo of a transaction envelope (the inner transaction's for a fee bump), as Horizon spells it. */
export function envelopeMemo(envelopeXdr: string, networkPassphrase: string): TransactionMemo {
  const parsed = TransactionBuilder.fromXDR(envelopeXdr, networkPassphrase);
  const tx = parsed instanceof FeeBumpTransaction ? parsed.innerTransaction : parsed;
  const memo = tx.memo;
  switch (memo.type) {
    case 'none':
      return { type: 'none', value: null };
    case 'id':
      return { type: 'id', value: String(memo.value) };
    case 'text':
      return {
        type: 'text',
        value:
          memo.value instanceof Uint8Array ? Buffer.from(memo.value).toString('utf8') : String(memo.value),
      };
    case 'hash':
    case 'return':
      return { type: memo.type, value: Buffer.from(memo.value as Uint8Array).toString('base64') };
  }
}

/** A SEP-11 asset string: `native` or `CODE:ISSUER`. */
export function parseSep11Asset(text: string): Asset | null {
  if (text === 'native') return Asset.native();
  const [code, issuer, ...rest] = text.split(':');
  if (code === undefined || issuer === undefined || rest.length > 0) return null;
  try {
    return new Asset(code, issuer);
  } catch {
    return null;
  }
}

function addressOf(value: xdr.ScVal): { account: string; muxedId: bigint | null } | null {
  if (value.type !== 'scvAddress') return null;
  const address = Address.fromScVal(value).toString();
  if (!address.startsWith('M')) return { account: address, muxedId: null };
  const muxed = MuxedAccount.fromAddress(address, '0');
  return { account: muxed.baseAccount().accountId(), muxedId: BigInt(muxed.id()) };
}

function decodeData(
  value: xdr.ScVal,
): { amount: bigint; toMuxedId: bigint | string | Uint8Array | null } | null {
  const kind = value.type;
  if (kind === 'scvI128') return { amount: scValToNative(value) as bigint, toMuxedId: null };
  if (kind !== 'scvMap') return null;
  const map = scValToNative(value) as { amount?: unknown; to_muxed_id?: unknown };
  if (typeof map.amount !== 'bigint') return null;
  const id = map.to_muxed_id;
  if (typeof id === 'bigint' || typeof id === 'string' || id instanceof Uint8Array) {
    return { amount: map.amount, toMuxedId: id };
  }
  return id === undefined ? { amount: map.amount, toMuxedId: null } : null;
}

function withMuxed(record: HorizonPaymentRecord, id: bigint): void {
  record.to_muxed = new MuxedAccount(new Account(record.to!, '0'), id.toString()).accountId();
  record.to_muxed_id = id.toString();
}

/** Stroops as Horizon writes amounts (seven decimal places, e.g. "100.0000000"), so both sources' events match. */
function horizonAmount(stroops: bigint): string {
  const digits = stroops.toString().padStart(8, '0');
  return `${digits.slice(0, -7)}.${digits.slice(-7)}`;
}
