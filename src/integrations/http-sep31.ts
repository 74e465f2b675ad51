import type { Sep10Identity } from '../sep10/identity.ts';
import {
  BusinessServerUnavailableError,
  errorOf,
  objectBody,
  type BusinessAnswer,
  type BusinessClient,
} from './business-client.ts';
import type { Sep31Integration, Sep31PatchResult, Sep31PostResult } from './sep31-integration.ts';

/**
 * The SEP-31 hooks on the business server, under Polaris's names (docs/business-http.md):
 * `GET /info`, `GET /valid_sending_anchor`, `POST /process_post_request`, `POST /process_patch_request`.
 * A refusal is a 400 or 422 with `{"error": ...}`; anything unreadable throws
 * {@link BusinessServerUnavailableError} (the SEP request is answered 503).
 */
export function createHttpSep31Integration(client: BusinessClient): Sep31Integration {
  return {
    async info(asset, lang) {
      const answer = await client.call({
        method: 'GET',
        path: 'info',
        query: { asset: `stellar:${asset.code}:${asset.issuer}`, lang: lang ?? undefined },
      });
      return objectBody(answer, 'GET /info');
    },

    async validSendingAnchor(identity) {
      const answer = await client.call({
        method: 'GET',
        path: 'valid_sending_anchor',
        query: {
          account: identity.account,
          memo: identity.memo ?? undefined,
          sub: identity.sub,
          client_domain: identity.clientDomain ?? undefined,
        },
      });
      const valid = objectBody(answer, 'GET /valid_sending_anchor').valid;
      if (typeof valid !== 'boolean') {
        throw new BusinessServerUnavailableError(
          'GET /valid_sending_anchor: valid must be true or false',
          200,
        );
      }
      return valid;
    },

    async processPostRequest(request, context) {
      const answer = await client.call({
        method: 'POST',
        path: 'process_post_request',
        body: {
          transaction_id: context.transactionId,
          sending_anchor: sendingAnchor(context.sendingAnchor),
          ...snakeKeys(request),
          amount_in: context.amountIn,
          amount_out: context.amountOut,
          amount_out_asset: context.amountOutAsset,
          fee_details: context.fee,
        },
        accept: REFUSALS,
      });
      return verdict(answer) as Sep31PostResult;
    },

    async processPatchRequest(request, context) {
      const answer = await client.call({
        method: 'POST',
        path: 'process_patch_request',
        body: {
          transaction_id: request.transactionId,
          sending_anchor: sendingAnchor(context.sendingAnchor),
          status: request.status,
          fields: request.fields,
        },
        accept: REFUSALS,
      });
      const result = verdict(answer);
      return ('ok' in result ? result : { error: result.error }) satisfies Sep31PatchResult;
    },
  };
}

/** The statuses of a refusal: the server understood the request and says no. */
const REFUSALS = [400, 422] as const;

function verdict(answer: BusinessAnswer): Sep31PostResult {
  if (answer.status >= 200 && answer.status <= 299) return { ok: true };
  const error = errorOf(answer, 'the transaction was refused');
  const body = answer.body as { type?: unknown } | null;
  if (error === 'customer_info_needed') {
    return { error, ...(typeof body?.type === 'string' && { type: body.type }) };
  }
  return { error };
}

function sendingAnchor(identity: Sep10Identity) {
  return {
    account: identity.account,
    memo: identity.memo,
    sub: identity.sub,
    client_domain: identity.clientDomain,
  };
}

/** `{ assetCode: … }` → `{ asset_code: … }`, one level deep (nested values keep their own names). */
export function snakeKeys(value: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]),
  );
}
