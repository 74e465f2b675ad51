/**
 * The records builder: every record is derived from a real signed transaction, so hashes, signatures and
 * result XDR must check out with the SDK itself.
 */
import { describe, expect, it } from 'vitest';
import {
  Account,
  Asset,
  FeeBumpTransaction,
  Keypair,
  Memo,
  MuxedAccount,
  Networks,
  Transaction,
  TransactionBuilder,
  xdr,
} from '@stellar/stellar-sdk';
import {
  afterLedger,
  buildTransactionRecords,
  formatAmount,
  paymentTransaction,
  toStroops,
  toid,
  type HorizonOperationRecord,
  type TransactionSpec,
} from '../../fakes/horizon-records.ts';

const context = { baseUrl: 'http://horizon.test', networkPassphrase: Networks.TESTNET };
const at = { ledger: 1234, txIndex: 3, closedAt: '2026-11-24T12:01:00Z' };
const sender = Keypair.random();
const anchor = Keypair.random();
const issuer = Keypair.random();
const USDC = new Asset('USDC', issuer.publicKey());
const EURC = new Asset('EURC', issuer.publicKey());

function build(spec: TransactionSpec, position = at) {
  return buildTransactionRecords(spec, position, context);
}

function hashOf(envelopeXdr: string): string {
  return Buffer.from(TransactionBuilder.fromXdr(envelopeXdr, Networks.TESTNET).hash()).toString('hex');
}

function op<T extends HorizonOperationRecord['type']>(record: HorizonOperationRecord | undefined, type: T) {
  expect(record?.type).toBe(type);
  return record as Extract<HorizonOperationRecord, { type: T }>;
}

describe('transaction records', () => {
  const built = build(
    paymentTransaction({
      from: sender,
      destination: anchor.publicKey(),
      asset: USDC,
      amount: '100',
      memo: Memo.text('order-42'),
    }),
  );
  const tx = built.transaction;

  it('id and hash are the real hash of the real envelope', () => {
    const envelope = new Transaction(tx.envelope_xdr, Networks.TESTNET);
    const real = Buffer.from(envelope.hash()).toString('hex');
    expect(tx.id).toBe(real);
    expect(tx.hash).toBe(real);
    expect(real).toMatch(/^[0-9a-f]{64}$/);
    expect(envelope.source).toBe(sender.publicKey());
    expect(envelope.sequence).toBe(tx.source_account_sequence);
    expect(envelope.operations).toEqual([
      { type: 'payment', destination: anchor.publicKey(), asset: USDC, amount: '100.0000000' },
    ]);
  });

  it('is signed by the source: the same signature the SDK makes, and it verifies', () => {
    const envelope = new Transaction(tx.envelope_xdr, Networks.TESTNET);
    const signature = Buffer.from(envelope.signatures[0]!.signature.toBytes());
    expect(sender.verify(envelope.hash(), signature)).toBe(true);
    expect(tx.signatures).toEqual([signature.toString('base64')]);
    const bySdk = new Transaction(tx.envelope_xdr, Networks.TESTNET);
    bySdk.signatures.length = 0;
    bySdk.sign(sender);
    expect(Buffer.from(bySdk.signatures[0]!.signature.toBytes())).toEqual(signature);
  });

  it('has a real TransactionResult: txSUCCESS with a PAYMENT_SUCCESS, fee charged', () => {
    const result = xdr.TransactionResult.fromXdr(tx.result_xdr, 'base64');
    expect(result.feeCharged).toBe(100n);
    expect(result.toXdrObject()).toEqual({
      feeCharged: 100n,
      result: { code: 0, results: [{ code: 0, tr: { type: 1, paymentResult: { code: 0 } } }] },
      ext: { v: 0 },
    });
    expect(tx).toMatchObject({ successful: true, fee_charged: '100', max_fee: '100', operation_count: 1 });
  });

  it('carries Horizon fields: ledger, time, source, fee account, memo, TOID paging token, links', () => {
    expect(tx).toMatchObject({
      paging_token: toid(1234, 3, 0).toString(),
      ledger: 1234,
      created_at: '2026-11-24T12:01:00Z',
      source_account: sender.publicKey(),
      fee_account: sender.publicKey(),
      memo_type: 'text',
      memo: 'order-42',
      memo_bytes: Buffer.from('order-42').toString('base64'),
    });
    expect(tx.fee_bump_transaction).toBeUndefined();
    expect(tx._links.self.href).toBe(`http://horizon.test/transactions/${tx.hash}`);
    expect(tx.paging_token).toBe(((1234n << 32n) | (3n << 12n)).toString());
  });

  it('derives the payment operation record', () => {
    const payment = op(built.operations[0], 'payment');
    expect(payment).toEqual({
      _links: {
        self: { href: `http://horizon.test/operations/${payment.id}` },
        transaction: { href: `http://horizon.test/transactions/${tx.hash}` },
        effects: { href: `http://horizon.test/operations/${payment.id}/effects` },
        succeeds: { href: `http://horizon.test/effects?order=desc&cursor=${payment.id}` },
        precedes: { href: `http://horizon.test/effects?order=asc&cursor=${payment.id}` },
      },
      id: toid(1234, 3, 1).toString(),
      paging_token: toid(1234, 3, 1).toString(),
      transaction_successful: true,
      source_account: sender.publicKey(),
      type: 'payment',
      type_i: 1,
      created_at: '2026-11-24T12:01:00Z',
      transaction_hash: tx.hash,
      asset_type: 'credit_alphanum4',
      asset_code: 'USDC',
      asset_issuer: issuer.publicKey(),
      from: sender.publicKey(),
      to: anchor.publicKey(),
      amount: '100.0000000',
    });
  });
});

describe('memos, as Horizon renders them', () => {
  const hash = Buffer.alloc(32, 7);
  const cases: [string, Memo | undefined, { memo_type: string; memo?: string }][] = [
    ['none', undefined, { memo_type: 'none' }],
    ['id', Memo.id('18446744073709551615'), { memo_type: 'id', memo: '18446744073709551615' }],
    ['hash (base64)', Memo.hash(hash.toString('hex')), { memo_type: 'hash', memo: hash.toString('base64') }],
    [
      'return (base64)',
      Memo.return(hash.toString('hex')),
      { memo_type: 'return', memo: hash.toString('base64') },
    ],
    ['text (UTF-8)', Memo.text('héllo'), { memo_type: 'text', memo: 'héllo' }],
  ];
  it.each(cases)('%s', (_name, memo, expected) => {
    const { transaction } = build(
      paymentTransaction({ from: sender, destination: anchor.publicKey(), amount: '1', memo }),
    );
    expect({ memo_type: transaction.memo_type, memo: transaction.memo }).toEqual({
      memo: undefined,
      ...expected,
    });
    expect('memo' in transaction).toBe(expected.memo !== undefined);
    // The memo is the one in the envelope.
    const envelope = new Transaction(transaction.envelope_xdr, Networks.TESTNET);
    expect(envelope.memo.type).toBe(expected.memo_type);
  });
});

describe('operation types', () => {
  it('strict send: `amount` is what ARRIVED, not what was sent; the result XDR says so too', () => {
    const built = build(
      paymentTransaction({
        type: 'path_payment_strict_send',
        from: sender,
        destination: anchor.publicKey(),
        sendAsset: EURC,
        sendAmount: '100',
        destAsset: USDC,
        destMin: '90',
        destAmount: '95.5',
        path: [Asset.native()],
      }),
    );
    const record = op(built.operations[0], 'path_payment_strict_send');
    expect(record).toMatchObject({
      type_i: 13,
      amount: '95.5000000',
      source_amount: '100.0000000',
      destination_min: '90.0000000',
      asset_code: 'USDC',
      source_asset_type: 'credit_alphanum4',
      source_asset_code: 'EURC',
      source_asset_issuer: issuer.publicKey(),
      path: [{ asset_type: 'native' }],
      to: anchor.publicKey(),
    });
    expect(record.amount).not.toBe(record.source_amount);
    const result = xdr.TransactionResult.fromXdr(built.transaction.result_xdr, 'base64').toXdrObject();
    expect(result.result).toMatchObject({
      code: 0,
      results: [
        { code: 0, tr: { type: 13, pathPaymentStrictSendResult: { code: 0, success: { offers: [] } } } },
      ],
    });
    const success = (
      result.result as {
        results: { tr: { pathPaymentStrictSendResult: { success: { last: { amount: bigint } } } } }[];
      }
    ).results[0]!.tr.pathPaymentStrictSendResult.success;
    expect(success.last.amount).toBe(toStroops('95.5'));
    const envelope = new Transaction(built.transaction.envelope_xdr, Networks.TESTNET);
    expect(envelope.operations[0]).toMatchObject({
      type: 'pathPaymentStrictSend',
      sendAmount: '100.0000000',
      destMin: '90.0000000',
    });
  });

  it('strict receive: `amount` is the fixed destination amount, source_amount what was spent', () => {
    const built = build(
      paymentTransaction({
        type: 'path_payment_strict_receive',
        from: sender,
        destination: anchor.publicKey(),
        sendAsset: EURC,
        sendMax: '110',
        sourceAmount: '104.25',
        destAsset: USDC,
        destAmount: '100',
      }),
    );
    expect(op(built.operations[0], 'path_payment_strict_receive')).toMatchObject({
      type_i: 2,
      amount: '100.0000000',
      source_amount: '104.2500000',
      source_max: '110.0000000',
      path: [],
    });
  });

  it('create_account carries funder, account and starting balance', () => {
    const fresh = Keypair.random().publicKey();
    const built = build(
      paymentTransaction({
        type: 'create_account',
        from: sender,
        destination: fresh,
        startingBalance: '2.5',
      }),
    );
    expect(op(built.operations[0], 'create_account')).toMatchObject({
      type_i: 0,
      funder: sender.publicKey(),
      account: fresh,
      starting_balance: '2.5000000',
    });
  });

  it('muxed destination: `to` is the G account, with to_muxed and to_muxed_id', () => {
    const muxed = new MuxedAccount(new Account(anchor.publicKey(), '0'), '9007199254740993').accountId();
    const built = build(paymentTransaction({ from: sender, destination: muxed, amount: '5' }));
    expect(op(built.operations[0], 'payment')).toMatchObject({
      to: anchor.publicKey(),
      to_muxed: muxed,
      to_muxed_id: '9007199254740993',
    });
    const envelope = new Transaction(built.transaction.envelope_xdr, Networks.TESTNET);
    expect(envelope.operations[0]).toMatchObject({ destination: muxed });
  });

  it('several operations get consecutive ids, each with its own source', () => {
    const other = Keypair.random();
    const built = build({
      source: sender,
      operations: [
        { type: 'payment', destination: anchor.publicKey(), amount: '1' },
        { type: 'payment', destination: anchor.publicKey(), amount: '2', source: other },
      ],
    });
    expect(built.operations.map((o) => [o.id, o.source_account])).toEqual([
      [toid(1234, 3, 1).toString(), sender.publicKey()],
      [toid(1234, 3, 2).toString(), other.publicKey()],
    ]);
    const envelope = new Transaction(built.transaction.envelope_xdr, Networks.TESTNET);
    expect(envelope.signatures).toHaveLength(2);
    expect(built.transaction).toMatchObject({ operation_count: 2, fee_charged: '200', max_fee: '200' });
  });
});

describe('failed transactions and fee bumps', () => {
  it('a failed transaction: successful false everywhere, txFAILED result with PAYMENT_UNDERFUNDED', () => {
    const built = build(
      paymentTransaction({ from: sender, destination: anchor.publicKey(), amount: '1', successful: false }),
    );
    expect(built.transaction.successful).toBe(false);
    expect(built.operations[0]!.transaction_successful).toBe(false);
    expect(
      xdr.TransactionResult.fromXdr(built.transaction.result_xdr, 'base64').toXdrObject().result,
    ).toEqual({
      code: -1,
      results: [{ code: 0, tr: { type: 1, paymentResult: { code: -2 } } }],
    });
    expect(built.transaction.hash).toBe(hashOf(built.transaction.envelope_xdr));
  });

  it('a fee bump: hash of the outer envelope, inner_transaction with the inner hash, fee_account the payer', () => {
    const payer = Keypair.random();
    const built = build(
      paymentTransaction({
        from: sender,
        destination: anchor.publicKey(),
        amount: '1',
        memo: Memo.id('7'),
        feeBump: { feeSource: payer, baseFee: 200 },
      }),
    );
    const tx = built.transaction;
    const outer = TransactionBuilder.fromXdr(tx.envelope_xdr, Networks.TESTNET);
    expect(outer).toBeInstanceOf(FeeBumpTransaction);
    const inner = (outer as FeeBumpTransaction).innerTransaction;
    expect(tx.hash).toBe(Buffer.from(outer.hash()).toString('hex'));
    expect(tx.inner_transaction).toEqual({
      hash: Buffer.from(inner.hash()).toString('hex'),
      signatures: [Buffer.from(inner.signatures[0]!.signature.toBytes()).toString('base64')],
      max_fee: '100',
    });
    expect(tx.fee_bump_transaction).toEqual({ hash: tx.hash, signatures: tx.signatures });
    expect(tx).toMatchObject({
      source_account: sender.publicKey(),
      fee_account: payer.publicKey(),
      max_fee: '400',
      memo_type: 'id',
      memo: '7',
    });
    expect(payer.verify(outer.hash(), Buffer.from(outer.signatures[0]!.signature.toBytes()))).toBe(true);
    expect(built.operations[0]!.transaction_hash).toBe(tx.hash);
    const result = xdr.TransactionResult.fromXdr(tx.result_xdr, 'base64');
    expect(result.result.type).toBe('txFeeBumpInnerSuccess');
    expect(result.toXdrObject().result).toMatchObject({
      code: 1,
      innerResultPair: { transactionHash: new Uint8Array(inner.hash()), result: { result: { code: 0 } } },
    });
    expect(built.innerView).toMatchObject({
      id: tx.inner_transaction!.hash,
      hash: tx.inner_transaction!.hash,
    });
  });
});

describe('TOIDs, amounts, validation', () => {
  it('ids grow with ledger, then transaction index, then operation index', () => {
    const ids = [
      toid(5, 1, 1),
      toid(5, 1, 2),
      toid(5, 2, 1),
      toid(6, 1, 0),
      toid(6, 1, 1),
      afterLedger(6),
      toid(7, 1, 0),
    ];
    expect([...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(ids);
    expect(toid(1, 1, 1)).toBe(4294971393n);
    expect(() => toid(1, 1 << 20, 0)).toThrow(RangeError);
  });

  it('prints amounts as Horizon does', () => {
    expect(formatAmount(toStroops('100'))).toBe('100.0000000');
    expect(formatAmount(toStroops('0.0000001'))).toBe('0.0000001');
    expect(formatAmount(toStroops('922337203685.4775807'))).toBe('922337203685.4775807');
    expect(() => toStroops('1.00000001')).toThrow(RangeError);
    expect(() => toStroops('-1')).toThrow(RangeError);
  });

  it('refuses impossible path payments', () => {
    const base = { from: sender, destination: anchor.publicKey(), sendAsset: EURC, destAsset: USDC };
    expect(() =>
      build(
        paymentTransaction({
          ...base,
          type: 'path_payment_strict_send',
          sendAmount: '10',
          destMin: '9',
          destAmount: '8',
        }),
      ),
    ).toThrow(/below destMin/);
    expect(() =>
      build(
        paymentTransaction({
          ...base,
          type: 'path_payment_strict_receive',
          sendMax: '10',
          sourceAmount: '11',
          destAmount: '9',
        }),
      ),
    ).toThrow(/exceeds sendMax/);
  });
});
