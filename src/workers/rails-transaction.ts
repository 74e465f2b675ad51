import type { TransactionContext, TransactionStatus } from '../../machines/index.ts';
import { toSep31Transaction } from '../views/sep31-transaction.ts';
import type { RailsTransaction } from '../integrations/rails-integration.ts';

/** A transaction as the rails see it: the SEP-31 view plus the parties and how the receiver is paid. */
export function toRailsTransaction(status: TransactionStatus, context: TransactionContext): RailsTransaction {
  return {
    ...toSep31Transaction(status, context),
    sending_anchor: context.sendingAnchor,
    sender_id: context.senderId,
    receiver_id: context.receiverId,
    funding_method: context.fundingMethod,
    fields: context.fields,
  };
}
