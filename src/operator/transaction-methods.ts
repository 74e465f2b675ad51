/**
 * The operator's transaction methods, named and shaped as the Anchor Platform's platform API where they
 * mean the same (https://developers.stellar.org/platforms/anchor-platform/api-reference/platform/rpc), so a
 * business server written for AP can drive Mooring. Each action is one machine event sent to the
 * transaction's actor through the bus: the machine's guards decide, and a refusal says what the state
 * takes. Reads come from the read model.
 */
import { randomUUID } from 'node:crypto';
import { Type, type TProperties } from 'typebox';
import {
  isSep9Field,
  TRANSACTION_STATUSES,
  type TransactionEvent,
  type TransactionEventType,
} from '../../machines/index.ts';
import { CommandUnavailableError, type TransactionCommands } from '../actors/commands.ts';
import type { TransactionReply } from '../actors/messages.ts';
import type { SendingAnchorConfig } from '../config/index.ts';
import type { OperatorQueries, OperatorTransactionRow } from '../read-model/operator.ts';
import { RpcError, rpcMethod, type RpcContext, type RpcRegistry } from './rpc.ts';
import {
  OperatorTransactionSchema,
  refusalError,
  toOperatorTransaction,
  type OperatorTransaction,
} from './transaction-view.ts';

export interface TransactionMethodDeps {
  commands: Pick<TransactionCommands, 'send'>;
  queries: Pick<OperatorQueries, 'transaction' | 'transactions'>;
  sendingAnchors: readonly SendingAnchorConfig[];
  /** SEP-12 customer types the anchor knows (`sep12.types`). */
  customerTypes: readonly string[];
  /** The methods that send an event: computed from the whole registry, so later methods count too. */
  methodsFor(event: TransactionEventType): string[];
  clock?: () => Date;
}

// ---------------------------------------------------------------------------------------------------------
// Param schemas

const TransactionId = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9._:-]+$',
  description: 'The transaction id (SEP-31 `id`).',
});
const Message = Type.String({ minLength: 1, maxLength: 2000, description: 'Why: shown as status_message.' });
/** machines/amounts.ts: a decimal string, at most 7 decimals, no sign or exponent. */
const Amount = Type.String({
  pattern: '^(0|[1-9][0-9]{0,14})(\\.[0-9]{1,7})?$',
  description: 'Decimal amount.',
});
const Asset = Type.String({
  minLength: 1,
  maxLength: 200,
  description: 'SEP-38 form, e.g. `stellar:USDC:G…`.',
});
const IdempotencyKey = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: '^[\\x21-\\x7e]+$',
  description:
    'Mooring: makes a retried call a duplicate (the same key on the same transaction applies once). Default: a fresh id per call.',
});
const Timestamp = Type.String({ format: 'date-time', description: 'ISO 8601.' });
const StellarHash = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'Stellar transaction hash.' });

/** The params every action takes. */
const action = <P extends TProperties>(properties: P) =>
  Type.Object(
    {
      transaction_id: TransactionId,
      message: Type.Optional(Message),
      ...properties,
      idempotency_key: Type.Optional(IdempotencyKey),
    },
    { additionalProperties: false },
  );

const FeeDetails = Type.Object(
  {
    total: Amount,
    asset: Asset,
    details: Type.Optional(
      Type.Array(
        Type.Object(
          { name: Type.String({ minLength: 1 }), description: Type.Optional(Type.String()), amount: Amount },
          { additionalProperties: false },
        ),
        { maxItems: 50 },
      ),
    ),
  },
  { additionalProperties: false },
);

const FieldSpec = Type.Object(
  {
    description: Type.String({ minLength: 1, maxLength: 500 }),
    optional: Type.Optional(Type.Boolean()),
    choices: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 100 })),
  },
  { additionalProperties: false },
);

const Status = Type.Enum(TRANSACTION_STATUSES, { type: 'string' });

export const MAX_PAGE_SIZE = 100;

// ---------------------------------------------------------------------------------------------------------

export function createTransactionMethods(deps: TransactionMethodDeps): RpcRegistry {
  const now = () => (deps.clock?.() ?? new Date()).toISOString();
  const view = (row: OperatorTransactionRow): OperatorTransaction =>
    toOperatorTransaction(row, {
      sendingAnchors: deps.sendingAnchors,
      methodsFor: (e) => deps.methodsFor(e),
    });

  async function load(transactionId: string): Promise<OperatorTransactionRow> {
    const row = await deps.queries.transaction(transactionId);
    if (!row) throw new RpcError('transactionNotFound', `transaction not found: ${transactionId}`);
    return row;
  }

  /**
   * Sends the event to the actor and answers with the transaction as it is once applied; a refusal is the
   * JSON-RPC error of its kind.
   */
  async function act(
    method: string,
    params: { transaction_id: string; idempotency_key?: string },
    event: TransactionEvent,
    context: RpcContext,
  ): Promise<OperatorTransaction> {
    const key = params.idempotency_key ?? randomUUID();
    let reply: TransactionReply;
    try {
      reply = await deps.commands.send(params.transaction_id, `operator:${method}:${key}`, event, {
        operator: context.operator,
      });
    } catch (error) {
      if (error instanceof CommandUnavailableError) {
        throw new RpcError(
          'unavailable',
          'the actors did not answer in time: retry with the same idempotency_key',
          {
            idempotency_key: key,
          },
        );
      }
      throw error;
    }
    if (reply.outcome === 'refused') throw refusalError(reply, deps.methodsFor);
    return view(await load(params.transaction_id));
  }

  const invalid = (message: string) => new RpcError('invalidParams', message);

  return {
    get_transaction: rpcMethod({
      description: 'One transaction of any sending anchor.',
      params: Type.Object({ transaction_id: TransactionId }, { additionalProperties: false }),
      result: OperatorTransactionSchema,
      errors: ['transactionNotFound'],
      call: async (params) => view(await load(params.transaction_id)),
    }),

    get_transactions: rpcMethod({
      description: 'A page of transactions, filtered by status, newest first by default.',
      params: Type.Object(
        {
          sep: Type.Optional(Type.Literal('31', { description: 'Only SEP-31 exists here.' })),
          statuses: Type.Optional(Type.Array(Status, { maxItems: TRANSACTION_STATUSES.length })),
          order_by: Type.Optional(
            Type.Union([Type.Literal('created_at'), Type.Literal('updated_at')], {
              description: 'Default created_at (SEP-31 started_at).',
            }),
          ),
          order: Type.Optional(
            Type.Union([Type.Literal('asc'), Type.Literal('desc')], { description: 'Default desc.' }),
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
      result: Type.Object({ records: Type.Array(OperatorTransactionSchema) }),
      call: async (params) => {
        const rows = await deps.queries.transactions({
          ...(params.statuses && { statuses: params.statuses }),
          orderBy: params.order_by ?? 'created_at',
          order: params.order ?? 'desc',
          pageNumber: params.page_number ?? 0,
          pageSize: params.page_size ?? 20,
        });
        return { records: rows.map(view) };
      },
    }),

    notify_onchain_funds_received: rpcMethod({
      description:
        'The sender’s Stellar payment arrived (one the watcher did not see): credits it, pending_sender → pending_receiver.',
      params: action({
        stellar_transaction_id: StellarHash,
        amount_in: Type.Optional(
          Type.Object(
            { amount: Amount, asset: Type.Optional(Asset) },
            { additionalProperties: false, description: 'What arrived; default the expected amount_in.' },
          ),
        ),
        operation_id: Type.Optional(
          Type.String({
            pattern: '^[0-9]{1,20}$',
            description: 'Mooring: the Horizon operation id; default `manual:<stellar_transaction_id>`.',
          }),
        ),
        funds_received_at: Type.Optional(Timestamp),
      }),
      result: OperatorTransactionSchema,
      events: ['PAYMENT_RECEIVED'],
      call: async (params, context) => {
        const c = (await load(params.transaction_id)).persisted.context;
        if (params.amount_in?.asset !== undefined && params.amount_in.asset !== c.amountInAsset) {
          throw invalid(`amount_in.asset must be the transaction's amount_in_asset (${c.amountInAsset})`);
        }
        const at = now();
        return act(
          'notify_onchain_funds_received',
          params,
          {
            type: 'PAYMENT_RECEIVED',
            at,
            payment: {
              operationId: params.operation_id ?? `manual:${params.stellar_transaction_id}`,
              transactionHash: params.stellar_transaction_id,
              amount: params.amount_in?.amount ?? c.amountIn,
              assetCode: c.assetCode,
              assetIssuer: c.assetIssuer,
              createdAt: params.funds_received_at ?? at,
            },
          },
          context,
        );
      },
    }),

    notify_offchain_funds_pending: rpcMethod({
      description: 'The payout was sent off-chain and is not yet confirmed: paying out → pending_external.',
      params: action({ external_transaction_id: Type.String({ minLength: 1, maxLength: 200 }) }),
      result: OperatorTransactionSchema,
      events: ['PAYOUT_PENDING_EXTERNAL'],
      call: (params, context) =>
        act(
          'notify_offchain_funds_pending',
          params,
          {
            type: 'PAYOUT_PENDING_EXTERNAL',
            at: now(),
            externalTransactionId: params.external_transaction_id,
            ...(params.message !== undefined && { message: params.message }),
          },
          context,
        ),
    }),

    notify_offchain_funds_sent: rpcMethod({
      description: 'The receiver has the funds: paying out, pending_external or pending_stellar → completed.',
      params: action({
        external_transaction_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        funds_sent_at: Type.Optional(Timestamp),
      }),
      result: OperatorTransactionSchema,
      events: ['PAYOUT_COMPLETED'],
      call: (params, context) =>
        act(
          'notify_offchain_funds_sent',
          params,
          {
            type: 'PAYOUT_COMPLETED',
            at: now(),
            ...(params.external_transaction_id !== undefined && {
              externalTransactionId: params.external_transaction_id,
            }),
            ...(params.message !== undefined && { message: params.message }),
          },
          context,
        ),
    }),

    notify_customer_info_updated: rpcMethod({
      description:
        'The customer information asked for was updated (Mooring also sees this itself when the customers are ACCEPTED again): pending_customer_info_update → pending_receiver.',
      params: action({ customer_type: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) }),
      result: OperatorTransactionSchema,
      events: ['CUSTOMER_INFO_UPDATED'],
      call: (params, context) =>
        act('notify_customer_info_updated', params, { type: 'CUSTOMER_INFO_UPDATED', at: now() }, context),
    }),

    notify_transaction_error: rpcMethod({
      description: 'Something went wrong: any open status → error, with the message.',
      params: action({}),
      result: OperatorTransactionSchema,
      events: ['ERROR'],
      call: (params, context) =>
        act(
          'notify_transaction_error',
          params,
          { type: 'ERROR', at: now(), message: params.message ?? `marked as error by ${context.operator}` },
          context,
        ),
    }),

    notify_transaction_expired: rpcMethod({
      description:
        'End a transaction whose funds never arrived, now (not waiting for its deadline): pending_sender (or error before funds) → expired.',
      params: action({}),
      result: OperatorTransactionSchema,
      events: ['EXPIRE_NOW'],
      call: (params, context) =>
        act(
          'notify_transaction_expired',
          params,
          { type: 'EXPIRE_NOW', at: now(), ...(params.message !== undefined && { message: params.message }) },
          context,
        ),
    }),

    notify_transaction_recovery: rpcMethod({
      description: 'Resume a transaction in error whose funds arrived in full: error → pending_receiver.',
      params: action({}),
      result: OperatorTransactionSchema,
      events: ['RECOVER'],
      call: (params, context) =>
        act(
          'notify_transaction_recovery',
          params,
          { type: 'RECOVER', at: now(), ...(params.message !== undefined && { message: params.message }) },
          context,
        ),
    }),

    notify_amounts_updated: rpcMethod({
      description:
        'Correct amount_out and the fee before the payout. In one asset, amount_out must equal amount_in − fee − refunds.',
      params: action({
        amount_out: Type.Object({ amount: Amount, asset: Asset }, { additionalProperties: false }),
        fee_details: FeeDetails,
      }),
      result: OperatorTransactionSchema,
      events: ['AMOUNTS_UPDATED'],
      call: async (params, context) => {
        const c = (await load(params.transaction_id)).persisted.context;
        if (params.amount_out.asset !== c.amountOutAsset) {
          throw invalid(`amount_out.asset must be the transaction's amount_out_asset (${c.amountOutAsset})`);
        }
        const fee = params.fee_details;
        return act(
          'notify_amounts_updated',
          params,
          {
            type: 'AMOUNTS_UPDATED',
            at: now(),
            amountOut: params.amount_out.amount,
            feeDetails: { total: fee.total, asset: fee.asset, ...(fee.details && { details: fee.details }) },
            ...(params.message !== undefined && { message: params.message }),
          },
          context,
        );
      },
    }),

    request_customer_info_update: rpcMethod({
      description:
        'Ask the sending anchor to update SEP-12 customer information: pending_receiver → pending_customer_info_update. The customers’ GET /sep12/customer then asks for the fields named (or all of the type’s).',
      params: action({
        customer_type: Type.Optional(
          Type.String({
            minLength: 1,
            maxLength: 100,
            description: 'A configured SEP-12 type; default every customer.',
          }),
        ),
        fields: Type.Optional(
          Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
            minItems: 1,
            maxItems: 100,
            description: 'SEP-9 names found wrong (flagged REJECTED); default none flagged.',
          }),
        ),
      }),
      result: OperatorTransactionSchema,
      events: ['CUSTOMER_INFO_NEEDED'],
      call: (params, context) => {
        if (params.customer_type !== undefined && !deps.customerTypes.includes(params.customer_type)) {
          throw invalid(`customer_type must be one of: ${deps.customerTypes.join(', ')}`);
        }
        const unknown = (params.fields ?? []).filter((field) => !isSep9Field(field));
        if (unknown.length > 0) throw invalid(`not SEP-9 fields: ${unknown.join(', ')}`);
        return act(
          'request_customer_info_update',
          params,
          {
            type: 'CUSTOMER_INFO_NEEDED',
            at: now(),
            message: params.message ?? 'customer information must be updated',
            ...(params.customer_type !== undefined && { customerType: params.customer_type }),
            ...(params.fields !== undefined && { fields: [...new Set(params.fields)] }),
          },
          context,
        );
      },
    }),

    request_transaction_info_update: rpcMethod({
      description:
        'Mooring (SEP-31’s deprecated flow): ask the sending anchor for transaction fields, answered by PATCH /sep31/transactions/:id: pending_receiver → pending_transaction_info_update.',
      params: action({
        fields: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_]{1,64}$' }), FieldSpec, {
          minProperties: 1,
          maxProperties: 50,
          additionalProperties: false,
          description: 'The fields required, as SEP-31 `required_info_updates.transaction`.',
        }),
      }),
      result: OperatorTransactionSchema,
      events: ['TRANSACTION_INFO_NEEDED'],
      call: (params, context) =>
        act(
          'request_transaction_info_update',
          params,
          {
            type: 'TRANSACTION_INFO_NEEDED',
            at: now(),
            message: params.message ?? 'transaction information must be updated',
            fields: params.fields,
          },
          context,
        ),
    }),
  };
}
