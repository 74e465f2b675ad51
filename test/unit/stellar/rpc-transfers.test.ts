import {
  Account,
  Asset,
  Keypair,
  Memo,
  MuxedAccount,
  Networks,
  Operation,
  StrKey,
  TransactionBuilder,
} from '@stellar/stellar-sdk';
import { describe, expect, it } from 'vitest';
import { matchPayment, type PaymentCandidate } from '../../../streams/index.ts';
import {
  decodeTransferEvent,
  envelopeMemo,
  resolveTransferMemo,
  type DecodedTransfer,
} from '../../../src/stellar/rpc-transfers.ts';
import { parsedTransferEvent, type TransferSpec } from '../../fakes/rpc-events.ts';

const passphrase = Networks.TESTNET;
const account = Keypair.random().publicKey();
const sender = Keypair.random().publicKey();
const issuer = Keypair.random().publicKey();
const usdc = new Asset('USDC', issuer);
const contractSender = StrKey.encodeContract(Buffer.alloc(32, 7));

function decode(spec: Partial<TransferSpec>): DecodedTransfer {
  const decoded = decodeTransferEvent(
    parsedTransferEvent(
      { ledger: 100, from: sender, to: account, asset: usdc, amount: 1_000_000_000n, ...spec },
      passphrase,
    ),
    passphrase,
  );
  if (decoded === null) throw new Error('not decoded');
  return decoded;
}

const candidate = (memoType: 'id' | 'text' | 'hash', memo: string): PaymentCandidate => ({
  id: 'tx-1',
  status: 'pending_sender',
  stellarAccountId: account,
  memoType,
  memo,
  assetCode: 'USDC',
  assetIssuer: issuer,
  creditedOperationId: null,
});

describe('decodeTransferEvent', () => {
  it('decodes an i128 amount: a payment with no memo, amount in decimal', () => {
    const { record, pending } = decode({ amount: 1_234_567_891n });
    expect(pending).toBeNull();
    expect(record).toMatchObject({
      type: 'transfer',
      from: sender,
      to: account,
      amount: '123.4567891',
      asset_type: 'credit_alphanum4',
      asset_code: 'USDC',
      asset_issuer: issuer,
      transaction_attr: { memo_type: 'none' },
    });
    expect(record.id).toBe(record.paging_token);
    expect(matchPayment(record, { watchedAccounts: [account], candidate: null })).toMatchObject({
      outcome: 'unmatched',
      reason: 'no_memo',
    });
  });

  it('decodes the native asset', () => {
    const { record } = decode({ asset: Asset.native(), amount: 10_000_000n });
    expect(record).toMatchObject({ asset_type: 'native', amount: '1.0000000' });
    expect(record.asset_code).toBeUndefined();
  });

  it('decodes a 12-character asset code', () => {
    const { record } = decode({ asset: new Asset('LONGASSET123', issuer) });
    expect(record).toMatchObject({ asset_type: 'credit_alphanum12', asset_code: 'LONGASSET123' });
  });

  it('a string to_muxed_id is a text memo, and is credited to its transaction', () => {
    const decoded = decode({ toMuxedId: { text: 'mooring-42' } });
    expect(decoded.pending).toBeNull();
    expect(decoded.record.transaction_attr).toMatchObject({ memo_type: 'text', memo: 'mooring-42' });
    const result = matchPayment(decoded.record, {
      watchedAccounts: [account],
      candidate: candidate('text', 'mooring-42'),
    });
    expect(result).toMatchObject({
      outcome: 'credit',
      transactionId: 'tx-1',
      event: { payment: { amount: '100.0000000' } },
    });
  });

  it('a u64 to_muxed_id waits for the transaction: its id memo when the transaction carries it', () => {
    const decoded = decode({ toMuxedId: { u64: 18_446_744_073_709_551_615n } });
    expect(decoded.pending).toEqual({ kind: 'u64', value: '18446744073709551615' });
    const record = resolveTransferMemo(decoded, { type: 'id', value: '18446744073709551615' });
    expect(record.transaction_attr).toMatchObject({ memo_type: 'id', memo: '18446744073709551615' });
    expect(record.to_muxed).toBeUndefined();
  });

  it('a u64 to_muxed_id with another memo on the transaction is the muxed id; the memo is the transaction’s', () => {
    const record = resolveTransferMemo(decode({ toMuxedId: { u64: 5n } }), { type: 'text', value: 'hello' });
    expect(record.transaction_attr).toMatchObject({ memo_type: 'text', memo: 'hello' });
    expect(record.to_muxed_id).toBe('5');
    expect(record.to_muxed).toBe(new MuxedAccount(new Account(account, '0'), '5').accountId());
    expect(record.to).toBe(account);
  });

  it('a u64 to_muxed_id with no memo on the transaction (a contract paying M…) counts as the id memo', () => {
    const record = resolveTransferMemo(decode({ from: contractSender, toMuxedId: { u64: 77n } }), {
      type: 'none',
      value: null,
    });
    expect(record).toMatchObject({
      from: contractSender,
      to_muxed_id: '77',
      transaction_attr: { memo_type: 'id', memo: '77' },
    });
    const result = matchPayment(record, { watchedAccounts: [account], candidate: candidate('id', '77') });
    expect(result).toMatchObject({ outcome: 'credit', payment: { fromAccount: contractSender } });
  });

  it('bytes to_muxed_id: hash or return memo, told apart by the transaction', () => {
    const bytes = Buffer.alloc(32, 9);
    const decoded = decode({ toMuxedId: { bytes } });
    expect(decoded.pending).toEqual({ kind: 'bytes', value: bytes.toString('base64') });
    expect(
      resolveTransferMemo(decoded, { type: 'hash', value: bytes.toString('base64') }).transaction_attr,
    ).toMatchObject({
      memo_type: 'hash',
      memo: bytes.toString('base64'),
    });
    const returned = resolveTransferMemo(decoded, { type: 'return', value: bytes.toString('base64') });
    expect(returned.transaction_attr).toMatchObject({ memo_type: 'return' });
    // A return memo is never one we issued: unknown, not credited.
    expect(
      matchPayment(returned, {
        watchedAccounts: [account],
        candidate: candidate('hash', bytes.toString('hex')),
      }),
    ).toMatchObject({ outcome: 'unmatched', reason: 'unknown_memo' });
  });

  it('a muxed destination in the topic is the base account plus its muxed id', () => {
    const muxed = new MuxedAccount(new Account(account, '0'), '12').accountId();
    const { record } = decode({ to: muxed });
    expect(record).toMatchObject({ to: account, to_muxed: muxed, to_muxed_id: '12' });
  });

  it('a path payment is credited with what the destination received (the event amount)', () => {
    // A path payment's transfer to the destination carries the destination asset and amount received.
    const { record } = decode({ amount: 995_000_000n, toMuxedId: { text: 'm1' } });
    const result = matchPayment(record, { watchedAccounts: [account], candidate: candidate('text', 'm1') });
    expect(result).toMatchObject({
      outcome: 'credit',
      event: { payment: { amount: '99.5000000', assetCode: 'USDC' } },
    });
  });

  it('a contract sender (C…) is credited like any other sender', () => {
    const { record } = decode({ from: contractSender, toMuxedId: { text: 'm2' } });
    expect(record.from).toBe(contractSender);
    expect(
      matchPayment(record, { watchedAccounts: [account], candidate: candidate('text', 'm2') }),
    ).toMatchObject({
      outcome: 'credit',
      payment: { fromAccount: contractSender },
    });
  });

  it('an event of a contract that is not the asset’s SAC is never a payment', () => {
    const { record } = decode({
      contractId: StrKey.encodeContract(Buffer.alloc(32, 1)),
      toMuxedId: { text: 'm3' },
    });
    expect(matchPayment(record, { watchedAccounts: [account], candidate: candidate('text', 'm3') })).toEqual({
      outcome: 'ignore',
      reason: 'not_a_payment',
    });
  });

  it('an event of a failed transaction is ignored', () => {
    const { record } = decode({ successful: false, toMuxedId: { text: 'm4' } });
    expect(matchPayment(record, { watchedAccounts: [account], candidate: candidate('text', 'm4') })).toEqual({
      outcome: 'ignore',
      reason: 'failed_transaction',
    });
  });

  it('a transfer to another account is not ours (the `to` is checked here too)', () => {
    const { record } = decode({ to: Keypair.random().publicKey() });
    expect(matchPayment(record, { watchedAccounts: [account], candidate: null })).toEqual({
      outcome: 'ignore',
      reason: 'not_to_watched_account',
    });
  });
});

describe('envelopeMemo', () => {
  const source = Keypair.random();
  const build = (memo: Memo) => {
    const tx = new TransactionBuilder(new Account(source.publicKey(), '1'), {
      fee: '100',
      networkPassphrase: passphrase,
      memo,
    })
      .addOperation(Operation.payment({ destination: account, asset: usdc, amount: '1' }))
      .setTimeout(0)
      .build();
    tx.sign(source);
    return tx;
  };

  it('reads each memo kind as Horizon spells it', () => {
    const hash = Buffer.alloc(32, 3);
    expect(envelopeMemo(build(Memo.id('42')).toEnvelope().toXDR('base64'), passphrase)).toEqual({
      type: 'id',
      value: '42',
    });
    expect(envelopeMemo(build(Memo.text('hi')).toEnvelope().toXDR('base64'), passphrase)).toEqual({
      type: 'text',
      value: 'hi',
    });
    expect(envelopeMemo(build(Memo.hash(hash)).toEnvelope().toXDR('base64'), passphrase)).toEqual({
      type: 'hash',
      value: hash.toString('base64'),
    });
    expect(envelopeMemo(build(Memo.none()).toEnvelope().toXDR('base64'), passphrase)).toEqual({
      type: 'none',
      value: null,
    });
  });

  it('reads the inner transaction’s memo of a fee bump', () => {
    const feeSource = Keypair.random();
    const bump = TransactionBuilder.buildFeeBumpTransaction(
      feeSource,
      '200',
      build(Memo.text('inner')),
      passphrase,
    );
    bump.sign(feeSource);
    expect(envelopeMemo(bump.toEnvelope().toXDR('base64'), passphrase)).toEqual({
      type: 'text',
      value: 'inner',
    });
  });
});
