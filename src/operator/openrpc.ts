/**
 * The operator API described as an OpenRPC document (https://spec.open-rpc.org), generated from the
 * registry: the params are the very TypeBox schemas the handler validates with.
 */
import type { RpcRegistry } from './rpc.ts';
import { RPC_ERRORS } from './rpc.ts';

export const OPENRPC_VERSION = '1.3.2';

/** The errors an action method may answer besides the protocol's own. */
const ACTION_ERRORS = ['notAccepted', 'transactionNotFound', 'unavailable', 'refused'] as const;

export function openRpcDocument(
  registry: RpcRegistry,
  options: { version: string; url: string },
): Record<string, unknown> {
  const errorRef = (name: string) => ({ $ref: `#/components/errors/${name}` });
  return {
    openrpc: OPENRPC_VERSION,
    info: {
      title: 'Mooring operator API',
      version: options.version,
      description:
        'JSON-RPC 2.0 for operators and business servers, behind `Authorization: Bearer <OPERATOR_TOKEN>`. ' +
        'Method names and params follow the Anchor Platform platform API where they mean the same. ' +
        'Each action is an event to the transaction’s actor: its state decides.',
    },
    servers: [{ name: 'mooring', url: options.url }],
    methods: Object.entries(registry).map(([name, method]) => {
      const required = new Set(method.params.required ?? []);
      return {
        name,
        description: method.description,
        paramStructure: 'by-name',
        params: Object.entries(method.params.properties).map(([param, schema]) => {
          const description = (schema as { description?: unknown }).description;
          return {
            name: param,
            required: required.has(param),
            ...(typeof description === 'string' && { description }),
            schema,
          };
        }),
        result: { name: `${name}_result`, schema: method.result ?? {} },
        errors: [
          errorRef('invalidParams'),
          ...(method.errors ?? (method.events ? ACTION_ERRORS : [])).map(errorRef),
        ],
        ...(method.events && { 'x-mooring-events': method.events }),
      };
    }),
    components: {
      errors: Object.fromEntries(
        Object.entries(RPC_ERRORS).map(([name, error]) => [
          name,
          { code: error.code, message: error.message },
        ]),
      ),
    },
  };
}
