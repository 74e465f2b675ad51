import type { Sep38DeliveryMethod } from '../config/index.ts';

/**
 * Where SEP-38 prices come from, as Mooring calls it (in the spirit of the Anchor Platform's `GET /rate`
 * callback). The integration names the assets it trades and the terms of a pair; Mooring turns the terms into
 * amounts itself (exact decimals, each asset's significant decimals, the SEP's formulas), so every
 * implementation, in process or over HTTP, quotes the same way. The reference implementation reads fixed
 * rates from config (`sep38`); an HTTP adapter can implement the same interface for a business server.
 */
export interface RatesIntegration {
  /** The off-chain assets quotes are offered in, with their delivery methods and countries (`GET /info`). */
  offChainAssets(): Promise<readonly RatesAsset[]>;
  /** Every pair with a rate (`GET /prices` lists them without asking for each). */
  pairs(): Promise<readonly RatesPair[]>;
  /**
   * The terms for one pair, or null when the anchor does not trade it (or not for this delivery method or
   * country). A firm request's answer is what the stored quote is computed from; `expiresAt` shortens (never
   * lengthens) the configured quote lifetime.
   */
  rate(request: RateRequest): Promise<RateTerms | null>;
}

export interface RatesAsset {
  /** `iso4217:XXX`. */
  asset: string;
  significantDecimals: number;
  countryCodes: readonly string[];
  sellDeliveryMethods: readonly Sep38DeliveryMethod[];
  buyDeliveryMethods: readonly Sep38DeliveryMethod[];
}

export interface RatesPair {
  sellAsset: string;
  buyAsset: string;
}

export interface RateRequest {
  /** `indicative` for `GET /prices` and `GET /price`; `firm` for `POST /quote`. */
  type: 'indicative' | 'firm';
  context: 'sep31';
  sellAsset: string;
  buyAsset: string;
  /** Exactly one of the two for `GET /price` and `POST /quote`; neither for `GET /prices`. */
  sellAmount?: string;
  buyAmount?: string;
  sellDeliveryMethod?: string;
  buyDeliveryMethod?: string;
  countryCode?: string;
  /** The SEP-10 account asking (absent for an unauthenticated indicative price). */
  account?: string;
}

/** What a pair costs: sell units per buy unit (spread included), and the fee in the sell asset. */
export interface PriceTerms {
  price: string;
  feeFixed: string;
  feePercent: string;
}

export interface RateTerms extends PriceTerms {
  expiresAt?: Date;
}
