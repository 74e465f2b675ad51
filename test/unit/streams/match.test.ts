import { describe, expect, it } from 'vitest';
import {
  canonicalMemo,
  matchPayment,
  paymentLookupKey,
  type HorizonPaymentRecord,
  type MatchResult,
  type PaymentCandidate,
} from '../../../streams/index.ts';

// Plain records of Horizon's shape, as the SDK hands them over with join=transactions.
const WATCHED = 'GBRPYHIL2CI3FNQ4BXLFMNDLFJUNPU2HY3ZMFSHONUCEOASW7QC7OX2H';
const OTHER_WATCHED = 'GDQNY3PBOJOKYZSRMK2S7LHHGWZIUISD4QORETLMXEWXBI7KFZZMKTL3';
const SENDER = 'GCEZWKCA5VLDNRLN3RPRJMRZOX3Z6G5CHCGSNFHEYVXM3XOJMDS674JZ';
const ISSUER = 'GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVN';
const OTHER_ISSUER = 'GAHK7EEG2WWHVKDNT4CEQFZGKF2LGDSW2IVM4S5DP42RBW3K6BTODB4A';
const MUXED = 'MBRPYHIL2CI3FNQ4BXLFMNDLFJUNPU2HY3ZMFSHONUCEOASW7QC7OAAAAAAAAAAAAGPQ4';
const HASH_BYTES = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1);
const HASH_B64 = btoa(String.fromCharCode(...HASH_BYTES));
const HASH_HEX = [...HASH_BYTES].map((b) => b.toString(16).padStart(2, '0')).join('');
const TX_HASH = 'a'.repeat(64);
const FEE_BUMP_HASH = 'b'.repeat(64);
const INNER_HASH = 'c'.repeat(64);

function record(overrides: Partial<HorizonPaymentRecord> = {}): HorizonPaymentRecord {
  return {
    id: '4294971393',
    paging_token: '4294971393',
    type: 'payment',
    created_at: '2026-11-24T12:00:05Z',
    transaction_hash: TX_HASH,
    transaction_successful: true,
    source_account: SENDER,
    from: SENDER,
    to: WATCHED,
    asset_type: 'credit_alphanum4',
    asset_code: 'USDC',
    asset_issuer: ISSUER,
    amount: '100.0000000',
    transaction_attr: { hash: TX_HASH, successful: true, memo_type: 'hash', memo: HASH_B64 },
    ...overrides,
  };
}

function candidate(overrides: Partial<PaymentCandidate> = {}): PaymentCandidate {
  return {
    id: 'tx-1',
    status: 'pending_sender',
    stellarAccountId: WATCHED,
    memoType: 'hash',
    memo: HASH_B64,
    assetCode: 'USDC',
    assetIssuer: ISSUER,
    creditedOperationId: null,
    ...overrides,
  };
}

const credit = (payment: Record<string, unknown> = {}) =>
  ({
    outcome: 'credit',
    transactionId: 'tx-1',
    event: {
      type: 'PAYMENT_RECEIVED',
      at: '2026-11-24T12:00:05Z',
      payment: {
        operationId: '4294971393',
        transactionHash: TX_HASH,
        amount: '100.0000000',
        assetCode: 'USDC',
        assetIssuer: ISSUER,
        createdAt: '2026-11-24T12:00:05Z',
        ...payment,
      },
    },
  }) as const;

const ignore = (reason: string) => ({ outcome: 'ignore', reason });
const unmatched = (reason: string, transactionId: string | null = null) => ({
  outcome: 'unmatched',
  reason,
  transactionId,
});

const cases: [string, HorizonPaymentRecord, PaymentCandidate | null, Partial<MatchResult> | object][] = [
  // Credited.
  ['a payment with the expected memo and asset', record(), candidate(), credit()],
  [
    'an under-payment (the machine decides what it means)',
    record({ amount: '40.0000000' }),
    candidate(),
    credit({ amount: '40.0000000' }),
  ],
  [
    'an over-payment (the machine credits it and asks for the excess back)',
    record({ amount: '150.0000000' }),
    candidate(),
    credit({ amount: '150.0000000' }),
  ],
  [
    'a strict-send path payment: what the destination received, not what was sent',
    record({
      type: 'path_payment_strict_send',
      amount: '99.5000000',
      source_amount: '250.0000000',
    }),
    candidate(),
    credit({ amount: '99.5000000' }),
  ],
  [
    'a strict-receive path payment: the destination amount',
    record({ type: 'path_payment_strict_receive', amount: '100.0000000', source_amount: '101.2000000' }),
    candidate(),
    credit(),
  ],
  [
    'a payment to a muxed address of the watched account',
    record({ to: WATCHED, to_muxed: MUXED, to_muxed_id: '1234' }),
    candidate(),
    { ...credit(), payment: expect.objectContaining({ account: WATCHED, toMuxed: MUXED }) },
  ],
  [
    'a fee-bump transaction: memo of the inner transaction, hash of the fee bump',
    record({
      transaction_hash: FEE_BUMP_HASH,
      transaction_attr: {
        hash: FEE_BUMP_HASH,
        successful: true,
        memo_type: 'hash',
        memo: HASH_B64,
        fee_bump_transaction: { hash: FEE_BUMP_HASH },
        inner_transaction: { hash: INNER_HASH },
      },
    }),
    candidate(),
    credit({ transactionHash: FEE_BUMP_HASH }),
  ],
  [
    'a hash memo stored as hex: compared in canonical form',
    record(),
    candidate({ memo: HASH_HEX }),
    credit(),
  ],
  [
    'a text memo',
    record({ transaction_attr: { hash: TX_HASH, memo_type: 'text', memo: 'order 42' } }),
    candidate({ memoType: 'text', memo: 'order 42' }),
    credit(),
  ],
  [
    'an id memo',
    record({ transaction_attr: { hash: TX_HASH, memo_type: 'id', memo: '18446744073709551615' } }),
    candidate({ memoType: 'id', memo: '18446744073709551615' }),
    credit(),
  ],
  [
    'a replay of the operation already credited to the transaction (the host dedupes it)',
    record(),
    candidate({ status: 'pending_receiver', creditedOperationId: '4294971393' }),
    credit(),
  ],
  [
    'a native payment to a native transaction',
    record({ asset_type: 'native', asset_code: undefined, asset_issuer: undefined }),
    candidate({ assetCode: 'native', assetIssuer: null }),
    credit({ assetCode: 'native', assetIssuer: null }),
  ],

  // Ignored: not an incoming payment we count.
  ['create_account', record({ type: 'create_account' }), null, ignore('not_a_payment')],
  ['account_merge', record({ type: 'account_merge' }), null, ignore('not_a_payment')],
  ['invoke_host_function', record({ type: 'invoke_host_function' }), null, ignore('not_a_payment')],
  [
    'a failed transaction (only served with include_failed)',
    record({ transaction_successful: false }),
    candidate(),
    ignore('failed_transaction'),
  ],
  [
    'a failed transaction, seen on the embedded transaction only',
    record({ transaction_successful: undefined, transaction_attr: { successful: false, memo_type: 'none' } }),
    candidate(),
    ignore('failed_transaction'),
  ],
  [
    'an outgoing payment of the watched account (e.g. a refund)',
    record({ from: WATCHED, source_account: WATCHED, to: SENDER }),
    null,
    ignore('outgoing'),
  ],
  [
    'a payment to another watched account (its own pipeline handles it)',
    record({ to: OTHER_WATCHED }),
    candidate(),
    ignore('not_to_watched_account'),
  ],
  [
    'a payment from the watched account to itself',
    record({ from: WATCHED, source_account: WATCHED }),
    candidate(),
    ignore('self_payment'),
  ],

  // Unmatched: stored for the operators.
  ['no memo', record({ transaction_attr: { hash: TX_HASH, memo_type: 'none' } }), null, unmatched('no_memo')],
  ['no embedded transaction', record({ transaction_attr: undefined }), null, unmatched('no_memo')],
  ['a memo no transaction has', record(), null, unmatched('unknown_memo')],
  [
    'a return memo (never issued by us)',
    record({ transaction_attr: { hash: TX_HASH, memo_type: 'return', memo: HASH_B64 } }),
    null,
    unmatched('unknown_memo'),
  ],
  [
    'a candidate with another memo value (defensive: the caller looked up the wrong one)',
    record(),
    candidate({ memo: btoa('x'.repeat(32)) }),
    unmatched('unknown_memo'),
  ],
  [
    'the same value under another memo type',
    record({ transaction_attr: { hash: TX_HASH, memo_type: 'text', memo: '42' } }),
    candidate({ memoType: 'id', memo: '42' }),
    unmatched('unknown_memo'),
  ],
  [
    'a candidate of another receiving account',
    record(),
    candidate({ stellarAccountId: OTHER_WATCHED }),
    unmatched('unknown_memo'),
  ],
  [
    'a transaction already paid (another payment was credited)',
    record(),
    candidate({ status: 'pending_receiver', creditedOperationId: '999' }),
    unmatched('not_pending_sender', 'tx-1'),
  ],
  ['an expired transaction', record(), candidate({ status: 'expired' }), unmatched('expired', 'tx-1')],
  [
    'the right code from another issuer',
    record({ asset_issuer: OTHER_ISSUER }),
    candidate(),
    unmatched('wrong_asset', 'tx-1'),
  ],
  ['another asset code', record({ asset_code: 'EURC' }), candidate(), unmatched('wrong_asset', 'tx-1')],
  [
    'XLM for a USDC transaction',
    record({ asset_type: 'native', asset_code: undefined, asset_issuer: undefined }),
    candidate(),
    unmatched('wrong_asset', 'tx-1'),
  ],
];

describe('matchPayment', () => {
  it.each(cases)('%s', (_name, rec, found, expected) => {
    expect(matchPayment(rec, { watchedAccounts: [WATCHED], candidate: found })).toMatchObject(expected);
  });

  it('keeps the whole incoming payment on unmatched results, for the refund queue', () => {
    const result = matchPayment(record({ asset_code: 'EURC', to_muxed: MUXED }), {
      watchedAccounts: [WATCHED],
      candidate: candidate(),
    });
    expect(result).toEqual({
      outcome: 'unmatched',
      reason: 'wrong_asset',
      transactionId: 'tx-1',
      payment: {
        operationId: '4294971393',
        transactionHash: TX_HASH,
        account: WATCHED,
        toMuxed: MUXED,
        fromAccount: SENDER,
        amount: '100.0000000',
        assetCode: 'EURC',
        assetIssuer: ISSUER,
        memoType: 'hash',
        memo: HASH_B64,
        createdAt: '2026-11-24T12:00:05Z',
      },
    });
  });
});

describe('paymentLookupKey', () => {
  it('gives the receiving account, memo type and every stored form of a hash memo', () => {
    expect(paymentLookupKey(record({ to_muxed: MUXED }), [WATCHED])).toEqual({
      account: WATCHED,
      memoType: 'hash',
      memo: HASH_B64,
      memoForms: [HASH_B64, HASH_HEX],
    });
  });

  it.each([
    ['no memo', record({ transaction_attr: { memo_type: 'none' } })],
    ['a return memo', record({ transaction_attr: { memo_type: 'return', memo: HASH_B64 } })],
    ['an outgoing payment', record({ from: WATCHED, to: SENDER })],
    ['not a payment', record({ type: 'create_account' })],
    ['a malformed hash memo', record({ transaction_attr: { memo_type: 'hash', memo: 'abc' } })],
  ])('is null for %s', (_name, rec) => {
    expect(paymentLookupKey(rec, [WATCHED])).toBeNull();
  });
});

describe('canonicalMemo', () => {
  it.each([
    ['hash', HASH_HEX, HASH_B64],
    ['hash', HASH_HEX.toUpperCase(), HASH_B64],
    ['hash', HASH_B64, HASH_B64],
    ['hash', btoa('short'), null],
    ['hash', 'not base64!', null],
    ['id', '0042', '42'],
    ['id', '18446744073709551616', null],
    ['id', '-1', null],
    ['text', 'hello', 'hello'],
  ] as const)('%s %s → %s', (type, value, expected) => {
    expect(canonicalMemo(type, value)).toBe(expected);
  });
});
