import { and, assertEvent, assign, not, setup } from 'xstate';
import { addAmounts, compareAmounts, fromStroops, isAmount, toStroops } from '../amounts.ts';
import type { TransactionContext, TransactionInput } from './context.ts';
import type { TransactionEffect } from './effects.ts';
import type { StellarPayment, TransactionEvent } from './events.ts';
import { STATUS_DESCRIPTIONS, type TransactionStatus } from './statuses.ts';

/**
 * The SEP-31 transaction as a pure statechart. Top-level states are the SEP-31 statuses verbatim;
 * `pending_receiver` has sub-states for our own progress (before funds, ready to pay out, payout in flight).
 * No I/O: transitions that need the world record effects through `recordEffect`, and the actor host
 * writes them to the outbox together with the new state.
 */
export function initialContext(input: TransactionInput): TransactionContext {
  return {
    ...input,
    updatedAt: input.startedAt,
    completedAt: null,
    stellarAccountId: null,
    stellarMemoType: null,
    stellarMemo: null,
    payment: null,
    stellarTransactionId: null,
    excessAmount: null,
    externalTransactionId: null,
    statusMessage: null,
    requiredInfoMessage: null,
    requiredInfoUpdates: null,
    refunds: null,
    payoutAttempt: 0,
  };
}

/** Entry of every status: stamp `updated_at` and ask for a status-change notification. */
function enterStatus(status: TransactionStatus) {
  return ['stampUpdatedAt', { type: 'recordEffect', params: { kind: 'status_changed', status } }] as const;
}

function refundTotals(context: TransactionContext, refund: { amount: string; fee: string }) {
  const previous = context.refunds ?? { amountRefunded: '0', amountFee: '0', payments: [] };
  return {
    amountRefunded: addAmounts(previous.amountRefunded, refund.amount),
    amountFee: addAmounts(previous.amountFee, refund.fee),
  };
}

/** What the transaction holds: the payment, up to the expected amount (any excess is refunded apart). */
export function creditedAmount(context: TransactionContext): string {
  if (context.payment === null) return '0';
  return compareAmounts(context.payment.amount, context.amountIn) < 0
    ? context.payment.amount
    : context.amountIn;
}

/**
 * A payment made at or after the firm quote's deadline (SEP-31: the payment's ledger time, Horizon's
 * `created_at`, must be earlier than the quote's expiration): never credited at the quote's stale price.
 */
export function paidAfterQuoteExpired(
  context: Pick<TransactionContext, 'quoteId' | 'expiresAt'>,
  payment: Pick<StellarPayment, 'createdAt'>,
): boolean {
  return (
    context.quoteId !== null &&
    context.expiresAt !== null &&
    Date.parse(payment.createdAt) >= Date.parse(context.expiresAt)
  );
}

/** What is still owed to the receiver: amount_in − fee − refunds − refund fees, or null if negative. */
function amountOutAfter(context: TransactionContext, refunded: string, refundFees: string): string | null {
  const rest =
    toStroops(context.amountIn) -
    toStroops(context.feeDetails.total) -
    toStroops(refunded) -
    toStroops(refundFees);
  return rest < 0n ? null : fromStroops(rest);
}

/**
 * amount_out once the refunds of held funds go from `before` to `after`. In one asset: amount_in − fee −
 * refunds. Converted (a quote's other asset): the share of the current amount_out that the net still held
 * keeps, at the same price, rounded down to the asset's decimals (the receiver is never paid more).
 */
function amountOutAfterRefunds(
  context: TransactionContext,
  before: { amount: string; fee: string },
  after: { amount: string; fee: string },
): string {
  if (context.amountOutAsset === context.amountInAsset) {
    return amountOutAfter(context, after.amount, after.fee) ?? '0';
  }
  const fee = context.feeDetails.asset === context.amountInAsset ? toStroops(context.feeDetails.total) : 0n;
  const net = (refunds: { amount: string; fee: string }) =>
    toStroops(context.amountIn) - fee - toStroops(refunds.amount) - toStroops(refunds.fee);
  const netBefore = net(before);
  const netAfter = net(after);
  if (netBefore <= 0n || netAfter <= 0n) return '0';
  const step = 10n ** BigInt(7 - (context.amountOutDecimals ?? 7));
  return fromStroops(((toStroops(context.amountOut) * netAfter) / netBefore / step) * step);
}

const inFlight = (context: TransactionContext) => context.refundsInFlight ?? [];

/** Refunds of what the transaction holds (excess refunds apart), done and optionally in flight. */
function heldRefunds(context: TransactionContext, withInFlight: boolean) {
  const done = (context.refunds?.payments ?? []).filter((p) => p.excess !== true);
  const pending = withInFlight ? inFlight(context).filter((p) => !p.excess) : [];
  const all = [...done, ...pending];
  return {
    amount: addAmounts('0', ...all.map((p) => p.amount)),
    fee: addAmounts('0', ...all.map((p) => p.fee)),
  };
}

/** What can still be refunded of the credited payment (requests in flight count as spent). */
export function refundableAmount(context: TransactionContext): string {
  const rest = toStroops(creditedAmount(context)) - toStroops(heldRefunds(context, true).amount);
  return rest < 0n ? '0' : fromStroops(rest);
}

/** The over-payment's excess is still owed: not refunded, not being refunded. */
function excessOwed(context: TransactionContext): boolean {
  return (
    context.excessAmount !== null &&
    !(context.refunds?.payments ?? []).some((p) => p.excess === true) &&
    !inFlight(context).some((p) => p.excess)
  );
}

/** Whether a REFUND_SENT settles a requested excess refund. */
function sentIsExcess(context: TransactionContext, refundId: string | undefined): boolean {
  return refundId !== undefined && inFlight(context).some((p) => p.refundId === refundId && p.excess);
}

type RefundRequest = Extract<TransactionEvent, { type: 'REFUND_REQUESTED' }>;

/** A request whose id and amounts are well formed (a malformed one is refused by the guards, never thrown). */
function wellFormed(event: RefundRequest): boolean {
  return (
    typeof event.refundId === 'string' &&
    event.refundId !== '' &&
    typeof event.amount === 'string' &&
    isAmount(event.amount) &&
    typeof event.fee === 'string' &&
    isAmount(event.fee)
  );
}

/** `full`, `partial` or null (refused) for a refund request of what the transaction holds. */
function heldRequestKind(context: TransactionContext, event: RefundRequest): 'full' | 'partial' | null {
  if (
    !wellFormed(event) ||
    event.excess === true ||
    inFlight(context).some((p) => p.refundId === event.refundId)
  )
    return null;
  if (compareAmounts(event.amount, '0') <= 0) return null;
  const held = heldRefunds(context, true);
  const amount = addAmounts(held.amount, event.amount);
  const fee = addAmounts(held.fee, event.fee);
  const order = compareAmounts(amount, creditedAmount(context));
  if (order === 0) return 'full';
  if (order < 0 && amountOutAfter(context, amount, fee) !== null) return 'partial';
  return null;
}

/** The `send_refund` effect of a refund request Mooring sends itself. */
const recordSendRefund = {
  type: 'recordEffect',
  params: ({ event }: { event: TransactionEvent }): TransactionEffect => {
    assertEvent(event, 'REFUND_REQUESTED');
    return {
      kind: 'send_refund',
      refundId: event.refundId,
      amount: event.amount,
      fee: event.fee,
      excess: event.excess === true,
      idempotencyKey: event.refundId,
    };
  },
} as const;

/** Every state that holds the funds and no payout in flight takes refund requests, reports and failures. */
const REFUND_HANDLERS = {
  REFUND_REQUESTED: [
    {
      guard: and(['excessRefundRequest', 'sentByMooring']),
      actions: ['noteRefundRequested', recordSendRefund],
    },
    { guard: 'excessRefundRequest', actions: 'noteRefundRequested' },
    // A refund that returns everything ends the transaction: it shows pending_stellar until confirmed.
    {
      target: '#transaction.pending_stellar',
      guard: and(['fullRefundRequest', 'sentByMooring']),
      actions: ['noteRefundRequested', recordSendRefund],
    },
    { target: '#transaction.pending_stellar', guard: 'fullRefundRequest', actions: 'noteRefundRequested' },
    {
      guard: and(['partialRefundRequest', 'sentByMooring']),
      actions: ['noteRefundRequested', recordSendRefund],
    },
    { guard: 'partialRefundRequest', actions: 'noteRefundRequested' },
  ],
  REFUND_SENT: [
    { guard: 'isExcessRefund', actions: 'applyRefund' },
    { target: '#transaction.refunded', guard: 'isFullRefund', actions: 'applyRefund' },
    { guard: 'isPartialRefund', actions: 'applyRefund' },
  ],
  REFUND_FAILED: { guard: 'refundInFlight', actions: 'dropFailedRefund' },
} as const;

export const transactionMachine = setup({
  types: {
    context: {} as TransactionContext,
    events: {} as TransactionEvent,
    input: {} as TransactionInput,
  },
  actions: {
    /** Marker only: the host reads these from the transition's actions and writes them to the outbox. */
    recordEffect: (_, _effect: TransactionEffect) => {},
    creditPayment: assign(({ context, event }) => {
      assertEvent(event, 'PAYMENT_RECEIVED');
      const excess = toStroops(event.payment.amount) - toStroops(context.amountIn);
      return {
        payment: event.payment,
        stellarTransactionId: event.payment.transactionHash,
        excessAmount: excess > 0n ? fromStroops(excess) : null,
        statusMessage:
          excess > 0n
            ? `over-paid: received ${event.payment.amount}, expected ${context.amountIn}; ${fromStroops(excess)} is owed back`
            : null,
      };
    }),
    applyRefund: assign(({ context, event }) => {
      assertEvent(event, 'REFUND_SENT');
      const totals = refundTotals(context, event.refund);
      const excess = sentIsExcess(context, event.refundId);
      const payment = excess ? { ...event.refund, excess: true } : event.refund;
      const refunds = { ...totals, payments: [...(context.refunds?.payments ?? []), payment] };
      const settled = inFlight(context).filter((p) => p.refundId !== event.refundId);
      // The excess was never part of amount_in: returning it leaves amount_out as it is.
      if (excess) return { refunds, refundsInFlight: settled };
      const before = heldRefunds(context, false);
      const held = heldRefunds({ ...context, refunds }, false);
      const full = compareAmounts(held.amount, creditedAmount(context)) === 0;
      return {
        refunds,
        refundsInFlight: settled,
        amountOut: full ? '0' : amountOutAfterRefunds(context, before, held),
      };
    }),
    noteRefundRequested: assign(({ context, event }) => {
      assertEvent(event, 'REFUND_REQUESTED');
      const pending = {
        refundId: event.refundId,
        amount: event.amount,
        fee: event.fee,
        excess: event.excess === true,
        sentBy: event.sentBy ?? ('mooring' as const),
      };
      return { refundsInFlight: [...inFlight(context), pending] };
    }),
    dropFailedRefund: assign(({ context, event }) => {
      assertEvent(event, 'REFUND_FAILED');
      return {
        refundsInFlight: inFlight(context).filter((p) => p.refundId !== event.refundId),
        statusMessage: `refund ${event.refundId} failed: ${event.message}`,
      };
    }),
    noteUnsettledPayout: assign(({ context, event }) => {
      assertEvent(event, ['PAYOUT_FAILED', 'PAYOUT_UNKNOWN']);
      const unknown = event.type === 'PAYOUT_UNKNOWN';
      const idempotencyKey = `${context.id}:payout:${context.payoutAttempt}`;
      return {
        payoutReconciliation: {
          attempt: context.payoutAttempt,
          idempotencyKey,
          outcome: unknown ? ('unknown' as const) : ('failed' as const),
          answer: event.message,
        },
        statusMessage: unknown
          ? `payout outcome unknown (${event.message}); reconcile payout ${idempotencyKey}: retry it with the same key, mark it paid, or refund`
          : event.message,
      };
    }),
    applyPayoutCompleted: assign(({ context, event }) => {
      assertEvent(event, 'PAYOUT_COMPLETED');
      return {
        externalTransactionId: event.externalTransactionId ?? context.externalTransactionId,
        statusMessage: event.message ?? null,
      };
    }),
    noteExpiryMessage: assign(({ context, event }) => {
      assertEvent(event, 'EXPIRE_NOW');
      return { statusMessage: event.message ?? context.statusMessage };
    }),
    markCompleted: assign({ completedAt: ({ event }) => event.at }),
    // The creation event (xstate.init) carries no time: keep startedAt.
    stampUpdatedAt: assign({
      updatedAt: ({ context, event }) => ('at' in event ? (event.at as string) : context.updatedAt),
    }),
    noteCustomerInfoNeeded: assign(({ event }) => {
      assertEvent(event, 'CUSTOMER_INFO_NEEDED');
      return { requiredInfoMessage: event.message };
    }),
    applyAmounts: assign(({ context, event }) => {
      assertEvent(event, 'AMOUNTS_UPDATED');
      return {
        amountOut: event.amountOut,
        feeDetails: event.feeDetails,
        statusMessage: event.message ?? context.statusMessage,
      };
    }),
    noteTransactionInfoNeeded: assign(({ event }) => {
      assertEvent(event, 'TRANSACTION_INFO_NEEDED');
      return { requiredInfoMessage: event.message, requiredInfoUpdates: event.fields };
    }),
  },
  guards: {
    deadlinePassed: ({ context, event }) =>
      context.expiresAt !== null && Date.parse(event.at) >= Date.parse(context.expiresAt),
    paidBeforeQuoteExpired: ({ context, event }) => {
      assertEvent(event, 'PAYMENT_RECEIVED');
      return !paidAfterQuoteExpired(context, event.payment);
    },
    inTransactionAsset: ({ context, event }) => {
      assertEvent(event, 'PAYMENT_RECEIVED');
      return (
        event.payment.assetCode === context.assetCode && event.payment.assetIssuer === context.assetIssuer
      );
    },
    paidExactly: ({ context, event }) => {
      assertEvent(event, 'PAYMENT_RECEIVED');
      return compareAmounts(event.payment.amount, context.amountIn) === 0;
    },
    overpaid: ({ context, event }) => {
      assertEvent(event, 'PAYMENT_RECEIVED');
      return compareAmounts(event.payment.amount, context.amountIn) > 0;
    },
    fundsReceived: ({ context }) => context.payment !== null,
    // The payout waits for refunds in flight and for the over-payment's excess to be settled (so a refund
    // confirmation never arrives after the transaction is completed, where it could not be recorded).
    nothingToRefundFirst: ({ context }) => inFlight(context).length === 0 && !excessOwed(context),
    excessRefundRequest: ({ context, event }) => {
      assertEvent(event, 'REFUND_REQUESTED');
      return (
        event.excess === true &&
        wellFormed(event) &&
        excessOwed(context) &&
        compareAmounts(addAmounts(event.amount, event.fee), context.excessAmount ?? '0') === 0
      );
    },
    fullRefundRequest: ({ context, event }) => {
      assertEvent(event, 'REFUND_REQUESTED');
      return heldRequestKind(context, event) === 'full';
    },
    partialRefundRequest: ({ context, event }) => {
      assertEvent(event, 'REFUND_REQUESTED');
      return heldRequestKind(context, event) === 'partial';
    },
    sentByMooring: ({ event }) => {
      assertEvent(event, 'REFUND_REQUESTED');
      return (event.sentBy ?? 'mooring') === 'mooring';
    },
    isExcessRefund: ({ context, event }) => {
      assertEvent(event, 'REFUND_SENT');
      return sentIsExcess(context, event.refundId);
    },
    sentWasRequested: ({ context, event }) => {
      assertEvent(event, 'REFUND_SENT');
      return inFlight(context).some((p) => p.refundId === event.refundId);
    },
    refundInFlight: ({ context, event }) => {
      assertEvent(event, 'REFUND_FAILED');
      return inFlight(context).some((p) => p.refundId === event.refundId);
    },
    payoutToReconcile: ({ context }) => (context.payoutReconciliation ?? null) !== null,
    // A payout whose outcome is unknown may have been made: only an explicit resolution may go on.
    payoutOutcomeKnown: ({ context }) => context.payoutReconciliation?.outcome !== 'unknown',
    // An under-paid transaction is never paid out: it can only be refunded.
    fundsReceivedInFull: ({ context }) =>
      context.payment !== null && compareAmounts(context.payment.amount, context.amountIn) >= 0,
    isFullRefund: ({ context, event }) => {
      assertEvent(event, 'REFUND_SENT');
      if (sentIsExcess(context, event.refundId)) return false;
      const held = heldRefunds(context, false);
      return compareAmounts(addAmounts(held.amount, event.refund.amount), creditedAmount(context)) === 0;
    },
    isPartialRefund: ({ context, event }) => {
      assertEvent(event, 'REFUND_SENT');
      if (sentIsExcess(context, event.refundId)) return false;
      const held = heldRefunds(context, false);
      const amount = addAmounts(held.amount, event.refund.amount);
      return (
        compareAmounts(amount, creditedAmount(context)) < 0 &&
        amountOutAfter(context, amount, addAmounts(held.fee, event.refund.fee)) !== null
      );
    },
    // The fee stays in its asset; in one asset, amount_out = amount_in − new fee − refunds must still hold.
    amountsAddUp: ({ context, event }) => {
      assertEvent(event, 'AMOUNTS_UPDATED');
      if (event.feeDetails.asset !== context.feeDetails.asset) return false;
      const sameAsset =
        context.amountOutAsset === context.amountInAsset &&
        context.feeDetails.asset === context.amountInAsset;
      if (!sameAsset) return true;
      const refunds = context.refunds ?? { amountRefunded: '0', amountFee: '0' };
      const rest = amountOutAfter(
        { ...context, feeDetails: event.feeDetails },
        refunds.amountRefunded,
        refunds.amountFee,
      );
      return rest !== null && compareAmounts(rest, event.amountOut) === 0;
    },
    providesRequiredFields: ({ context, event }) => {
      assertEvent(event, 'TRANSACTION_INFO_UPDATED');
      return Object.entries(context.requiredInfoUpdates ?? {}).every(
        ([name, field]) => field.optional === true || (event.values[name] ?? '').trim() !== '',
      );
    },
  },
}).createMachine({
  id: 'transaction',
  description: 'A SEP-31 cross-border payment, as seen by the receiving anchor.',
  // xstate's pure `transition()` first builds a throwaway actor without input, whose context is never
  // read: give it an empty one instead of throwing (a throw per step costs more than the step).
  context: ({ input }) => (input === undefined ? ({} as TransactionContext) : initialContext(input)),
  initial: 'pending_receiver',
  on: {
    ERROR: {
      target: '.error',
      actions: assign({ statusMessage: ({ event }) => event.message }),
    },
  },
  states: {
    pending_receiver: {
      description: STATUS_DESCRIPTIONS.pending_receiver,
      entry: [...enterStatus('pending_receiver')],
      initial: 'preparing',
      states: {
        preparing: {
          description: 'Before funds: issuing the receiving account and memo.',
          on: {
            ACCOUNT_ASSIGNED: {
              target: '#transaction.pending_sender',
              actions: assign({
                stellarAccountId: ({ event }) => event.stellarAccountId,
                stellarMemoType: ({ event }) => event.stellarMemoType,
                stellarMemo: ({ event }) => event.stellarMemo,
              }),
            },
            EXPIRE: { target: '#transaction.expired', guard: 'deadlinePassed' },
            EXPIRE_NOW: { target: '#transaction.expired', actions: 'noteExpiryMessage' },
          },
        },
        ready: {
          description: 'Funds received; the payout can be requested.',
          on: {
            PAYOUT_REQUESTED: {
              target: 'paying_out',
              guard: 'nothingToRefundFirst',
              actions: [
                assign({ payoutAttempt: ({ context }) => context.payoutAttempt + 1 }),
                {
                  type: 'recordEffect',
                  params: ({ context }) => ({
                    kind: 'execute_payout' as const,
                    attempt: context.payoutAttempt,
                    idempotencyKey: `${context.id}:payout:${context.payoutAttempt}`,
                  }),
                },
              ],
            },
            CUSTOMER_INFO_NEEDED: '#transaction.pending_customer_info_update',
            TRANSACTION_INFO_NEEDED: '#transaction.pending_transaction_info_update',
            AMOUNTS_UPDATED: { guard: 'amountsAddUp', actions: ['applyAmounts', 'stampUpdatedAt'] },
            ...REFUND_HANDLERS,
          },
        },
        paying_out: {
          description: 'The payout was handed to the rails; waiting for their answer.',
          on: {
            PAYOUT_PENDING_EXTERNAL: {
              target: '#transaction.pending_external',
              actions: assign({
                externalTransactionId: ({ event }) => event.externalTransactionId,
                statusMessage: ({ event }) => event.message ?? null,
              }),
            },
            PAYOUT_SUBMITTED_STELLAR: {
              target: '#transaction.pending_stellar',
              actions: assign({ externalTransactionId: ({ event }) => event.transactionHash }),
            },
            PAYOUT_COMPLETED: { target: '#transaction.completed', actions: 'applyPayoutCompleted' },
            PAYOUT_FAILED: { target: '#transaction.error', actions: 'noteUnsettledPayout' },
            // The payout relay's last try got no answer: an operator reconciles, nothing pays again by itself.
            PAYOUT_UNKNOWN: { target: '#transaction.error', actions: 'noteUnsettledPayout' },
            CUSTOMER_INFO_NEEDED: '#transaction.pending_customer_info_update',
          },
        },
      },
    },
    pending_sender: {
      description: STATUS_DESCRIPTIONS.pending_sender,
      entry: [...enterStatus('pending_sender')],
      on: {
        PAYMENT_RECEIVED: [
          {
            target: 'pending_receiver.ready',
            guard: and(['paidBeforeQuoteExpired', 'inTransactionAsset', 'paidExactly']),
            actions: 'creditPayment',
          },
          // Over-payment: credit what was expected and ask for the excess to go back, once.
          {
            target: 'pending_receiver.ready',
            guard: and(['paidBeforeQuoteExpired', 'inTransactionAsset', 'overpaid']),
            actions: [
              'creditPayment',
              {
                type: 'recordEffect',
                // creditPayment, just before, has set excessAmount.
                params: ({ context }) => ({
                  kind: 'refund_excess' as const,
                  amount: context.excessAmount ?? '0',
                  idempotencyKey: `${context.id}:refund_excess`,
                }),
              },
            ],
          },
          {
            target: 'error',
            guard: and(['paidBeforeQuoteExpired', 'inTransactionAsset']),
            actions: [
              'creditPayment',
              assign({
                statusMessage: ({ context, event }) =>
                  `under-paid: received ${event.payment.amount}, expected ${context.amountIn}; awaiting refund`,
              }),
            ],
          },
        ],
        EXPIRE: { target: 'expired', guard: 'deadlinePassed' },
        EXPIRE_NOW: { target: 'expired', actions: 'noteExpiryMessage' },
      },
    },
    pending_customer_info_update: {
      description: STATUS_DESCRIPTIONS.pending_customer_info_update,
      entry: [...enterStatus('pending_customer_info_update'), 'noteCustomerInfoNeeded'],
      on: {
        CUSTOMER_INFO_UPDATED: {
          target: 'pending_receiver.ready',
          actions: assign({ requiredInfoMessage: null }),
        },
        AMOUNTS_UPDATED: { guard: 'amountsAddUp', actions: ['applyAmounts', 'stampUpdatedAt'] },
        ...REFUND_HANDLERS,
      },
    },
    pending_transaction_info_update: {
      description: STATUS_DESCRIPTIONS.pending_transaction_info_update,
      entry: [...enterStatus('pending_transaction_info_update'), 'noteTransactionInfoNeeded'],
      on: {
        TRANSACTION_INFO_UPDATED: {
          target: 'pending_receiver.ready',
          guard: 'providesRequiredFields',
          actions: assign({
            fields: ({ context, event }) => ({ ...context.fields, ...event.values }),
            requiredInfoMessage: null,
            requiredInfoUpdates: null,
          }),
        },
        AMOUNTS_UPDATED: { guard: 'amountsAddUp', actions: ['applyAmounts', 'stampUpdatedAt'] },
        ...REFUND_HANDLERS,
      },
    },
    pending_external: {
      description: STATUS_DESCRIPTIONS.pending_external,
      entry: [...enterStatus('pending_external')],
      on: {
        PAYOUT_COMPLETED: { target: 'completed', actions: 'applyPayoutCompleted' },
        PAYOUT_FAILED: { target: 'error', actions: 'noteUnsettledPayout' },
      },
    },
    pending_stellar: {
      description: STATUS_DESCRIPTIONS.pending_stellar,
      entry: [...enterStatus('pending_stellar')],
      on: {
        PAYOUT_COMPLETED: { target: 'completed', actions: 'applyPayoutCompleted' },
        PAYOUT_FAILED: { target: 'error', actions: 'noteUnsettledPayout' },
        // A full refund waits here until Horizon confirms it; only refunds requested are confirmed here.
        REFUND_SENT: [
          { guard: and(['sentWasRequested', 'isExcessRefund']), actions: 'applyRefund' },
          { target: 'refunded', guard: and(['sentWasRequested', 'isFullRefund']), actions: 'applyRefund' },
          { guard: and(['sentWasRequested', 'isPartialRefund']), actions: 'applyRefund' },
        ],
        REFUND_FAILED: { target: 'error', guard: 'refundInFlight', actions: 'dropFailedRefund' },
      },
    },
    error: {
      description: STATUS_DESCRIPTIONS.error,
      entry: [...enterStatus('error')],
      on: {
        // Already in error: keep the status (no re-entry, no new callback), update the message.
        ERROR: { actions: assign({ statusMessage: ({ event }) => event.message }) },
        RECOVER: {
          target: 'pending_receiver.ready',
          guard: and(['fundsReceivedInFull', 'payoutOutcomeKnown']),
          actions: assign({
            statusMessage: ({ event }) => event.message ?? null,
            payoutReconciliation: null,
          }),
        },
        // Reconciliation: the same payout again, under the same idempotency key (the rails pay it once).
        PAYOUT_RETRY: {
          target: 'pending_receiver.paying_out',
          guard: 'payoutToReconcile',
          actions: [
            assign({
              payoutRetries: ({ context }) => (context.payoutRetries ?? 0) + 1,
              payoutReconciliation: null,
              statusMessage: null,
            }),
            {
              type: 'recordEffect',
              params: ({ context }) => {
                const idempotencyKey = `${context.id}:payout:${context.payoutAttempt}`;
                const retry = context.payoutRetries ?? 0;
                return {
                  kind: 'execute_payout' as const,
                  attempt: context.payoutAttempt,
                  idempotencyKey,
                  retry,
                  outboxKey: `${idempotencyKey}:retry:${retry}`,
                };
              },
            },
          ],
        },
        PAYOUT_CONFIRMED: {
          target: 'completed',
          guard: 'payoutToReconcile',
          actions: assign({
            externalTransactionId: ({ context, event }) =>
              event.externalTransactionId ?? context.externalTransactionId,
            statusMessage: ({ event }) => event.message ?? null,
            payoutReconciliation: null,
          }),
        },
        ...REFUND_HANDLERS,
        // Halted before any funds arrived: the payment deadline still ends it.
        EXPIRE: { target: 'expired', guard: and(['deadlinePassed', not('fundsReceived')]) },
        EXPIRE_NOW: { target: 'expired', guard: not('fundsReceived'), actions: 'noteExpiryMessage' },
      },
    },
    completed: {
      type: 'final',
      description: STATUS_DESCRIPTIONS.completed,
      entry: [...enterStatus('completed'), 'markCompleted'],
    },
    refunded: {
      type: 'final',
      description: STATUS_DESCRIPTIONS.refunded,
      entry: [...enterStatus('refunded'), 'markCompleted'],
    },
    expired: {
      type: 'final',
      description: STATUS_DESCRIPTIONS.expired,
      entry: [...enterStatus('expired')],
    },
  },
});
