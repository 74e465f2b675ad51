/**
 * The operator API: the method registry and its protocol handler. Further methods (refunds,
 * reconciliation) are `create…Methods(deps)` spread into `methods` below.
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
  );
  return { methods, handler: createRpcHandler(methods, options) };
}
