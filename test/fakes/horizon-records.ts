/**
 * Horizon records derived from REAL signed Stellar transactions, for the fake Horizon.
 *
 * `buildTransactionRecords(spec, position, context)` builds the transaction with the SDK's `TransactionBuilder`,
 * signs it (ed25519 through `node:crypto`: the same deterministic signature `tx.sign()` makes, ~20x faster), and
 * derives what Horizon would serve for it:
 * - the transaction record: `id` = `hash` = the envelope's real hash, the real `envelope_xdr`, a real
 *   `TransactionResult` in `result_xdr` (success or failed, fee-bump results for fee bumps), the memo rendered as
 *   Horizon renders it (text as UTF-8 plus `memo_bytes`, id as decimal, hash/return as base64);
 * - one operation record per operation: `payment` (type_i 1), `path_payment_strict_receive` (2),
 *   `path_payment_strict_send` (13) and `create_account` (0), with muxed destinations split into `to` (the G...
 *   account), `to_muxed` and `to_muxed_id`, as Horizon does.
 *
 * Ids and paging tokens follow Horizon's TOID scheme (`ledger << 32 | txIndex << 12 | opIndex`, decimal strings;
 * a transaction's own TOID has opIndex 0, its operations 1..n), so they increase with ledger order.
 *
 * What is simplified: path payments cross no offers (`offers: []` in the result); a failed transaction marks every
 * operation as failed (`*_UNDERFUNDED`); `fee_meta_xdr` is an empty change list and `result_meta_xdr` is omitted
 * (Horizon 23 no longer serves it); fees are charged at the 100-stroop network base fee.
 */
import {
  Account,
  Asset,
  Keypair,
  MuxedAccount,
  Operation,
  StrKey,
  TimeoutInfinite,
  TransactionBuilder,
  xdr,
  type FeeBumpTransaction,
  type Memo,
  type Transaction,
} from '@stellar/stellar-sdk';
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';

// ---------------------------------------------------------------------------------------------------------------
// Horizon's JSON shapes (what the fake serves).

export type HorizonAssetType = 'native' | 'credit_alphanum4' | 'credit_alphanum12';

export interface HorizonLink {
  href: string;
  templated?: boolean;
}

export interface HorizonAsset {
  asset_type: HorizonAssetType;
  asset_code?: string;
  asset_issuer?: string;
}

export type HorizonMemoType = 'none' | 'text' | 'id' | 'hash' | 'return';

export interface HorizonTransactionRecord {
  _links: Record<
    'self' | 'account' | 'ledger' | 'operations' | 'effects' | 'precedes' | 'succeeds' | 'transaction',
    HorizonLink
  >;
  id: string;
  paging_token: string;
  successful: boolean;
  hash: string;
  ledger: number;
  created_at: string;
  source_account: string;
  source_account_sequence: string;
  fee_account: string;
  /** Stroops, as a decimal string. */
  fee_charged: string;
  /** Stroops, as a decimal string. */
  max_fee: string;
  operation_count: number;
  envelope_xdr: string;
  result_xdr: string;
  fee_meta_xdr: string;
  memo_type: HorizonMemoType;
  /** Absent for `none`; UTF-8 text for `text`, decimal for `id`, base64 for `hash` and `return`. */
  memo?: string;
  /** Base64 of the raw text memo bytes (text memos only). */
  memo_bytes?: string;
  signatures: string[];
  valid_after?: string;
  valid_before?: string;
  preconditions?: { timebounds?: { min_time: string; max_time?: string } };
  fee_bump_transaction?: { hash: string; signatures: string[] };
  inner_transaction?: { hash: string; signatures: string[]; max_fee: string };
}

interface HorizonOperationBase {
  _links: Record<'self' | 'transaction' | 'effects' | 'succeeds' | 'precedes', HorizonLink>;
  id: string;
  paging_token: string;
  transaction_successful: boolean;
  source_account: string;
  created_at: string;
  transaction_hash: string;
  /** Only with `join=transactions`. */
  transaction?: HorizonTransactionRecord;
}

interface HorizonPaymentFields extends HorizonAsset {
  from: string;
  to: string;
  to_muxed?: string;
  /** The muxed id, as a decimal string. */
  to_muxed_id?: string;
  /** What the destination received. */
  amount: string;
}

export interface HorizonPaymentRecord extends HorizonOperationBase, HorizonPaymentFields {
  type: 'payment';
  type_i: 1;
}

export interface HorizonPathPaymentStrictReceiveRecord extends HorizonOperationBase, HorizonPaymentFields {
  type: 'path_payment_strict_receive';
  type_i: 2;
  path: HorizonAsset[];
  source_amount: string;
  source_max: string;
  source_asset_type: HorizonAssetType;
  source_asset_code?: string;
  source_asset_issuer?: string;
}

export interface HorizonPathPaymentStrictSendRecord extends HorizonOperationBase, HorizonPaymentFields {
  type: 'path_payment_strict_send';
  type_i: 13;
  path: HorizonAsset[];
  source_amount: string;
  destination_min: string;
  source_asset_type: HorizonAssetType;
  source_asset_code?: string;
  source_asset_issuer?: string;
}

export interface HorizonCreateAccountRecord extends HorizonOperationBase {
  type: 'create_account';
  type_i: 0;
  starting_balance: string;
  funder: string;
  account: string;
}

export type HorizonOperationRecord =
  | HorizonPaymentRecord
  | HorizonPathPaymentStrictReceiveRecord
  | HorizonPathPaymentStrictSendRecord
  | HorizonCreateAccountRecord;

// ---------------------------------------------------------------------------------------------------------------
// What a test asks for.

interface OperationSpecBase {
  /** The operation's source account; default: the transaction's source. */
  source?: Keypair;
}

export interface PaymentSpec extends OperationSpecBase {
  type: 'payment';
  /** G... or M... (muxed) address. */
  destination: string;
  /** Default: native (XLM). */
  asset?: Asset;
  /** Decimal, up to 7 places, e.g. "100" or "12.5". */
  amount: string;
}

export interface PathPaymentStrictReceiveSpec extends OperationSpecBase {
  type: 'path_payment_strict_receive';
  destination: string;
  sendAsset: Asset;
  sendMax: string;
  destAsset: Asset;
  /** What the destination receives (exact for strict receive). */
  destAmount: string;
  path?: Asset[];
  /** What the source actually spent (≤ sendMax); default: sendMax. */
  sourceAmount?: string;
}

export interface PathPaymentStrictSendSpec extends OperationSpecBase {
  type: 'path_payment_strict_send';
  destination: string;
  sendAsset: Asset;
  /** What the source spends (exact for strict send). */
  sendAmount: string;
  destAsset: Asset;
  destMin: string;
  /** What actually arrived (≥ destMin); default: destMin. Horizon's `amount`. */
  destAmount?: string;
  path?: Asset[];
}

export interface CreateAccountSpec extends OperationSpecBase {
  type: 'create_account';
  /** G... address of the new account. */
  destination: string;
  startingBalance: string;
}

export type OperationSpec =
  PaymentSpec | PathPaymentStrictReceiveSpec | PathPaymentStrictSendSpec | CreateAccountSpec;

export interface TransactionSpec {
  source: Keypair;
  operations: OperationSpec[];
  memo?: Memo;
  /** The transaction's sequence number; default: made up from its ledger position (unique, increasing). */
  sequence?: string;
  /** Max fee per operation in stroops; default 100. */
  baseFee?: number;
  /** Default true. A failed transaction is still recorded, with `transaction_successful: false`. */
  successful?: boolean;
  /** Wraps the transaction in a fee bump paid by `feeSource`. */
  feeBump?: { feeSource: Keypair; baseFee?: number };
  /**
   * An envelope signed elsewhere (a submission to `POST /transactions`): the records are derived from it as
   * it is, nothing is built or signed. `operations`, `memo` and `sequence` must describe it.
   */
  envelope?: Transaction;
}

/** A one-operation transaction: the operation's fields plus the transaction's (`from` is the source). */
export type PaymentInput = Omit<TransactionSpec, 'source' | 'operations'> & { from: Keypair } & (
    | (Omit<PaymentSpec, 'type' | 'source'> & { type?: 'payment' })
    | Omit<PathPaymentStrictReceiveSpec, 'source'>
    | Omit<PathPaymentStrictSendSpec, 'source'>
    | Omit<CreateAccountSpec, 'source'>
  );

/** Where the transaction lands: its ledger, its 1-based application order in that ledger, the close time. */
export interface RecordPosition {
  ledger: number;
  txIndex: number;
  /** RFC 3339, seconds precision, e.g. "2026-11-24T12:00:05Z". */
  closedAt: string;
}

export interface RecordsContext {
  /** Horizon base URL for `_links`, without trailing slash. */
  baseUrl: string;
  networkPassphrase: string;
}

export interface BuiltTransaction {
  transaction: HorizonTransactionRecord;
  operations: HorizonOperationRecord[];
  /** The signed envelope the records were derived from. */
  envelope: Transaction | FeeBumpTransaction;
  /** For fee bumps: the inner transaction's hash (hex). */
  innerHash?: string;
  /** For fee bumps: the inner transaction's record view, as Horizon serves it when asked by the inner hash. */
  innerView?: HorizonTransactionRecord;
}

// ---------------------------------------------------------------------------------------------------------------
// TOIDs and amounts.

const LEDGER_SHIFT = 32n;
const TX_SHIFT = 12n;
const TX_MASK = (1n << 20n) - 1n;
const OP_MASK = (1n << 12n) - 1n;

/** Horizon's total order id: `ledger << 32 | txIndex << 12 | opIndex`. */
export function toid(ledger: number, txIndex: number, opIndex: number): bigint {
  if (!Number.isInteger(ledger) || ledger < 0 || ledger > 0x7fffffff)
    throw new RangeError(`ledger ${ledger}`);
  if (!Number.isInteger(txIndex) || txIndex < 0 || BigInt(txIndex) > TX_MASK)
    throw new RangeError(`transaction index ${txIndex}`);
  if (!Number.isInteger(opIndex) || opIndex < 0 || BigInt(opIndex) > OP_MASK)
    throw new RangeError(`operation index ${opIndex}`);
  return (BigInt(ledger) << LEDGER_SHIFT) | (BigInt(txIndex) << TX_SHIFT) | BigInt(opIndex);
}

/** The greatest TOID inside `ledger`: Horizon's value for `cursor=now` (`toid.AfterLedger`). */
export function afterLedger(ledger: number): bigint {
  return toid(ledger, Number(TX_MASK), Number(OP_MASK));
}

const STROOPS_PER_UNIT = 10_000_000n;

/** "12.5" → 125000000n. Throws on more than 7 decimals, signs, or anything not a plain decimal. */
export function toStroops(amount: string): bigint {
  const match = /^(\d+)(?:\.(\d{1,7}))?$/.exec(amount);
  if (!match) throw new RangeError(`not a Stellar amount: ${JSON.stringify(amount)}`);
  return BigInt(match[1]!) * STROOPS_PER_UNIT + BigInt((match[2] ?? '').padEnd(7, '0'));
}

/** 1000000000n → "100.0000000", as Horizon prints amounts. */
export function formatAmount(stroops: bigint): string {
  if (stroops < 0n) throw new RangeError('negative amount');
  const fraction = (stroops % STROOPS_PER_UNIT).toString().padStart(7, '0');
  return `${stroops / STROOPS_PER_UNIT}.${fraction}`;
}

/** Horizon's `created_at` style: RFC 3339 in UTC, whole seconds. */
export function horizonTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ---------------------------------------------------------------------------------------------------------------
// Building.

/** The SDK's `tx.sign(keypair)`, computed with node's native ed25519 (deterministic: same bytes). */
export function signFast(
  tx: Transaction | FeeBumpTransaction,
  keypair: Keypair,
  hash: Uint8Array = tx.hash(),
): void {
  const signature = sign(null, hash, privateKeyOf(keypair));
  tx.signatures.push(new xdr.DecoratedSignature({ hint: keypair.signatureHint(), signature }));
}

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const privateKeys = new WeakMap<Keypair, KeyObject>();

function privateKeyOf(keypair: Keypair): KeyObject {
  let key = privateKeys.get(keypair);
  if (!key) {
    key = createPrivateKey({
      key: Buffer.concat([PKCS8_ED25519_PREFIX, keypair.rawSecretKey()]),
      format: 'der',
      type: 'pkcs8',
    });
    privateKeys.set(keypair, key);
  }
  return key;
}

/** A one-operation `TransactionSpec` from the flat `PaymentInput`. */
export function paymentTransaction(input: PaymentInput): TransactionSpec {
  const { from, memo, sequence, baseFee, successful, feeBump, ...operation } = input;
  const op = (operation.type === undefined ? { ...operation, type: 'payment' } : operation) as OperationSpec;
  return { source: from, operations: [op], memo, sequence, baseFee, successful, feeBump };
}

const NETWORK_BASE_FEE = 100n;
const EMPTY_LEDGER_ENTRY_CHANGES = 'AAAAAA==';

export function buildTransactionRecords(
  spec: TransactionSpec,
  position: RecordPosition,
  context: RecordsContext,
): BuiltTransaction {
  if (spec.operations.length === 0) throw new Error('a transaction needs at least one operation');
  const successful = spec.successful ?? true;
  const baseFee = spec.baseFee ?? 100;
  const sequence = BigInt(spec.sequence ?? (BigInt(position.ledger) << 32n) + BigInt(position.txIndex));
  const checked = spec.operations.map(checkOperation);

  // 1. The real envelope (built and signed here, or submitted as it is).
  let inner: Transaction;
  if (spec.envelope) {
    inner = spec.envelope;
  } else {
    const builder = new TransactionBuilder(new Account(spec.source.publicKey(), (sequence - 1n).toString()), {
      fee: String(baseFee),
      networkPassphrase: context.networkPassphrase,
    });
    for (const op of checked) builder.addOperation(sdkOperation(op));
    if (spec.memo) builder.addMemo(spec.memo);
    inner = builder.setTimeout(TimeoutInfinite).build();
  }
  const signers = new Map<string, Keypair>([[spec.source.publicKey(), spec.source]]);
  for (const op of checked) if (op.source) signers.set(op.source.publicKey(), op.source);
  const innerHashBytes = inner.hash();
  if (!spec.envelope) for (const keypair of signers.values()) signFast(inner, keypair, innerHashBytes);
  const innerHash = hex(innerHashBytes);

  let envelope: Transaction | FeeBumpTransaction = inner;
  let hash = innerHash;
  if (spec.feeBump) {
    const outerBaseFee = spec.feeBump.baseFee ?? baseFee;
    envelope = TransactionBuilder.buildFeeBumpTransaction(
      spec.feeBump.feeSource.publicKey(),
      String(outerBaseFee),
      inner,
      context.networkPassphrase,
    );
    const outerHashBytes = envelope.hash();
    signFast(envelope, spec.feeBump.feeSource, outerHashBytes);
    hash = hex(outerHashBytes);
  }
  const envelopeXdr = envelope.toEnvelope().toXdr('base64');

  // 2. The real result.
  const opResults = checked.map((op) => operationResult(op, successful));
  const opCount = BigInt(checked.length);
  let feeCharged: bigint;
  let result: xdr.TransactionResultResult;
  if (spec.feeBump) {
    feeCharged = NETWORK_BASE_FEE * (opCount + 1n);
    const pair = new xdr.InnerTransactionResultPair({
      transactionHash: innerHashBytes,
      result: new xdr.InnerTransactionResult({
        feeCharged: 0n,
        result: successful
          ? xdr.InnerTransactionResultResult.txSuccess(opResults)
          : xdr.InnerTransactionResultResult.txFailed(opResults),
        ext: xdr.InnerTransactionResultExt.v0(),
      }),
    });
    result = successful
      ? xdr.TransactionResultResult.txFeeBumpInnerSuccess(pair)
      : xdr.TransactionResultResult.txFeeBumpInnerFailed(pair);
  } else {
    feeCharged = NETWORK_BASE_FEE * opCount;
    result = successful
      ? xdr.TransactionResultResult.txSuccess(opResults)
      : xdr.TransactionResultResult.txFailed(opResults);
  }
  const resultXdr = new xdr.TransactionResult({
    feeCharged,
    result,
    ext: xdr.TransactionResultExt.v0(),
  }).toXdr('base64');

  // 3. The records.
  const base = context.baseUrl;
  const pagingToken = toid(position.ledger, position.txIndex, 0).toString();
  const signatures = (tx: Transaction | FeeBumpTransaction) =>
    tx.signatures.map((s) => Buffer.from(s.signature.toBytes()).toString('base64'));
  const transactionView = (viewHash: string, viewSignatures: string[]): HorizonTransactionRecord => ({
    _links: {
      self: { href: `${base}/transactions/${viewHash}` },
      account: { href: `${base}/accounts/${spec.source.publicKey()}` },
      ledger: { href: `${base}/ledgers/${position.ledger}` },
      operations: {
        href: `${base}/transactions/${viewHash}/operations{?cursor,limit,order}`,
        templated: true,
      },
      effects: { href: `${base}/transactions/${viewHash}/effects{?cursor,limit,order}`, templated: true },
      precedes: { href: `${base}/transactions?order=asc&cursor=${pagingToken}` },
      succeeds: { href: `${base}/transactions?order=desc&cursor=${pagingToken}` },
      transaction: { href: `${base}/transactions/${viewHash}` },
    },
    id: viewHash,
    paging_token: pagingToken,
    successful,
    hash: viewHash,
    ledger: position.ledger,
    created_at: position.closedAt,
    source_account: spec.source.publicKey(),
    source_account_sequence: sequence.toString(),
    fee_account: spec.feeBump ? spec.feeBump.feeSource.publicKey() : spec.source.publicKey(),
    fee_charged: feeCharged.toString(),
    max_fee: envelope.fee,
    operation_count: checked.length,
    envelope_xdr: envelopeXdr,
    result_xdr: resultXdr,
    fee_meta_xdr: EMPTY_LEDGER_ENTRY_CHANGES,
    ...memoFields(spec.memo),
    signatures: viewSignatures,
    ...timeBoundsFields(inner),
    ...(spec.feeBump
      ? {
          fee_bump_transaction: { hash, signatures: signatures(envelope) },
          inner_transaction: { hash: innerHash, signatures: signatures(inner), max_fee: inner.fee },
        }
      : {}),
  });
  const transaction = transactionView(hash, signatures(envelope));

  const operations = checked.map((op, i) => {
    const id = toid(position.ledger, position.txIndex, i + 1).toString();
    const head = {
      _links: {
        self: { href: `${base}/operations/${id}` },
        transaction: { href: `${base}/transactions/${hash}` },
        effects: { href: `${base}/operations/${id}/effects` },
        succeeds: { href: `${base}/effects?order=desc&cursor=${id}` },
        precedes: { href: `${base}/effects?order=asc&cursor=${id}` },
      },
      id,
      paging_token: id,
      transaction_successful: successful,
      source_account: (op.source ?? spec.source).publicKey(),
    };
    const tail = { created_at: position.closedAt, transaction_hash: hash };
    return operationRecord(op, head, tail);
  });

  return spec.feeBump
    ? {
        transaction,
        operations,
        envelope,
        innerHash,
        innerView: transactionView(innerHash, signatures(inner)),
      }
    : { transaction, operations, envelope };
}

/** The accounts (G...) an operation's record names: the ones whose `/payments` list it. */
export function operationAccounts(record: HorizonOperationRecord): string[] {
  switch (record.type) {
    case 'create_account':
      return unique([record.source_account, record.funder, record.account]);
    default:
      return unique([record.source_account, record.from, record.to]);
  }
}

/** The accounts whose `/transactions` list a transaction: source, fee account, and every operation's accounts. */
export function transactionAccounts(built: BuiltTransaction): string[] {
  return unique([
    built.transaction.source_account,
    built.transaction.fee_account,
    ...built.operations.flatMap(operationAccounts),
  ]);
}

// ---------------------------------------------------------------------------------------------------------------
// Internals.

interface Destination {
  account: string;
  muxed?: string;
  muxedId?: string;
}

function destinationOf(address: string): Destination {
  if (StrKey.isValidEd25519PublicKey(address)) return { account: address };
  if (StrKey.isValidMed25519PublicKey(address)) {
    const muxed = MuxedAccount.fromAddress(address, '0');
    return { account: muxed.baseAccount().accountId(), muxed: address, muxedId: muxed.id() };
  }
  throw new RangeError(`not a G... or M... address: ${address}`);
}

function checkOperation(op: OperationSpec): OperationSpec {
  destinationOf(op.destination);
  switch (op.type) {
    case 'payment':
      toStroops(op.amount);
      return op;
    case 'create_account':
      if (!StrKey.isValidEd25519PublicKey(op.destination))
        throw new RangeError('create_account needs a G... destination');
      toStroops(op.startingBalance);
      return op;
    case 'path_payment_strict_receive':
      if (toStroops(op.sourceAmount ?? op.sendMax) > toStroops(op.sendMax))
        throw new RangeError(`sourceAmount ${op.sourceAmount} exceeds sendMax ${op.sendMax}`);
      toStroops(op.destAmount);
      return op;
    case 'path_payment_strict_send':
      if (toStroops(op.destAmount ?? op.destMin) < toStroops(op.destMin))
        throw new RangeError(`destAmount ${op.destAmount} is below destMin ${op.destMin}`);
      toStroops(op.sendAmount);
      return op;
  }
}

function sdkOperation(op: OperationSpec): xdr.Operation {
  const source = op.source?.publicKey();
  switch (op.type) {
    case 'payment':
      return Operation.payment({
        destination: op.destination,
        asset: op.asset ?? Asset.native(),
        amount: op.amount,
        source,
      });
    case 'path_payment_strict_receive':
      return Operation.pathPaymentStrictReceive({
        sendAsset: op.sendAsset,
        sendMax: op.sendMax,
        destination: op.destination,
        destAsset: op.destAsset,
        destAmount: op.destAmount,
        path: op.path ?? [],
        source,
      });
    case 'path_payment_strict_send':
      return Operation.pathPaymentStrictSend({
        sendAsset: op.sendAsset,
        sendAmount: op.sendAmount,
        destination: op.destination,
        destAsset: op.destAsset,
        destMin: op.destMin,
        path: op.path ?? [],
        source,
      });
    case 'create_account':
      return Operation.createAccount({
        destination: op.destination,
        startingBalance: op.startingBalance,
        source,
      });
  }
}

function operationResult(op: OperationSpec, successful: boolean): xdr.OperationResult {
  const last = (asset: Asset, amount: string) =>
    new xdr.SimplePaymentResult({
      destination: Keypair.fromPublicKey(destinationOf(op.destination).account).xdrAccountId(),
      asset: asset.toXDRObject(),
      amount: toStroops(amount),
    });
  switch (op.type) {
    case 'payment':
      return xdr.OperationResult.opInner(
        xdr.OperationResultTr.payment(
          successful ? xdr.PaymentResult.paymentSuccess() : xdr.PaymentResult.paymentUnderfunded(),
        ),
      );
    case 'path_payment_strict_receive':
      return xdr.OperationResult.opInner(
        xdr.OperationResultTr.pathPaymentStrictReceive(
          successful
            ? xdr.PathPaymentStrictReceiveResult.pathPaymentStrictReceiveSuccess(
                new xdr.PathPaymentStrictReceiveResultSuccess({
                  offers: [],
                  last: last(op.destAsset, op.destAmount),
                }),
              )
            : xdr.PathPaymentStrictReceiveResult.pathPaymentStrictReceiveUnderfunded(),
        ),
      );
    case 'path_payment_strict_send':
      return xdr.OperationResult.opInner(
        xdr.OperationResultTr.pathPaymentStrictSend(
          successful
            ? xdr.PathPaymentStrictSendResult.pathPaymentStrictSendSuccess(
                new xdr.PathPaymentStrictSendResultSuccess({
                  offers: [],
                  last: last(op.destAsset, op.destAmount ?? op.destMin),
                }),
              )
            : xdr.PathPaymentStrictSendResult.pathPaymentStrictSendUnderfunded(),
        ),
      );
    case 'create_account':
      return xdr.OperationResult.opInner(
        xdr.OperationResultTr.createAccount(
          successful
            ? xdr.CreateAccountResult.createAccountSuccess()
            : xdr.CreateAccountResult.createAccountUnderfunded(),
        ),
      );
  }
}

type RecordHead = Pick<
  HorizonOperationBase,
  '_links' | 'id' | 'paging_token' | 'transaction_successful' | 'source_account'
>;
type RecordTail = Pick<HorizonOperationBase, 'created_at' | 'transaction_hash'>;

/** Fields in Horizon's order: base fields, type, then the operation's own fields. */
function operationRecord(op: OperationSpec, head: RecordHead, tail: RecordTail): HorizonOperationRecord {
  const from = head.source_account;
  switch (op.type) {
    case 'payment':
      return {
        ...head,
        type: 'payment',
        type_i: 1,
        ...tail,
        ...assetFields(op.asset ?? Asset.native()),
        ...paymentEnds(from, op.destination),
        amount: formatAmount(toStroops(op.amount)),
      };
    case 'path_payment_strict_receive':
      return {
        ...head,
        type: 'path_payment_strict_receive',
        type_i: 2,
        ...tail,
        ...assetFields(op.destAsset),
        ...paymentEnds(from, op.destination),
        amount: formatAmount(toStroops(op.destAmount)),
        path: (op.path ?? []).map(assetFields),
        source_amount: formatAmount(toStroops(op.sourceAmount ?? op.sendMax)),
        source_max: formatAmount(toStroops(op.sendMax)),
        ...sourceAssetFields(op.sendAsset),
      };
    case 'path_payment_strict_send':
      return {
        ...head,
        type: 'path_payment_strict_send',
        type_i: 13,
        ...tail,
        ...assetFields(op.destAsset),
        ...paymentEnds(from, op.destination),
        amount: formatAmount(toStroops(op.destAmount ?? op.destMin)),
        path: (op.path ?? []).map(assetFields),
        source_amount: formatAmount(toStroops(op.sendAmount)),
        destination_min: formatAmount(toStroops(op.destMin)),
        ...sourceAssetFields(op.sendAsset),
      };
    case 'create_account':
      return {
        ...head,
        type: 'create_account',
        type_i: 0,
        ...tail,
        starting_balance: formatAmount(toStroops(op.startingBalance)),
        funder: from,
        account: op.destination,
      };
  }
}

function paymentEnds(from: string, destination: string) {
  const to = destinationOf(destination);
  return {
    from,
    to: to.account,
    ...(to.muxed ? { to_muxed: to.muxed, to_muxed_id: to.muxedId } : {}),
  };
}

export function assetFields(asset: Asset): HorizonAsset {
  if (asset.isNative()) return { asset_type: 'native' };
  return {
    asset_type: asset.getAssetType() as HorizonAssetType,
    asset_code: asset.getCode(),
    asset_issuer: asset.getIssuer(),
  };
}

function sourceAssetFields(asset: Asset) {
  const fields = assetFields(asset);
  return {
    source_asset_type: fields.asset_type,
    ...(fields.asset_code
      ? { source_asset_code: fields.asset_code, source_asset_issuer: fields.asset_issuer }
      : {}),
  };
}

function memoFields(
  memo: Memo | undefined,
): Pick<HorizonTransactionRecord, 'memo_type' | 'memo' | 'memo_bytes'> {
  if (!memo || memo.type === 'none') return { memo_type: 'none' };
  const value = memo.value;
  switch (memo.type) {
    case 'text': {
      const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value as Uint8Array);
      return { memo_type: 'text', memo: bytes.toString('utf8'), memo_bytes: bytes.toString('base64') };
    }
    case 'id':
      return { memo_type: 'id', memo: String(value) };
    case 'hash':
    case 'return':
      return { memo_type: memo.type, memo: Buffer.from(value as Uint8Array).toString('base64') };
    default:
      throw new RangeError(`memo type ${String(memo.type)}`);
  }
}

/** `valid_after`/`valid_before` and `preconditions.timebounds` as Horizon renders the envelope's time bounds. */
function timeBoundsFields(tx: Transaction) {
  const min = tx.timeBounds?.minTime ?? '0';
  const max = tx.timeBounds?.maxTime ?? '0';
  const time = (seconds: string) => horizonTime(new Date(Number(seconds) * 1000));
  return {
    valid_after: time(min),
    ...(max !== '0' && { valid_before: time(max) }),
    preconditions: { timebounds: { min_time: min, ...(max !== '0' && { max_time: max }) } },
  };
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
