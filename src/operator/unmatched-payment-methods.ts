/**
 * Payments to a watched account that could not be credited (no or unknown memo, wrong asset, late), as the
 * operator refunds them from.
 */
import { Type, type Static } from 'typebox';
import { amounts } from '../../machines/index.ts';
import type { UnmatchedPaymentRow } from '../db/unmatched-payments.table.ts';
import type { OperatorQueries } from '../read-model/operator.ts';
import { rpcMethod, type RpcRegistry } from './rpc.ts';
import { MAX_PAGE_SIZE } from './transaction-methods.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const UnmatchedPaymentSchema = Type.Object({
  id: Type.String({ description: 'Row id.' }),
  operation_id: Type.String({ description: 'Horizon operation id.' }),
  stellar_transaction_id: Type.String(),
  account: Type.String({ description: 'The receiving (watched) account.' }),
  from_account: Nullable(Type.String()),
  amount: Type.String({ description: 'What the account actually received.' }),
  asset_code: Type.String(),
  asset_issuer: Nullable(Type.String()),
  memo_type: Nullable(Type.String()),
  memo: Nullable(Type.String()),
  reason: Type.String({ description: 'e.g. unknown_memo, rejected, not_pending_sender, already_credited.' }),
  transaction_id: Nullable(
    Type.String({ description: 'The transaction it matched but could not be credited to.' }),
  ),
  received_at: Type.String({ description: 'When Mooring recorded it.' }),
  refunded_at: Nullable(Type.String()),
  refund_stellar_transaction_id: Nullable(Type.String()),
});
export type UnmatchedPaymentView = Static<typeof UnmatchedPaymentSchema>;

const iso = (value: Date | string) => new Date(value).toISOString();

export function toUnmatchedPaymentView(row: UnmatchedPaymentRow): UnmatchedPaymentView {
  return {
    id: String(row.id),
    operation_id: row.operation_id,
    stellar_transaction_id: row.transaction_hash,
    account: row.account,
    from_account: row.from_account,
    amount: amounts.normalizeAmount(String(row.amount)),
    asset_code: row.asset_code,
    asset_issuer: row.asset_issuer,
    memo_type: row.memo_type,
    memo: row.memo,
    reason: row.reason,
    transaction_id: row.transaction_id,
    received_at: iso(row.created_at),
    refunded_at: row.refunded_at === null ? null : iso(row.refunded_at),
    refund_stellar_transaction_id: row.refund_transaction_hash,
  };
}

export function createUnmatchedPaymentMethods(deps: {
  queries: Pick<OperatorQueries, 'unmatchedPayments'>;
}): RpcRegistry {
  return {
    list_unmatched_payments: rpcMethod({
      description: 'Payments that could not be credited to a transaction, oldest first.',
      params: Type.Object(
        {
          unrefunded_only: Type.Optional(
            Type.Boolean({ description: 'Only those not refunded yet (default false).' }),
          ),
          page_number: Type.Optional(
            Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'From 0.' }),
          ),
          page_size: Type.Optional(
            Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, description: 'Default 20.' }),
          ),
        },
        { additionalProperties: false },
      ),
      result: Type.Object({ records: Type.Array(UnmatchedPaymentSchema) }),
      call: async (params) => {
        const rows = await deps.queries.unmatchedPayments({
          unrefundedOnly: params.unrefunded_only ?? false,
          pageNumber: params.page_number ?? 0,
          pageSize: params.page_size ?? 20,
        });
        return { records: rows.map(toUnmatchedPaymentView) };
      },
    }),
  };
}
