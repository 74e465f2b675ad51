// Shared test data for the transaction machine: one input and concrete events with fixed times.
import { expect } from 'vitest';
import {
  startTransaction,
  stepTransaction,
  type Step,
  type StellarPayment,
  type TransactionEvent,
  type TransactionInput,
  type TransactionSnapshot,
} from '../../../machines/index.ts';

export const ASSET_CODE = 'USDC';
export const ISSUER = 'GBBD47IF6LWK7P7MDEVSCWR7DPUWV3NY3DTQEVFL4NAT4AQH3ZLLFLA5';
export const OTHER_ISSUER = 'GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVN';
export const ASSET = `stellar:${ASSET_CODE}:${ISSUER}`;

export const STARTED_AT = '2026-03-01T10:00:00.000Z';
export const EXPIRES_AT = '2026-03-02T10:00:00.000Z';

/** Minutes after `STARTED_AT`, as an ISO string: events are stamped with increasing times. */
export function at(minutes: number): string {
  return new Date(Date.parse(STARTED_AT) + minutes * 60_000).toISOString();
}

/** 100 USDC in, fee 2, 98 out: the amounts every test below reasons about. */
export function makeInput(overrides: Partial<TransactionInput> = {}): TransactionInput {
  return {
    id: 'tx-1',
    sendingAnchor: 'GSENDINGANCHOR',
    startedAt: STARTED_AT,
    assetCode: ASSET_CODE,
    assetIssuer: ISSUER,
    amountInAsset: ASSET,
    amountIn: '100',
    amountOutAsset: ASSET,
    amountOut: '98',
    feeDetails: { total: '2', asset: ASSET },
    fundingMethod: 'SEPA',
    quoteId: null,
    senderId: 'sender-1',
    receiverId: 'receiver-1',
    refundMemo: null,
    refundMemoType: null,
    expiresAt: EXPIRES_AT,
    fields: {},
    ...overrides,
  };
}

export function payment(amount: string, overrides: Partial<StellarPayment> = {}): StellarPayment {
  return {
    operationId: '1234567890',
    transactionHash: 'a'.repeat(64),
    amount,
    assetCode: ASSET_CODE,
    assetIssuer: ISSUER,
    createdAt: at(2),
    ...overrides,
  };
}

/** Concrete events, each with a fixed `at` that grows in the order a transaction lives. */
export const ev = {
  accountAssigned: {
    type: 'ACCOUNT_ASSIGNED',
    at: at(1),
    stellarAccountId: 'GRECEIVINGACCOUNT',
    stellarMemoType: 'id',
    stellarMemo: '4242',
  },
  paidExact: { type: 'PAYMENT_RECEIVED', at: at(2), payment: payment('100') },
  paidOver: { type: 'PAYMENT_RECEIVED', at: at(2), payment: payment('110.5') },
  paidUnder: { type: 'PAYMENT_RECEIVED', at: at(2), payment: payment('50') },
  paidWrongAsset: { type: 'PAYMENT_RECEIVED', at: at(2), payment: payment('100', { assetCode: 'EURC' }) },
  paidWrongIssuer: {
    type: 'PAYMENT_RECEIVED',
    at: at(2),
    payment: payment('100', { assetIssuer: OTHER_ISSUER }),
  },
  expireEarly: { type: 'EXPIRE', at: at(60) },
  expireLate: { type: 'EXPIRE', at: at(48 * 60) },
  customerInfoNeeded: { type: 'CUSTOMER_INFO_NEEDED', at: at(3), message: 'receiver IBAN rejected' },
  customerInfoUpdated: { type: 'CUSTOMER_INFO_UPDATED', at: at(4) },
  transactionInfoNeeded: {
    type: 'TRANSACTION_INFO_NEEDED',
    at: at(3),
    message: 'reference is missing',
    fields: {
      reference: { description: 'payment reference' },
      note: { description: 'free text', optional: true },
    },
  },
  transactionInfoMissing: { type: 'TRANSACTION_INFO_UPDATED', at: at(4), values: { note: 'hi' } },
  transactionInfoComplete: { type: 'TRANSACTION_INFO_UPDATED', at: at(4), values: { reference: 'INV-7' } },
  payoutRequested: { type: 'PAYOUT_REQUESTED', at: at(5) },
  payoutPendingExternal: {
    type: 'PAYOUT_PENDING_EXTERNAL',
    at: at(6),
    externalTransactionId: 'bank-77',
    message: 'queued at the bank',
  },
  payoutSubmittedStellar: { type: 'PAYOUT_SUBMITTED_STELLAR', at: at(6), transactionHash: 'b'.repeat(64) },
  payoutCompleted: { type: 'PAYOUT_COMPLETED', at: at(7), externalTransactionId: 'bank-77' },
  payoutFailed: { type: 'PAYOUT_FAILED', at: at(7), message: 'account closed' },
  refundPartial: { type: 'REFUND_SENT', at: at(8), refund: { id: 'c'.repeat(64), amount: '30', fee: '1' } },
  refundRest: { type: 'REFUND_SENT', at: at(9), refund: { id: 'd'.repeat(64), amount: '70', fee: '1' } },
  refundFull: { type: 'REFUND_SENT', at: at(9), refund: { id: 'e'.repeat(64), amount: '100', fee: '1' } },
  refundTooMuch: {
    type: 'REFUND_SENT',
    at: at(9),
    refund: { id: 'f'.repeat(64), amount: '100.0000001', fee: '0' },
  },
  error: { type: 'ERROR', at: at(10), message: 'rails unreachable' },
  recover: { type: 'RECOVER', at: at(11), message: 'operator retried' },
  expireNow: { type: 'EXPIRE_NOW', at: at(12), message: 'the sender cancelled' },
  // amount_in 100 − fee 3 = 97: adds up before any refund.
  amountsUpdated: {
    type: 'AMOUNTS_UPDATED',
    at: at(4),
    amountOut: '97',
    feeDetails: { total: '3', asset: ASSET },
    message: 'fee corrected',
  },
  amountsWrong: {
    type: 'AMOUNTS_UPDATED',
    at: at(4),
    amountOut: '98',
    feeDetails: { total: '3', asset: ASSET },
  },
} satisfies Record<string, TransactionEvent>;

/** Applies events in order from creation; fails the test if one is refused. */
export function run(events: readonly TransactionEvent[], input: TransactionInput = makeInput()): Step {
  let step = startTransaction(input);
  for (const event of events) {
    const result = stepTransaction(step.snapshot, event);
    if (!result.accepted) throw new Error(`${event.type} refused in ${step.status}: ${result.reason}`);
    step = result.step;
  }
  return step;
}

/** Applies one event that must be accepted. */
export function accept(snapshot: TransactionSnapshot, event: TransactionEvent): Step {
  const result = stepTransaction(snapshot, event);
  expect(result, `${event.type} should be accepted`).toMatchObject({ accepted: true });
  if (!result.accepted) throw new Error(result.reason);
  return result.step;
}

/** Paths that the tests start from. */
export const paths = {
  pendingSender: [ev.accountAssigned],
  ready: [ev.accountAssigned, ev.paidExact],
  payingOut: [ev.accountAssigned, ev.paidExact, ev.payoutRequested],
  pendingExternal: [ev.accountAssigned, ev.paidExact, ev.payoutRequested, ev.payoutPendingExternal],
  pendingStellar: [ev.accountAssigned, ev.paidExact, ev.payoutRequested, ev.payoutSubmittedStellar],
  customerInfo: [ev.accountAssigned, ev.paidExact, ev.customerInfoNeeded],
  transactionInfo: [ev.accountAssigned, ev.paidExact, ev.transactionInfoNeeded],
  errorWithFunds: [ev.accountAssigned, ev.paidExact, ev.payoutRequested, ev.payoutFailed],
  errorWithoutFunds: [ev.accountAssigned, ev.error],
  completed: [ev.accountAssigned, ev.paidExact, ev.payoutRequested, ev.payoutCompleted],
  refunded: [ev.accountAssigned, ev.paidExact, ev.refundFull],
  expired: [ev.accountAssigned, ev.expireLate],
} satisfies Record<string, TransactionEvent[]>;
