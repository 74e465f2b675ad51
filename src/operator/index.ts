/**
 * The operator API: the method registry and its protocol handler; each part is a `create…Methods(deps)`
 * assigned into `methods` below.
 */
import type { TransactionEventType } from '../../machines/index.ts';
import {
  createRpcHandler,
  methodsSending,
  type RpcHandler,
  type RpcHandlerOptions,
  type RpcRegistry,
} from './rpc.ts';
import { createTransactionMethods, type TransactionMethodDeps } from './transaction-methods.ts';
import { createUnmatchedPaymentMethods } from './unmatched-payment-methods.ts';
import { createRefundMethods, type RefundMethodsDeps } from './refund-methods.ts';
import type { OperatorQueries } from '../read-model/operator.ts';

export {
  RPC_ERRORS,
  RpcError,
  rpcMethod,
  type RpcContext,
  type RpcRegistry,
  type RpcResponse,
} from './rpc.ts';
export { openRpcDocument } from './openrpc.ts';

export interface OperatorApiDeps extends Omit<TransactionMethodDeps, 'methodsFor' | 'queries'> {
  queries: OperatorQueries;
  /** Refunds and reconciliation (`do_refund`, `resolve_payout`, …): where unmatched payments are read. */
  refunds: Pick<RefundMethodsDeps, 'db' | 'refunds'>;
}

export interface OperatorApi {
  methods: RpcRegistry;
  handler: RpcHandler;
}

export function createOperatorApi(deps: OperatorApiDeps, options: RpcHandlerOptions = {}): OperatorApi {
  const methods: RpcRegistry = {};
  // Looked up when a refusal is answered: every method registered by then counts.
  const methodsFor = (event: TransactionEventType) => methodsSending(methods, event);
  Object.assign(
    methods,
    createTransactionMethods({ ...deps, methodsFor }),
    createUnmatchedPaymentMethods(deps),
    // After the transaction methods: its notify_refund_sent (AP's amount objects, tied to notify_refund_pending)
    // is the one served.
    createRefundMethods({
      ...deps.refunds,
      commands: deps.commands,
      queries: deps.queries,
      sendingAnchors: deps.sendingAnchors,
      methodsFor,
      ...(deps.clock && { clock: deps.clock }),
    }),
  );
  return { methods, handler: createRpcHandler(methods, options) };
}
