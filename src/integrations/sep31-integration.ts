import type { FeeDetails, MemoType } from '../../machines/index.ts';
import type { AssetConfig } from '../config/index.ts';
import type { Sep10Identity } from '../sep10/identity.ts';

/**
 * The anchor's SEP-31 business logic, as the SEP-31 routes call it. Mirrors Polaris's
 * `SEP31ReceiverIntegration` (`info`, `valid_sending_anchor`, `process_post_request`), typed.
 * Mooring does the protocol work first (authentication, validation, limits, KYC status, fees); the
 * integration only adds what the business decides.
 */
export interface Sep31Integration {
  /**
   * Extra fields for one asset's entry in `GET /info` (e.g. the deprecated `fields`). Mooring's own fields
   * (`enabled`, limits, fees, `funding_methods`, `sep12`, quotes) always win over a key returned here.
   */
  info(asset: AssetConfig, lang: string | null): Promise<Record<string, unknown>>;

  /** May this authenticated account send payments? Asked after Mooring's own `sendingAnchors` check. */
  validSendingAnchor(identity: Sep10Identity): Promise<boolean>;

  /**
   * Last word on a `POST /transactions` that passed every protocol check, before the transaction exists.
   * `{ error: 'customer_info_needed', type }` becomes the SEP's 400 `customer_info_needed` body; any other
   * `error` becomes a 400 `{"error": <text>}`.
   */
  processPostRequest(request: Sep31PostRequest, context: Sep31PostContext): Promise<Sep31PostResult>;

  /**
   * Last word on a `PATCH /transactions/:id` (the deprecated info update) that passed Mooring's checks,
   * before the values reach the transaction. `{ error }` becomes a 400 `{"error": <text>}`. Optional: the
   * reference accepts every update that gives what was asked for.
   */
  processPatchRequest?(request: Sep31PatchRequest, context: Sep31PatchContext): Promise<Sep31PatchResult>;
}

/** A validated `PATCH /transactions/:id`. */
export interface Sep31PatchRequest {
  transactionId: string;
  /** The transaction's status now (`pending_transaction_info_update`). */
  status: string;
  /** The `fields.transaction` values sent. */
  fields: Record<string, string>;
}

export interface Sep31PatchContext {
  sendingAnchor: Sep10Identity;
}

export type Sep31PatchResult = { ok: true } | { error: string };

/** A validated `POST /transactions` body, in our names. */
export interface Sep31PostRequest {
  assetCode: string;
  assetIssuer: string;
  /** Canonical decimal string. */
  amount: string;
  fundingMethod: string | null;
  senderId: string | null;
  receiverId: string | null;
  lang: string | null;
  refundMemo: string | null;
  refundMemoType: MemoType | null;
  /** SEP-38: the firm quote the transaction is on, or the off-chain asset to deliver (`iso4217:BRL`). */
  quoteId: string | null;
  destinationAsset: string | null;
  /** Legacy `fields.transaction` values (flat strings only). */
  fields: Record<string, string>;
}

/** What Mooring worked out for the request. */
export interface Sep31PostContext {
  /** The id the transaction will get if the request is accepted. */
  transactionId: string;
  sendingAnchor: Sep10Identity;
  asset: AssetConfig;
  amountIn: string;
  amountOut: string;
  /** SEP-38 id of what the receiver gets: the Stellar asset itself (1:1), or the quote's buy asset. */
  amountOutAsset: string;
  fee: FeeDetails;
}

export type Sep31PostResult =
  { ok: true } | { error: 'customer_info_needed'; type?: string } | { error: string; type?: undefined };
