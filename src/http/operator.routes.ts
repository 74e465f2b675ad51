/**
 * The operator API: JSON-RPC 2.0 at `POST /operator/rpc` (src/operator/), behind the operator token
 * (`Authorization: Bearer <OPERATOR_TOKEN>`; wrong tokens draw on the operator-guess budget), and its
 * OpenRPC document at `GET /operator/openrpc.json`. Off (404) unless OPERATOR_TOKEN is set; hidden from
 * the public OpenAPI document. The caller names itself with `X-Operator` (default `operator`): every
 * event it sends is recorded with that name.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import packageJson from '../../package.json' with { type: 'json' };
import { MooringError } from '../errors.ts';
import { Type } from 'typebox';
import { createOperatorApi, openRpcDocument, rpcMethod } from '../operator/index.ts';
import type { RouteDeps } from './app.ts';
import { operatorAuth } from './operator-auth.ts';

export const OPERATOR_BASE = '/operator';
export const OPERATOR_PATHS = { rpc: `${OPERATOR_BASE}/rpc`, openrpc: `${OPERATOR_BASE}/openrpc.json` };
export const OPERATOR_OFF = 'the operator API is off: set OPERATOR_TOKEN to turn it on';
export const OPERATOR_HEADER = 'x-operator';
export const DEFAULT_OPERATOR = 'operator';
const OPERATOR_NAME = /^[A-Za-z0-9._@+:-]{1,64}$/;

const hidden = { hide: true };
const local = (path: string) => path.slice(OPERATOR_BASE.length);

export async function operatorRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const operatorToken = deps.config.operatorToken;
  if (operatorToken === null) {
    const off = async (_request: FastifyRequest, reply: FastifyReply) =>
      reply.status(404).send({ error: OPERATOR_OFF });
    app.all('/*', { schema: hidden }, off);
    return;
  }

  const { api, document } = operatorRpc(app, deps);
  app.get(local(OPERATOR_PATHS.openrpc), { schema: hidden }, async () => document);

  const auth = operatorAuth({ operatorToken, cookiePath: OPERATOR_BASE });
  const guesses = deps.limits.operatorGuesses;
  await app.register(async (rpc) => {
    rpcBodyAsText(rpc);
    rpc.addHook('onRequest', guesses.refuseWhenSpent);
    rpc.addHook('onRequest', async (request) => {
      if (request.headers.authorization !== undefined && !auth.isOperator(request))
        await guesses.spend(request);
    });
    rpc.addHook('onRequest', auth.required);

    rpc.post(local(OPERATOR_PATHS.rpc), { schema: hidden }, rpcRoute(api, DEFAULT_OPERATOR));
  });
}

type OperatorApi = ReturnType<typeof createOperatorApi>;

/** The operator API's methods (with `rpc.discover`) and their OpenRPC document. */
export function operatorRpc(app: FastifyInstance, deps: RouteDeps): { api: OperatorApi; document: unknown } {
  const api = createOperatorApi(
    {
      commands: deps.commands,
      queries: deps.operatorQueries,
      sendingAnchors: deps.config.sendingAnchors,
      customerTypes: Object.keys(deps.config.sep12.types),
      refunds: { db: deps.operatorDb, refunds: deps.config.refunds },
      ...(deps.clock && { clock: deps.clock }),
    },
    { onInternalError: (error, method) => app.log.error({ err: error, method }, 'operator method failed') },
  );
  // OpenRPC's service discovery method: the document, also over the API itself (`mooring operator rpc.discover`).
  api.methods['rpc.discover'] = rpcMethod({
    description: 'This OpenRPC document.',
    params: Type.Object({}, { additionalProperties: false }),
    call: async () => document,
  });
  const document = openRpcDocument(api.methods, { version: packageJson.version, url: OPERATOR_PATHS.rpc });
  return { api, document };
}

/**
 * Registers in `scope` a parser that hands the JSON body over as text: a body that is not JSON is JSON-RPC's
 * parse error, not a 400.
 */
export function rpcBodyAsText(scope: FastifyInstance): void {
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    done(null, body);
  });
}

/** The POST handler of a JSON-RPC endpoint; the caller is named by `X-Operator`, else `fallback`. */
export function rpcRoute(api: OperatorApi, fallback: string) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const operator = operatorName(request.headers[OPERATOR_HEADER], fallback);
    const answer = await api.handler.handle(String(request.body ?? ''), { operator });
    reply.header('cache-control', 'no-store');
    // Only notifications: nothing to answer.
    if (answer === undefined) return reply.status(204).send();
    return reply.status(200).send(answer);
  };
}

function operatorName(header: string | string[] | undefined, fallback: string): string {
  if (header === undefined) return fallback;
  if (typeof header !== 'string' || !OPERATOR_NAME.test(header)) {
    throw new MooringError('bad_request', 'X-Operator must be 1 to 64 letters, digits or ._@+:-');
  }
  return header;
}
