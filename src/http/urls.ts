import type { Config } from '../config/index.ts';

/** Route prefixes; stellar.toml advertises them under the home domain. */
export const PATHS = {
  toml: '/.well-known/stellar.toml',
  auth: '/auth',
  sep12: '/sep12',
  sep31: '/sep31',
  sep38: '/sep38',
} as const;

/**
 * Public base URL of this anchor. SEP-1 requires https; a `localhost[:port]` home domain uses http so the
 * whole flow works on a laptop.
 */
export function publicBaseUrl(config: Pick<Config, 'homeDomain'>): string {
  const local = /^(localhost|127\.0\.0\.1)(:\d+)?$/.test(config.homeDomain);
  return `${local ? 'http' : 'https'}://${config.homeDomain}`;
}

export function publicUrls(config: Pick<Config, 'homeDomain'>) {
  const base = publicBaseUrl(config);
  return {
    webAuthEndpoint: `${base}${PATHS.auth}`,
    kycServer: `${base}${PATHS.sep12}`,
    directPaymentServer: `${base}${PATHS.sep31}`,
    anchorQuoteServer: `${base}${PATHS.sep38}`,
  };
}
