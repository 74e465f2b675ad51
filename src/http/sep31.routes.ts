/**
 * SEP-31 (v3.1.0) for the receiving anchor: `GET /info`, `POST /transactions`, `GET /transactions/:id`
 * (and `?id=`), the deprecated `PATCH /transactions/:id`, and `PUT /transactions/:id/callback`.
 * Commands go to the transaction actors over the bus and wait for the actor's answer (a 503 if it does not
 * come in time); queries read the read model, scoped to the authenticated sending anchor (its SEP-10
 * `sub`): another anchor's transaction is a 404.
 * @see https://github.com/stellar/stellar-protocol/blob/master/ecosystem/sep-0031.md
 */
import { createHash, randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { TransactionEvent, TransactionInput } from '../../machines/index.ts';
import { commanded } from './commands.ts';
import type { Idempotency, TransactionReply } from '../actors/messages.ts';
import type { AssetConfig, Config } from '../config/index.ts';
import type { TransactionView } from '../read-model/transactions.ts';
import { checkCallbackUrl } from '../effects/callback-url.ts';
import { MooringError } from '../errors.ts';
import { createReferenceSep31Integration } from '../integrations/reference/sep31.ts';
import type { Sep31Integration } from '../integrations/sep31-integration.ts';
import type { AppDeps, RouteDeps } from './app.ts';
import { requireSep10, type Sep10Identity } from './auth.ts';
import {
  CallbackBody,
  ErrorResponse,
  InfoQuery,
  type InfoAssetEntry,
  InfoResponse,
  PatchTransactionBody,
  PostTransactionBody,
  PostTransactionHeaders,
  PostTransactionResponse,
  TransactionParams,
  TransactionQuery,
  TransactionResponse,
} from './sep31.schemas.ts';
import { createReferenceRates } from '../integrations/reference/rates.ts';
import { createQuoting } from './sep38/quoting.ts';
import { priceSep31Post } from './sep31/quotes.ts';
import { idempotentTransactionId, requestHash } from './sep31/idempotency.ts';
import { newHashMemo } from './sep31/memo.ts';
import { isRecord, RECEIVER_TYPE, SENDER_TYPE, validatePost } from './sep31/validate-post.ts';
import { toSep31Transaction } from '../views/sep31-transaction.ts';

const MAX_MEMO_ATTEMPTS = 5;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const bad = (message: string) => new MooringError('bad_request', message);
const notFound = () => new MooringError('not_found', 'transaction not found');
const errors = { 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };

export async function sep31Routes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { config, queries, commands, quoteQueries } = deps;
  const integration: Sep31Integration = deps.integration ?? createReferenceSep31Integration(config);
  const quoting = createQuoting(config, deps.rates ?? createReferenceRates(config.sep38));
  const now = () => deps.clock?.() ?? new Date();
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  // onRequest: a caller without a valid partner token gets its 403 before the body is even parsed.
  const authenticated = [
    requireSep10(config, { status: 403, ...(deps.clock && { clock: deps.clock }) }),
    async (request: FastifyRequest) => {
      if (!(await isSendingAnchor(config, integration, identity(request)))) {
        throw new MooringError('forbidden', 'this account is not a registered sending anchor');
      }
    },
  ];
  // Writes are limited per sending anchor account, counted once it is known.
  const authenticatedWrite = [...authenticated, deps.limits.writes];

  /** A transaction of the calling sending anchor, or a 404 (unknown and foreign look the same). */
  async function owned(request: FastifyRequest, id: string | undefined): Promise<TransactionView> {
    if (id === undefined || !UUID.test(id)) throw notFound();
    const row = await queries.transaction(id, identity(request).sub);
    if (!row) throw notFound();
    return row;
  }

  const view = (row: TransactionView) => ({
    transaction: toSep31Transaction(row.status, row.persisted.context),
  });

  // Anonymous on purpose: sending anchors (and SDF's conformance checks) read it before authenticating.
  r.get(
    '/info',
    { schema: { querystring: InfoQuery, response: { 200: InfoResponse, 400: ErrorResponse } } },
    async (request) => {
      const lang = request.query.lang ?? null;
      const receive: Record<string, InfoAssetEntry> = {};
      for (const asset of config.assets) {
        if (!asset.sep31.enabled) continue;
        const quotes = asset.sep31.quotesSupported && (await quoting.quotes(asset));
        receive[asset.code] = {
          ...(await integration.info(asset, lang)),
          ...infoOf(asset, config, quotes),
        };
      }
      return { receive };
    },
  );

  r.post(
    '/transactions',
    {
      onRequest: authenticatedWrite,
      schema: {
        headers: PostTransactionHeaders,
        body: PostTransactionBody,
        response: { 201: PostTransactionResponse, ...errors, 409: ErrorResponse },
      },
    },
    async (request, reply) => {
      const caller = identity(request);
      if (!isRecord(request.body)) throw bad('the request body must be a JSON object');
      const key = request.headers['idempotency-key'];
      const keyed =
        key === undefined
          ? null
          : {
              id: idempotentTransactionId(caller.sub, key),
              idempotency: { key, requestHash: requestHash(request.body) },
            };
      if (keyed) {
        // A retry of a POST that was committed: answered as it was, without asking the integration again
        // (and whatever the customers or limits say now).
        const earlier = await queries.transaction(keyed.id, caller.sub);
        if (earlier) return replay(reply, earlier, keyed.idempotency);
      }
      const validated = await validatePost(request.body, config, (asked) =>
        // For SEP-31 the sending anchor is the account: its customers under any memo may be used (a token
        // for memo 1 with a receiver registered under memo 2, as SDF's tooling does). SEP-12 stays memo-scoped.
        queries.customerStatuses(asked, { account: caller.account, memo: null }),
      );
      const { asset, request: post } = validated;
      const id = keyed?.id ?? randomUUID();
      const at = now();
      const pricing = await priceSep31Post(validated, caller, id, at, {
        quoting,
        findQuote: (quoteId, account) => quoteQueries.quote(quoteId, account),
      });
      const verdict = await integration.processPostRequest(
        { ...post, fundingMethod: pricing.fundingMethod },
        {
          transactionId: id,
          sendingAnchor: caller,
          asset,
          amountIn: pricing.amountIn,
          amountOut: pricing.amountOut,
          amountOutAsset: pricing.amountOutAsset,
          fee: pricing.fee,
        },
      );
      if (!('ok' in verdict)) {
        if (verdict.error === 'customer_info_needed') {
          throw new MooringError('customer_info_needed', 'customer_info_needed', {
            ...(typeof verdict.type === 'string' && { type: verdict.type }),
          });
        }
        throw bad(verdict.error || 'the transaction was refused');
      }

      // The sender must pay by the configured deadline, and before a firm quote expires (SEP-31 `expired`).
      let expiresAt = new Date(at.getTime() + config.paymentDeadlineSeconds * 1000);
      if (pricing.quoteExpiresAt !== null && pricing.quoteExpiresAt < expiresAt) {
        expiresAt = pricing.quoteExpiresAt;
      }
      const input: TransactionInput = {
        id,
        sendingAnchor: caller.sub,
        startedAt: at.toISOString(),
        assetCode: asset.code,
        assetIssuer: asset.issuer,
        amountInAsset: pricing.amountInAsset,
        amountIn: pricing.amountIn,
        amountOutAsset: pricing.amountOutAsset,
        amountOut: pricing.amountOut,
        amountOutDecimals: pricing.amountOutDecimals,
        feeDetails: pricing.fee,
        fundingMethod: pricing.fundingMethod,
        quoteId: pricing.quoteId,
        senderId: post.senderId,
        receiverId: post.receiverId,
        refundMemo: post.refundMemo,
        refundMemoType: post.refundMemoType,
        expiresAt: expiresAt.toISOString(),
        fields: post.fields,
      };
      const created = await createWithUniqueMemo(deps, input, asset, at, keyed?.idempotency);
      if ('exists' in created) {
        // A twin with the same key was committed first (in flight at once, or on another process).
        if (!keyed || created.exists !== keyed.idempotency.requestHash) throw reusedKey();
        const earlier = await queries.transaction(id, caller.sub);
        if (!earlier) throw new Error(`transaction ${id} exists but is not the caller's`);
        return replay(reply, earlier, keyed.idempotency);
      }
      const { memo } = created;
      return reply.status(201).send({
        id,
        stellar_account_id: asset.distributionAccount,
        stellar_memo_type: memo.type,
        stellar_memo: memo.value,
      });
    },
  );

  r.get(
    '/transactions/:id',
    {
      onRequest: authenticated,
      schema: { params: TransactionParams, response: { 200: TransactionResponse, ...errors } },
    },
    async (request) => view(await owned(request, request.params.id)),
  );

  // The polling form of SEPS.md §9.4: `GET /transactions?id=<id>`.
  r.get(
    '/transactions',
    {
      onRequest: authenticated,
      schema: { querystring: TransactionQuery, response: { 200: TransactionResponse, ...errors } },
    },
    async (request) => {
      if (request.query.id === undefined || request.query.id === '') throw bad('id is required');
      return view(await owned(request, request.query.id));
    },
  );

  r.patch(
    '/transactions/:id',
    {
      onRequest: authenticatedWrite,
      schema: {
        params: TransactionParams,
        body: PatchTransactionBody,
        response: { 200: TransactionResponse, ...errors },
      },
    },
    async (request) => {
      const row = await owned(request, request.params.id);
      const values = request.body.fields.transaction;
      for (const [name, value] of Object.entries(values)) {
        if (name.includes('\u0000') || value.includes('\u0000')) {
          throw bad('fields must not contain NUL characters');
        }
      }
      if (row.status === 'pending_transaction_info_update') checkRequestedFields(row, values);
      // One update per request for information: a retried PATCH (same body, same request) is a duplicate.
      const requestSeq = await queries.lastEventSeq(row.id, 'TRANSACTION_INFO_NEEDED');
      if (requestSeq === null) {
        throw bad(
          `no transaction information was requested for transaction ${row.id} (status ${row.status})`,
        );
      }
      const verdict = await integration.processPatchRequest?.(
        { transactionId: row.id, status: row.status, fields: values },
        { sendingAnchor: identity(request) },
      );
      if (verdict !== undefined && 'error' in verdict) throw bad(verdict.error || 'the update was refused');
      const event: TransactionEvent = { type: 'TRANSACTION_INFO_UPDATED', at: now().toISOString(), values };
      const answer = await commanded(commands.send(row.id, `patch:${requestSeq}:${digest(values)}`, event));
      if (answer.outcome === 'refused') throw refusalError(answer, 'TRANSACTION_INFO_UPDATED');
      return view(await owned(request, row.id));
    },
  );

  r.put(
    '/transactions/:id/callback',
    {
      onRequest: authenticatedWrite,
      schema: {
        params: TransactionParams,
        body: CallbackBody,
        response: { 204: Type.Null({ description: 'No Content' }), ...errors },
      },
    },
    async (request, reply) => {
      const row = await owned(request, request.params.id);
      const { url } = request.body;
      if (url.includes('\u0000')) throw bad('callback url must not contain NUL characters');
      const problem = await checkCallbackUrl(url, { allowLoopback: config.callbacks.allowLoopback });
      if (problem !== null) throw bad(problem);
      const answer = await commanded(
        commands.registerCallback(row.id, identity(request).sub, url, randomUUID()),
      );
      if (answer.outcome === 'refused') throw refusalError(answer, null);
      return reply.status(204).send(null);
    },
  );
}

function identity(request: FastifyRequest): Sep10Identity {
  if (!request.sep10) throw new MooringError('unauthorized', 'authentication required');
  return request.sep10;
}

/** Contracted in config (or sandbox open access), and accepted by the integration. */
export async function isSendingAnchor(
  config: Pick<Config, 'sendingAnchors' | 'allowAnySendingAnchor'>,
  integration: Sep31Integration,
  caller: Sep10Identity,
): Promise<boolean> {
  const contracted =
    config.allowAnySendingAnchor ||
    config.sendingAnchors.some((anchor) => anchor.signingKeys.includes(caller.account));
  return contracted && (await integration.validSendingAnchor(caller));
}

/**
 * One asset's `/info` entry. Amounts are JSON numbers here, and only here (display). `quotesSupported`: the
 * asset is configured for quotes and the rates quote it (SEP-38 `GET /prices?sell_asset=` lists something).
 */
function infoOf(asset: AssetConfig, config: Pick<Config, 'sep12'>, quotesSupported: boolean) {
  const sep12Type = (type: string) => {
    const configured = config.sep12.types[type];
    return { types: configured ? { [type]: { description: configured.description } } : {} };
  };
  return {
    enabled: true,
    quotes_supported: quotesSupported,
    // As configured: an asset paid out only on quotes stays so while its rates are away.
    quotes_required: asset.sep31.quotesRequired,
    fee_fixed: Number(asset.sep31.feeFixed),
    fee_percent: Number(asset.sep31.feePercent),
    min_amount: Number(asset.sep31.minAmount),
    max_amount: Number(asset.sep31.maxAmount),
    funding_methods: [...asset.sep31.fundingMethods],
    sep12: { sender: sep12Type(SENDER_TYPE), receiver: sep12Type(RECEIVER_TYPE) },
  };
}

/**
 * Creates the transaction and assigns its receiving account and a fresh hash memo in one step. The actor
 * refuses a memo another transaction has (the unique index backs it); we then draw another (bounded).
 * A keyed create whose transaction exists gives the request hash that transaction was created with.
 */
async function createWithUniqueMemo(
  deps: AppDeps,
  input: TransactionInput,
  asset: AssetConfig,
  at: Date,
  idempotency: Idempotency | undefined,
): Promise<{ memo: { type: 'hash'; value: string } } | { exists: string | null }> {
  for (let attempt = 1; ; attempt++) {
    const memo = newHashMemo();
    const answer = await commanded(
      deps.commands.create(
        input,
        [
          {
            type: 'ACCOUNT_ASSIGNED',
            at: at.toISOString(),
            stellarAccountId: asset.distributionAccount,
            stellarMemoType: memo.type,
            stellarMemo: memo.value,
          },
        ],
        idempotency,
      ),
    );
    if (answer.outcome !== 'refused') return { memo };
    if (answer.code === 'exists' && idempotency) return { exists: answer.requestHash ?? null };
    if (answer.code === 'memo_taken' && attempt < MAX_MEMO_ATTEMPTS) continue;
    if (answer.code === 'memo_taken')
      throw new MooringError('conflict', 'could not assign a unique memo; please retry');
    throw refusalError(answer, null);
  }
}

/**
 * The answer to a retried keyed POST: the first answer again (same status, id, account and memo), marked
 * `Idempotent-Replayed`; or a 409 when the key was used with another body.
 */
function replay(reply: FastifyReply, earlier: TransactionView, idempotency: Idempotency) {
  if (earlier.requestHash !== idempotency.requestHash) throw reusedKey();
  const { stellarAccountId, stellarMemoType, stellarMemo } = earlier.persisted.context;
  if (stellarAccountId === null || stellarMemoType === null || stellarMemo === null) {
    throw new Error(`transaction ${earlier.id} was created without a receiving account and memo`);
  }
  return reply.status(201).header('idempotent-replayed', 'true').send({
    id: earlier.id,
    stellar_account_id: stellarAccountId,
    stellar_memo_type: stellarMemoType,
    stellar_memo: stellarMemo,
  });
}

const reusedKey = () =>
  new MooringError('conflict', 'this Idempotency-Key was already used with a different request body');

/** Every field asked for (and not optional) must be given; nothing that was not asked for. */
function checkRequestedFields(row: TransactionView, values: Record<string, string>) {
  const requested = row.persisted.context.requiredInfoUpdates ?? {};
  const unexpected = Object.keys(values).filter((name) => !Object.hasOwn(requested, name));
  if (unexpected.length > 0) throw bad(`fields not requested for this transaction: ${unexpected.join(', ')}`);
  const missing = Object.entries(requested)
    .filter(([name, spec]) => spec.optional !== true && (values[name] ?? '').trim() === '')
    .map(([name]) => name);
  if (missing.length > 0) throw bad(`missing required fields: ${missing.join(', ')}`);
}

function digest(values: Record<string, string>): string {
  const canonical = JSON.stringify(Object.entries(values).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return createHash('sha256').update(canonical).digest('hex');
}

/** The actor's refusals are the client's problem (4xx), never a 500. */
function refusalError(
  answer: Extract<TransactionReply, { outcome: 'refused' }>,
  eventType: string | null,
): MooringError {
  switch (answer.code) {
    case 'not_found':
      return notFound();
    case 'rejected':
      return bad(
        eventType === 'TRANSACTION_INFO_UPDATED'
          ? `transaction is not awaiting transaction information (status ${answer.status}); ` +
              'PATCH is only accepted in pending_transaction_info_update'
          : `the transaction cannot take this request in status ${answer.status}`,
      );
    case 'late':
      return new MooringError('busy');
    case 'quote_used':
    case 'quote_invalid':
      return bad(answer.reason);
    default:
      return new MooringError('conflict', answer.reason);
  }
}
