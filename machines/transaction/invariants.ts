import { compareAmounts, fromStroops, toStroops } from '../amounts.ts';
import type { TransactionContext } from './context.ts';
import { creditedAmount } from './transaction.machine.ts';
import { FINAL_STATUSES, type TransactionStatus } from './statuses.ts';

/**
 * Rules every reachable state must satisfy. Returns the broken ones (empty when all hold).
 * Used by the model-based tests on every path, and by the host as a last line of defence.
 */
export function invariantViolations(status: TransactionStatus, context: TransactionContext): string[] {
  const broken: string[] = [];
  const holdsCompletedAt = status === 'completed' || status === 'refunded';
  if (holdsCompletedAt !== (context.completedAt !== null)) {
    broken.push(`completed_at must be set exactly on completed/refunded (status ${status})`);
  }
  if (status === 'expired' && context.payment !== null) broken.push('expired after funds arrived');
  if ((context.payment === null) !== (context.stellarTransactionId === null)) {
    broken.push('stellar_transaction_id must be set exactly when a payment was credited');
  }
  const sameAsset =
    context.amountOutAsset === context.amountInAsset && context.feeDetails.asset === context.amountInAsset;
  if (sameAsset) {
    // An over-payment's excess was never part of amount_in: its refund does not count here.
    const held = (context.refunds?.payments ?? []).filter((p) => p.excess !== true);
    const refunded = fromStroops(held.reduce((sum, p) => sum + toStroops(p.amount), 0n));
    const refundFees = fromStroops(held.reduce((sum, p) => sum + toStroops(p.fee), 0n));
    if (status === 'refunded') {
      if (compareAmounts(refunded, creditedAmount(context)) !== 0)
        broken.push('refunded without a full refund');
    } else {
      const expected =
        toStroops(context.amountIn) -
        toStroops(context.feeDetails.total) -
        toStroops(refunded) -
        toStroops(refundFees);
      if (expected < 0n || compareAmounts(context.amountOut, fromStroops(expected)) !== 0) {
        broken.push(
          `amount_out ${context.amountOut} != amount_in ${context.amountIn} - fee ${context.feeDetails.total} - refunds ${refunded} - refund fees ${refundFees}`,
        );
      }
    }
  }
  if (FINAL_STATUSES.includes(status) && context.updatedAt < context.startedAt) {
    broken.push('updated_at before started_at');
  }
  return broken;
}
