/**
 * JSON-RPC 2.0 (https://www.jsonrpc.org/specification) over one HTTP body: a request, a notification (no
 * `id`: run, never answered) or a batch of them. Methods are plain objects in a registry keyed by name;
 * their params are TypeBox schemas, which validate the call and describe it in the OpenRPC document.
 */
import type { Static, TObject, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import type { TransactionEventType } from '../../machines/index.ts';

/** The standard codes, and Mooring's (server errors, -32000..-32099). */
export const RPC_ERRORS = {
  parseError: { code: -32700, message: 'Parse error' },
  invalidRequest: { code: -32600, message: 'Invalid Request' },
  methodNotFound: { code: -32601, message: 'Method not found' },
  invalidParams: { code: -32602, message: 'Invalid params' },
  internalError: { code: -32603, message: 'Internal error' },
  /** The transaction's state does not take the event (or its guards said no); `data` says what it takes. */
  notAccepted: { code: -32001, message: 'Not accepted in the current state' },
  transactionNotFound: { code: -32002, message: 'Transaction not found' },
  /** The actors did not answer in time: the action may or may not be applied; retry with the same key. */
  unavailable: { code: -32003, message: 'Unavailable, try again' },
  /** Refused for another reason than the state (e.g. a payment credited to another transaction). */
  refused: { code: -32004, message: 'Refused' },
} as const;

export type RpcErrorName = keyof typeof RPC_ERRORS;

/** A JSON-RPC error a method throws on purpose: its code, message and data reach the caller as they are. */
export class RpcError extends Error {
  readonly code: number;
  readonly data: unknown;
  constructor(name: RpcErrorName, message?: string, data?: unknown) {
    super(message ?? RPC_ERRORS[name].message);
    this.name = 'RpcError';
    this.code = RPC_ERRORS[name].code;
    this.data = data;
  }
}

/** Who calls: recorded with every event an action sends. */
export interface RpcContext {
  operator: string;
}

export interface RpcMethod<P extends TObject = TObject> {
  description: string;
  /** By-name params; `additionalProperties: false` so a misspelt name is an error, not ignored. */
  params: P;
  result?: TSchema;
  /** The machine events the method sends: a refusal lists, per event the state takes, its methods. */
  events?: readonly TransactionEventType[];
  /** Mooring's errors it may answer, for the document (default: an action's, when it sends `events`). */
  errors?: readonly RpcErrorName[];
  call(params: Static<P>, context: RpcContext): Promise<unknown>;
}

/** Methods by name. Spread further `create…Methods(deps)` results into it. */
export type RpcRegistry = Record<string, RpcMethod<TObject>>;

/** Types `call`'s params from the schema (an object literal would leave them `unknown`). */
export function rpcMethod<P extends TObject>(method: RpcMethod<P>): RpcMethod<TObject> {
  return method as unknown as RpcMethod<TObject>;
}

/** The names of the methods that send `event`. */
export function methodsSending(registry: RpcRegistry, event: TransactionEventType): string[] {
  return Object.entries(registry)
    .filter(([, method]) => method.events?.includes(event))
    .map(([name]) => name);
}

type Id = string | number | null;

export interface RpcSuccess {
  jsonrpc: '2.0';
  id: Id;
  result: unknown;
}
export interface RpcFailure {
  jsonrpc: '2.0';
  id: Id;
  error: { code: number; message: string; data?: unknown };
}
export type RpcResponse = RpcSuccess | RpcFailure;

export interface RpcHandlerOptions {
  /** Calls in one batch at most (default 100). */
  maxBatch?: number;
  /** Told of an unexpected failure of a method (its detail stays out of the answer). */
  onInternalError?: (error: unknown, method: string) => void;
}

export interface RpcHandler {
  /** The answer to a raw body: a response, an array of them, or undefined when nothing is to be sent. */
  handle(body: string, context: RpcContext): Promise<RpcResponse | RpcResponse[] | undefined>;
}

const failure = (id: Id, code: number, message: string, data?: unknown): RpcFailure => ({
  jsonrpc: '2.0',
  id,
  error: { code, message, ...(data !== undefined && { data }) },
});
const standard = (id: Id, name: RpcErrorName, data?: unknown) =>
  failure(id, RPC_ERRORS[name].code, RPC_ERRORS[name].message, data);

const isId = (value: unknown): value is Id =>
  value === null || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));

export function createRpcHandler(registry: RpcRegistry, options: RpcHandlerOptions = {}): RpcHandler {
  const maxBatch = options.maxBatch ?? 100;
  // Compiled on first use: methods registered after the handler was made (rpc.discover) count too.
  const validators = new Map<string, ReturnType<typeof Compile>>();
  const validator = (name: string, method: RpcMethod) => {
    let compiled = validators.get(name);
    if (!compiled) validators.set(name, (compiled = Compile(method.params)));
    return compiled;
  };

  async function one(request: unknown, context: RpcContext): Promise<RpcResponse | undefined> {
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      return standard(null, 'invalidRequest', 'a request is a JSON object');
    }
    const r = request as Record<string, unknown>;
    const notification = !('id' in r);
    const id = notification ? null : r.id;
    if (!isId(id)) return standard(null, 'invalidRequest', 'id must be a string, a number or null');
    if (r.jsonrpc !== '2.0') return standard(id, 'invalidRequest', 'jsonrpc must be "2.0"');
    if (typeof r.method !== 'string') return standard(id, 'invalidRequest', 'method must be a string');
    if (r.params !== undefined && (typeof r.params !== 'object' || r.params === null)) {
      return standard(id, 'invalidRequest', 'params must be an object or an array');
    }
    // A notification is never answered, not even with an error.
    const answer = await call(id, r.method, r.params, context);
    return notification ? undefined : answer;
  }

  async function call(id: Id, name: string, params: unknown, context: RpcContext): Promise<RpcResponse> {
    const method = Object.hasOwn(registry, name) ? registry[name] : undefined;
    if (!method) return standard(id, 'methodNotFound', { method: name });
    const check = validator(name, method);
    if (Array.isArray(params)) {
      return standard(id, 'invalidParams', {
        errors: [{ path: '', message: 'params must be by name (an object)' }],
      });
    }
    const given = (params ?? {}) as Record<string, unknown>;
    if (!check.Check(given)) {
      const errors = [...check.Errors(given)]
        // TypeBox reports an extra property twice (the `false` schema, then additionalProperties).
        .filter((e) => e.keyword !== 'boolean')
        .map((e) => ({ path: e.instancePath, message: e.message }));
      return standard(id, 'invalidParams', { errors });
    }
    try {
      return { jsonrpc: '2.0', id, result: (await method.call(given, context)) ?? null };
    } catch (error) {
      if (error instanceof RpcError) return failure(id, error.code, error.message, error.data);
      options.onInternalError?.(error, name);
      return standard(id, 'internalError');
    }
  }

  return {
    async handle(body, context) {
      let payload: unknown;
      try {
        payload = JSON.parse(body);
      } catch {
        return standard(null, 'parseError');
      }
      if (!Array.isArray(payload)) return one(payload, context);
      if (payload.length === 0) return standard(null, 'invalidRequest', 'an empty batch');
      if (payload.length > maxBatch) {
        return standard(null, 'invalidRequest', `a batch holds at most ${maxBatch} calls`);
      }
      // In order, one after the other: calls on one transaction apply as the caller listed them.
      const answers: RpcResponse[] = [];
      for (const request of payload) {
        const answer = await one(request, context);
        if (answer) answers.push(answer);
      }
      return answers.length > 0 ? answers : undefined;
    },
  };
}
