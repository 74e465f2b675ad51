/**
 * Horizon records for the demo's fake network, derived from a REAL Stellar transaction built and signed with the
 * SDK: the hash, the envelope and the memo are what the network would show. One `payment` operation per
 * transaction, each in its own ledger; ids and paging tokens follow Horizon's TOID scheme
 * (`ledger << 32 | txIndex << 12 | opIndex`). The shapes are Horizon's (see test/fakes/horizon-records.ts for
 * the full version the tests use).
 */
import type { Asset } from '@stellar/stellar-sdk';
import {
  Account,
  Operation,
  TimeoutInfinite,
  TransactionBuilder,
  type Keypair,
  type Memo,
} from '@stellar/stellar-sdk';

export interface PaymentInput {
  from: Keypair;
  destination: string;
  asset: Asset;
  /** Decimal string, e.g. "100". */
  amount: string;
  memo: Memo;
}

export interface StoredPayment {
  pagingToken: bigint;
  /** Accounts whose `/payments` list it. */
  accounts: string[];
  operation: Record<string, unknown>;
  transaction: Record<string, unknown>;
}

const OPERATION_INDEX = 1n;
const TRANSACTION_INDEX = 1n;

/** Builds and signs the payment, and derives the operation and transaction records Horizon would serve. */
export function paymentRecords(
  input: PaymentInput,
  {
    base,
    ledger,
    networkPassphrase,
    sequence,
  }: { base: string; ledger: number; networkPassphrase: string; sequence: string },
): StoredPayment {
  const source = input.from.publicKey();
  const built = new TransactionBuilder(new Account(source, sequence), { fee: '100', networkPassphrase })
    .addOperation(
      Operation.payment({ destination: input.destination, asset: input.asset, amount: input.amount }),
    )
    .addMemo(input.memo)
    .setTimeout(TimeoutInfinite)
    .build();
  built.sign(input.from);
  const hash = Buffer.from(built.hash()).toString('hex');
  const txToid = (BigInt(ledger) << 32n) | (TRANSACTION_INDEX << 12n);
  const opId = (txToid | OPERATION_INDEX).toString();
  const createdAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const transaction = {
    _links: { self: { href: `${base}/transactions/${hash}` } },
    id: hash,
    paging_token: txToid.toString(),
    successful: true,
    hash,
    ledger,
    created_at: createdAt,
    source_account: source,
    source_account_sequence: built.sequence,
    fee_account: source,
    fee_charged: '100',
    max_fee: built.fee,
    operation_count: 1,
    envelope_xdr: built.toXDR(),
    memo_type: 'hash',
    memo: Buffer.from(input.memo.value as Uint8Array).toString('base64'),
    signatures: built.signatures.map((s) => Buffer.from(s.signature.toBytes()).toString('base64')),
  };
  const operation = {
    _links: {
      self: { href: `${base}/operations/${opId}` },
      transaction: { href: `${base}/transactions/${hash}` },
    },
    id: opId,
    paging_token: opId,
    transaction_successful: true,
    source_account: source,
    type: 'payment',
    type_i: 1,
    created_at: createdAt,
    transaction_hash: hash,
    ...assetFields(input.asset),
    from: source,
    to: input.destination,
    amount: sevenPlaces(input.amount),
  };
  return { pagingToken: BigInt(opId), accounts: [source, input.destination], operation, transaction };
}

/** The operation record as `join=transactions` renders it: the transaction embedded after `transaction_hash`. */
export function joined(payment: StoredPayment): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payment.operation)) {
    record[key] = value;
    if (key === 'transaction_hash') record.transaction = payment.transaction;
  }
  return record;
}

function assetFields(asset: Asset) {
  if (asset.isNative()) return { asset_type: 'native' };
  return { asset_type: asset.getAssetType(), asset_code: asset.getCode(), asset_issuer: asset.getIssuer() };
}

/** Horizon's amount format, exactly (money is never a float): "100" → "100.0000000". */
function sevenPlaces(amount: string): string {
  const [whole, fraction = ''] = amount.split('.');
  return `${whole}.${fraction.padEnd(7, '0')}`;
}
