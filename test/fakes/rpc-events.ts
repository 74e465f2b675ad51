/**
 * CAP-67 `transfer` events as Stellar RPC serves them (`getEvents`, default base64 XDR format), built with
 * the SDK's XDR: topics `["transfer", from, to, "<SEP-11 asset>"]`, data the `i128` amount or the map
 * `{amount, to_muxed_id}`; the emitting contract is the asset's Stellar Asset Contract unless told otherwise.
 * Field names and id format as stellar-rpc's `methods/get_events.go` (`eventInfoForEvent`) and stellar/go
 * `protocols/rpc/cursor.go` (`%019d-%010d` of TOID and event index).
 */
import { Address, Contract, nativeToScVal, xdr, type Asset, type rpc } from '@stellar/stellar-sdk';
import { formatRpcCursor } from '../../src/stellar/rpc-cursor.ts';

export interface TransferSpec {
  ledger: number;
  /** Transaction order in the ledger, from 1. */
  tx?: number;
  /** Operation index in the transaction, from 0 (RPC's numbering). */
  op?: number;
  /** Event index in the operation. */
  event?: number;
  from: string;
  to: string;
  asset: Asset;
  /** Stroops. */
  amount: bigint;
  /** Present: data is the map `{amount, to_muxed_id}`. */
  toMuxedId?: { u64: bigint } | { text: string } | { bytes: Buffer };
  txHash?: string;
  successful?: boolean;
  /** Emitting contract; default the asset's SAC. */
  contractId?: string;
  closedAt?: string;
}

export function transferTopics(from: string, to: string, asset: Asset): xdr.ScVal[] {
  return [
    nativeToScVal('transfer', { type: 'symbol' }),
    new Address(from).toScVal(),
    new Address(to).toScVal(),
    nativeToScVal(asset.isNative() ? 'native' : `${asset.getCode()}:${asset.getIssuer()}`, {
      type: 'string',
    }),
  ];
}

export function transferData(spec: Pick<TransferSpec, 'amount' | 'toMuxedId'>): xdr.ScVal {
  if (spec.toMuxedId === undefined) return nativeToScVal(spec.amount, { type: 'i128' });
  const id = spec.toMuxedId;
  const [value, type]: [unknown, 'u64' | 'string' | 'bytes'] =
    'u64' in id ? [id.u64, 'u64'] : 'text' in id ? [id.text, 'string'] : [id.bytes, 'bytes'];
  return nativeToScVal(
    { amount: spec.amount, to_muxed_id: value },
    { type: { amount: ['symbol', 'i128'], to_muxed_id: ['symbol', type] } },
  );
}

/** The raw JSON event of `getEvents` (what the fake RPC serves). */
export function rawTransferEvent(spec: TransferSpec, networkPassphrase: string): rpc.Api.RawEventResponse {
  const tx = spec.tx ?? 1;
  const op = spec.op ?? 0;
  return {
    type: 'contract',
    ledger: spec.ledger,
    ledgerClosedAt:
      spec.closedAt ??
      new Date(Date.UTC(2026, 11, 3) + spec.ledger * 5_000).toISOString().replace('.000', ''),
    contractId: spec.contractId ?? spec.asset.contractId(networkPassphrase),
    id: formatRpcCursor({ ledger: spec.ledger, tx, op, event: spec.event ?? 0 }),
    operationIndex: op,
    transactionIndex: tx,
    txHash: spec.txHash ?? 'ab'.repeat(32),
    inSuccessfulContractCall: spec.successful ?? true,
    topic: transferTopics(spec.from, spec.to, spec.asset).map((t) => t.toXdr('base64')),
    value: transferData(spec).toXdr('base64'),
  };
}

/** The same event as the SDK's `getEvents` gives it (XDR parsed). */
export function parsedTransferEvent(spec: TransferSpec, networkPassphrase: string): rpc.Api.EventResponse {
  const raw = rawTransferEvent(spec, networkPassphrase);
  return {
    ...raw,
    contractId: new Contract(raw.contractId),
    topic: (raw.topic ?? []).map((t) => xdr.ScVal.fromXdr(t, 'base64')),
    value: xdr.ScVal.fromXdr(raw.value, 'base64'),
  };
}
