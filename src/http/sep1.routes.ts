/**
 * SEP-1 stellar.toml (v2.7.0), generated from the configuration. Registered under `PATHS.toml`.
 * @see https://github.com/stellar/stellar-protocol/blob/master/ecosystem/sep-0001.md
 */
import type { FastifyInstance } from 'fastify';
import { stringify } from 'smol-toml';
import type { Config } from '../config/index.ts';
import type { AppDeps } from './app.ts';
import { publicUrls } from './urls.ts';

export const SEP1_VERSION = '2.7.0';

type TomlConfig = Pick<
  Config,
  'homeDomain' | 'network' | 'networkPassphrase' | 'signingKey' | 'assets' | 'documentation' | 'sep38'
>;

/** The stellar.toml as an object (keys exactly as SEP-1 names them). */
export function stellarTomlObject(config: TomlConfig): Record<string, unknown> {
  const urls = publicUrls(config);
  // Quotes are offered when SEP-31 says so for an asset, or the rates have a pair to quote.
  const quotes = config.assets.some((asset) => asset.sep31.quotesSupported) || config.sep38.rates.length > 0;
  return {
    VERSION: SEP1_VERSION,
    NETWORK_PASSPHRASE: config.networkPassphrase,
    SIGNING_KEY: config.signingKey,
    WEB_AUTH_ENDPOINT: urls.webAuthEndpoint,
    DIRECT_PAYMENT_SERVER: urls.directPaymentServer,
    KYC_SERVER: urls.kycServer,
    // SEP-1: required when a receiving-anchor conversion (SEP-38 quote) is offered.
    ...(quotes ? { ANCHOR_QUOTE_SERVER: urls.anchorQuoteServer } : {}),
    ACCOUNTS: [...new Set(config.assets.map((asset) => asset.distributionAccount))],
    ...(Object.keys(config.documentation).length > 0 ? { DOCUMENTATION: { ...config.documentation } } : {}),
    CURRENCIES: config.assets.map((asset) => ({
      code: asset.code,
      issuer: asset.issuer,
      status: config.network === 'pubnet' ? 'live' : 'test',
      desc: `${asset.code} received through SEP-31 cross-border payments and paid out off-chain.`,
      is_asset_anchored: true,
      anchor_asset_type: 'fiat',
      display_decimals: asset.significantDecimals,
    })),
  };
}

export function stellarToml(config: TomlConfig): string {
  return stringify(stellarTomlObject(config));
}

export async function sep1Routes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const body = stellarToml(deps.config); // the config is frozen: render once
  // SEP-1: exactly /.well-known/stellar.toml, no trailing-slash twin.
  app.get(
    '/',
    { prefixTrailingSlash: 'no-slash', schema: { summary: 'SEP-1 stellar.toml', tags: ['SEP-1'] } },
    async (_request, reply) =>
      reply
        .header('content-type', 'text/plain; charset=utf-8')
        .header('access-control-allow-origin', '*')
        .send(body),
  );
}
