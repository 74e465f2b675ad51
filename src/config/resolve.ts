/**
 * The config file's structured parts (assets, SEP-12 types, sending anchors, rails, documentation) turned
 * into their resolved form: defaults applied, amounts canonical, Stellar keys and cross-field rules checked.
 */
import {
  checkAmount,
  checkNonNegativeSeconds,
  checkPercent,
  checkPositiveSeconds,
  checkPublicKey,
  checkText,
} from './checks.ts';
import { toStroops } from './decimal.ts';
import {
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_CONNECTION_TIMEOUT_SECONDS,
  DEFAULT_KEEP_ALIVE_TIMEOUT_SECONDS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_PAYMENT_DEADLINE_SECONDS,
  DEFAULT_PAYOUT_DELAY_SECONDS,
  DEFAULT_QUOTE_EXPIRY_SECONDS,
  DEFAULT_OFF_CHAIN_DECIMALS,
  SANDBOX_QUOTE_CURRENCY,
  SANDBOX_QUOTE_FEE_PERCENT,
  DEFAULT_RAILS_TIMEOUT_SECONDS,
  DEFAULT_SEP12,
  DEFAULT_SEP31,
  DEFAULT_REQUEST_TIMEOUT_SECONDS,
  DEFAULT_SEP10_LIMIT,
  DEFAULT_SIGN_IN_LIMIT,
  DEFAULT_SIGNIFICANT_DECIMALS,
  DEFAULT_WRITES_LIMIT,
} from './defaults.ts';
import { ConfigError, fileKey, show } from './errors.ts';
import type { AssetFile, ConfigFile } from './schema.ts';
import type {
  AssetConfig,
  CallbacksConfig,
  HttpConfig,
  RateLimitConfig,
  RateLimitGroupConfig,
  StellarNetwork,
  TrustProxy,
  RailsConfig,
  RefundsConfig,
  SendingAnchorConfig,
  Sep12Config,
  Sep31AssetConfig,
  Sep38Config,
  Sep38OffChainAsset,
  Sep38Rate,
} from './types.ts';

type Path = (string | number)[];

const ASSET_CODE = /^[A-Za-z0-9]{1,12}$/;

export function resolveAssets(assets: readonly AssetFile[]): AssetConfig[] {
  const seen = new Map<string, number>();
  return assets.map((asset, index) => {
    const path: Path = ['assets', index];
    const resolved = resolveAsset(asset, path);
    const id = `${resolved.code}:${resolved.issuer}`;
    const earlier = seen.get(id);
    if (earlier !== undefined) {
      throw new ConfigError(
        fileKey(path),
        `duplicates assets[${earlier}] (${resolved.code} issued by ${resolved.issuer})`,
      );
    }
    seen.set(id, index);
    return resolved;
  });
}

function resolveAsset(asset: AssetFile, path: Path): AssetConfig {
  const code = asset.code.trim();
  if (!ASSET_CODE.test(code)) {
    throw new ConfigError(
      fileKey([...path, 'code']),
      `must be an asset code of 1-12 letters and digits (got ${show(asset.code)})`,
    );
  }
  return {
    code,
    issuer: checkPublicKey(asset.issuer, fileKey([...path, 'issuer'])),
    distributionAccount: checkPublicKey(asset.distributionAccount, fileKey([...path, 'distributionAccount'])),
    significantDecimals: asset.significantDecimals ?? DEFAULT_SIGNIFICANT_DECIMALS,
    sep31: resolveSep31(asset.sep31 ?? {}, [...path, 'sep31']),
  };
}

function resolveSep31(sep31: NonNullable<AssetFile['sep31']>, path: Path): Sep31AssetConfig {
  const at = (key: string): string => fileKey([...path, key]);
  const amount = (key: 'minAmount' | 'maxAmount' | 'feeFixed'): string =>
    sep31[key] === undefined ? DEFAULT_SEP31[key] : checkAmount(sep31[key], at(key));
  const resolved: Sep31AssetConfig = {
    enabled: sep31.enabled ?? DEFAULT_SEP31.enabled,
    minAmount: amount('minAmount'),
    maxAmount: amount('maxAmount'),
    feeFixed: amount('feeFixed'),
    feePercent:
      sep31.feePercent === undefined
        ? DEFAULT_SEP31.feePercent
        : checkPercent(sep31.feePercent, at('feePercent')),
    fundingMethods: sep31.fundingMethods?.map((method) => method.trim()) ?? DEFAULT_SEP31.fundingMethods,
    quotesSupported: sep31.quotesSupported ?? DEFAULT_SEP31.quotesSupported,
    quotesRequired: sep31.quotesRequired ?? DEFAULT_SEP31.quotesRequired,
  };
  if (toStroops(resolved.minAmount) > toStroops(resolved.maxAmount)) {
    throw new ConfigError(
      at('minAmount'),
      `must not exceed maxAmount (got ${resolved.minAmount} > ${resolved.maxAmount})`,
    );
  }
  if (new Set(resolved.fundingMethods).size !== resolved.fundingMethods.length) {
    throw new ConfigError(
      at('fundingMethods'),
      `must not repeat a method (got ${show(resolved.fundingMethods)})`,
    );
  }
  if (resolved.quotesRequired && !resolved.quotesSupported) {
    throw new ConfigError(at('quotesRequired'), 'can only be true when quotesSupported is true');
  }
  return resolved;
}

export function resolveSep12(sep12: ConfigFile['sep12']): Sep12Config {
  const uploads = { ...DEFAULT_SEP12.uploads, ...sep12?.uploads };
  if (sep12?.types === undefined) return { ...DEFAULT_SEP12, uploads };
  const types: Record<string, Sep12Config['types'][string]> = {};
  for (const [name, type] of Object.entries(sep12.types)) {
    if (name.trim() === '')
      throw new ConfigError(fileKey(['sep12', 'types']), 'customer type names must not be empty');
    types[name] = { description: type.description ?? '', fields: [...(type.fields ?? [])] };
  }
  return { types, uploads };
}

export function resolveSendingAnchors(
  anchors: NonNullable<ConfigFile['sendingAnchors']>,
): SendingAnchorConfig[] {
  const names = new Map<string, number>();
  const keys = new Map<string, number>();
  return anchors.map((anchor, index) => {
    const path: Path = ['sendingAnchors', index];
    const name = checkText(anchor.name, fileKey([...path, 'name']));
    if (names.has(name)) {
      throw new ConfigError(
        fileKey([...path, 'name']),
        `duplicates sendingAnchors[${names.get(name)}] (got ${show(name)})`,
      );
    }
    names.set(name, index);
    const signingKeys = anchor.signingKeys.map((key, k) => {
      const checked = checkPublicKey(key, fileKey([...path, 'signingKeys', k]));
      const owner = keys.get(checked);
      if (owner !== undefined) {
        throw new ConfigError(
          fileKey([...path, 'signingKeys', k]),
          `is already a key of sendingAnchors[${owner}]: a key must identify one sending anchor`,
        );
      }
      keys.set(checked, index);
      return checked;
    });
    return { name, signingKeys };
  });
}

export function resolveRails(rails: ConfigFile['rails']): RailsConfig {
  if (rails?.kind === 'http') {
    const where = fileKey(['rails', 'baseUrl']);
    if (rails.baseUrl === undefined) throw new ConfigError(where, 'is required when rails.kind is "http"');
    let url: URL;
    try {
      url = new URL(rails.baseUrl);
    } catch {
      throw new ConfigError(where, `must be an http(s) URL (got ${show(rails.baseUrl)})`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new ConfigError(where, `must be an http(s) URL (got ${show(rails.baseUrl)})`);
    }
    return {
      kind: 'http',
      baseUrl: url.href.replace(/\/$/, ''),
      timeoutSeconds: rails.timeoutSeconds ?? DEFAULT_RAILS_TIMEOUT_SECONDS,
      ...(rails.authToken !== undefined && { authToken: rails.authToken }),
    };
  }
  return {
    kind: 'reference',
    payoutDelaySeconds:
      rails?.payoutDelaySeconds === undefined
        ? DEFAULT_PAYOUT_DELAY_SECONDS
        : checkNonNegativeSeconds(rails.payoutDelaySeconds, fileKey(['rails', 'payoutDelaySeconds'])),
    failureRate: rails?.failureRate ?? 0,
  };
}

export function resolvePaymentDeadline(seconds: number | undefined): number {
  return seconds === undefined
    ? DEFAULT_PAYMENT_DEADLINE_SECONDS
    : checkPositiveSeconds(seconds, fileKey(['paymentDeadlineSeconds']));
}

export function resolveHttp(http: ConfigFile['http'], trustProxy: TrustProxy | undefined): HttpConfig {
  return {
    requestTimeoutSeconds: http?.requestTimeoutSeconds ?? DEFAULT_REQUEST_TIMEOUT_SECONDS,
    connectionTimeoutSeconds: http?.connectionTimeoutSeconds ?? DEFAULT_CONNECTION_TIMEOUT_SECONDS,
    keepAliveTimeoutSeconds: http?.keepAliveTimeoutSeconds ?? DEFAULT_KEEP_ALIVE_TIMEOUT_SECONDS,
    maxConnections: http?.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    bodyLimitBytes: http?.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    // The environment (TRUST_PROXY) may override the file, so it arrives already merged and checked.
    trustProxy: trustProxy ?? false,
  };
}

export function resolveRateLimit(rateLimit: ConfigFile['rateLimit']): RateLimitConfig {
  const group = (
    given: { max?: number; windowSeconds?: number } | undefined,
    fallback: RateLimitGroupConfig,
  ): RateLimitGroupConfig => ({
    max: given?.max ?? fallback.max,
    windowSeconds: given?.windowSeconds ?? fallback.windowSeconds,
  });
  return {
    enabled: rateLimit?.enabled ?? true,
    signIn: group(rateLimit?.signIn, DEFAULT_SIGN_IN_LIMIT),
    sep10: group(rateLimit?.sep10, DEFAULT_SEP10_LIMIT),
    writes: group(rateLimit?.writes, DEFAULT_WRITES_LIMIT),
  };
}

export function resolveCallbacks(
  callbacks: ConfigFile['callbacks'],
  network: StellarNetwork,
): CallbacksConfig {
  const allowLoopback = callbacks?.allowLoopback ?? false;
  if (allowLoopback && network === 'pubnet') {
    throw new ConfigError(
      fileKey(['callbacks', 'allowLoopback']),
      'must not be true on pubnet: loopback callbacks are for a sending anchor on the same test machine',
    );
  }
  return { allowLoopback };
}

/**
 * Refunds: `stellar` (Mooring signs them) by default when a signer is known (REFUND_SIGNER_SECRET,
 * `refunds.signerSecret`, or the sandbox's generated distribution key), else `business`.
 */
export function resolveRefunds(refunds: ConfigFile['refunds'], signerSecret: string | null): RefundsConfig {
  const kind = refunds?.kind ?? (signerSecret !== null ? 'stellar' : 'business');
  if (kind === 'stellar' && signerSecret === null) {
    throw new ConfigError(
      fileKey(['refunds', 'kind']),
      'is "stellar" but no signer is configured (set REFUND_SIGNER_SECRET or "refunds.signerSecret")',
    );
  }
  return {
    kind,
    excess: refunds?.excess ?? 'auto',
    signerSecret: kind === 'stellar' ? signerSecret : null,
  };
}

const ISO4217_ASSET = /^iso4217:[A-Z]{3}$/;
const COUNTRY_CODE = /^[A-Z]{2}(-[A-Z0-9]{1,3})?$/;

/** The SEP-38 id of a configured Stellar asset: `stellar:CODE:ISSUER`. */
export function sep38StellarAsset(asset: Pick<AssetConfig, 'code' | 'issuer'>): string {
  return `stellar:${asset.code}:${asset.issuer}`;
}

/**
 * SEP-38 quotes. Checked against the resolved assets, so it runs after sandbox mode filled them in. With no
 * `sep38` in the file, a sandbox quotes every asset against US dollars (paid out by the assets' SEP-31
 * funding methods) and anything else quotes nothing.
 */
export function resolveSep38(
  sep38: ConfigFile['sep38'],
  assets: readonly AssetConfig[],
  sandbox: boolean,
): Sep38Config {
  if (sep38 === undefined) return sandbox ? sandboxSep38(assets) : emptySep38();
  const offChainAssets = (sep38.offChainAssets ?? []).map((entry, index): Sep38OffChainAsset => {
    const at = (...key: (string | number)[]) => fileKey(['sep38', 'offChainAssets', index, ...key]);
    if (!ISO4217_ASSET.test(entry.asset)) {
      throw new ConfigError(
        at('asset'),
        `must be an ISO 4217 asset id like "iso4217:USD" (got ${show(entry.asset)})`,
      );
    }
    for (const [i, code] of (entry.countryCodes ?? []).entries()) {
      if (!COUNTRY_CODE.test(code)) {
        throw new ConfigError(
          at('countryCodes', i),
          `must be an ISO 3166 country code like "US" (got ${show(code)})`,
        );
      }
    }
    const methods = (list: typeof entry.buyDeliveryMethods) =>
      (list ?? []).map((method) => ({
        name: method.name.trim(),
        description: method.description ?? method.name,
      }));
    return {
      asset: entry.asset,
      significantDecimals: entry.significantDecimals ?? DEFAULT_OFF_CHAIN_DECIMALS,
      countryCodes: entry.countryCodes ?? [],
      sellDeliveryMethods: methods(entry.sellDeliveryMethods),
      buyDeliveryMethods: methods(entry.buyDeliveryMethods),
    };
  });
  const known = new Set([...assets.map(sep38StellarAsset), ...offChainAssets.map((entry) => entry.asset)]);
  if (known.size !== assets.length + offChainAssets.length) {
    throw new ConfigError(fileKey(['sep38', 'offChainAssets']), 'must not list an asset twice');
  }
  const pairs = new Set<string>();
  const rates = (sep38.rates ?? []).map((rate, index): Sep38Rate => {
    const at = (key: string) => fileKey(['sep38', 'rates', index, key]);
    for (const key of ['sellAsset', 'buyAsset'] as const) {
      if (!known.has(rate[key])) {
        throw new ConfigError(
          at(key),
          `must be a configured asset ("stellar:CODE:ISSUER") or one of sep38.offChainAssets (got ${show(rate[key])})`,
        );
      }
    }
    if (rate.sellAsset === rate.buyAsset) throw new ConfigError(at('buyAsset'), 'must differ from sellAsset');
    const pair = `${rate.sellAsset} ${rate.buyAsset}`;
    if (pairs.has(pair)) throw new ConfigError(at('buyAsset'), `repeats the pair ${pair}`);
    pairs.add(pair);
    const price = checkAmount(rate.price, at('price'));
    if (toStroops(price) === 0n) throw new ConfigError(at('price'), 'must be more than zero');
    const feePercent = rate.feePercent === undefined ? '0' : checkPercent(rate.feePercent, at('feePercent'));
    if (toStroops(feePercent) >= toStroops('100'))
      throw new ConfigError(at('feePercent'), 'must be less than 100');
    return {
      sellAsset: rate.sellAsset,
      buyAsset: rate.buyAsset,
      price,
      feeFixed: rate.feeFixed === undefined ? '0' : checkAmount(rate.feeFixed, at('feeFixed')),
      feePercent,
    };
  });
  return {
    quoteExpirySeconds:
      sep38.quoteExpirySeconds === undefined
        ? DEFAULT_QUOTE_EXPIRY_SECONDS
        : checkPositiveSeconds(sep38.quoteExpirySeconds, fileKey(['sep38', 'quoteExpirySeconds'])),
    offChainAssets,
    rates,
  };
}

function emptySep38(): Sep38Config {
  return { quoteExpirySeconds: DEFAULT_QUOTE_EXPIRY_SECONDS, offChainAssets: [], rates: [] };
}

function sandboxSep38(assets: readonly AssetConfig[]): Sep38Config {
  const methods = [...new Set(assets.flatMap((asset) => asset.sep31.fundingMethods))];
  return {
    quoteExpirySeconds: DEFAULT_QUOTE_EXPIRY_SECONDS,
    offChainAssets: [
      {
        asset: SANDBOX_QUOTE_CURRENCY,
        significantDecimals: DEFAULT_OFF_CHAIN_DECIMALS,
        countryCodes: ['US'],
        sellDeliveryMethods: [],
        buyDeliveryMethods: methods.map((name) => ({ name, description: `Paid out by ${name}` })),
      },
    ],
    rates: assets.map((asset) => ({
      sellAsset: sep38StellarAsset(asset),
      buyAsset: SANDBOX_QUOTE_CURRENCY,
      price: '1',
      feeFixed: '0',
      feePercent: SANDBOX_QUOTE_FEE_PERCENT,
    })),
  };
}
