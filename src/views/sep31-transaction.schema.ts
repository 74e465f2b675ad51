/**
 * The SEP-31 transaction object as a schema: `GET /sep31/transactions/:id` answers it and the operator API
 * extends it. Beside the view (`sep31-transaction.ts`) so both HTTP and the operator API can use it.
 */
import { Type } from 'typebox';
import { TRANSACTION_STATUSES } from '../../machines/index.ts';

export const FieldSpec = Type.Object({
  description: Type.String(),
  optional: Type.Optional(Type.Boolean()),
  choices: Type.Optional(Type.Array(Type.String())),
});

export const Sep31TransactionSchema = Type.Object(
  {
    id: Type.String(),
    status: Type.Enum(TRANSACTION_STATUSES, { type: 'string' }),
    status_eta: Type.Optional(Type.Number()),
    status_message: Type.Optional(Type.String()),
    amount_in: Type.String(),
    amount_in_asset: Type.String(),
    amount_out: Type.String(),
    amount_out_asset: Type.String(),
    amount_fee: Type.String(),
    amount_fee_asset: Type.String(),
    fee_details: Type.Object({
      total: Type.String(),
      asset: Type.String(),
      details: Type.Optional(
        Type.Array(
          Type.Object({
            name: Type.String(),
            description: Type.Optional(Type.String()),
            amount: Type.String(),
          }),
        ),
      ),
    }),
    quote_id: Type.Optional(Type.String()),
    stellar_account_id: Type.Optional(Type.String()),
    stellar_memo_type: Type.Optional(Type.String()),
    stellar_memo: Type.Optional(Type.String()),
    started_at: Type.String(),
    updated_at: Type.String(),
    completed_at: Type.Optional(Type.String()),
    stellar_transaction_id: Type.Optional(Type.String()),
    external_transaction_id: Type.Optional(Type.String()),
    refunded: Type.Boolean(),
    refunds: Type.Optional(
      Type.Object({
        amount_refunded: Type.String(),
        amount_fee: Type.String(),
        payments: Type.Array(
          Type.Object({
            id: Type.String(),
            id_type: Type.String(),
            amount: Type.String(),
            fee: Type.String(),
          }),
        ),
      }),
    ),
    required_info_message: Type.Optional(Type.String()),
    required_info_updates: Type.Optional(Type.Object({ transaction: Type.Record(Type.String(), FieldSpec) })),
  },
  { additionalProperties: false },
);
