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
  SendingAnchorConfig,
  Sep12Config,
  Sep31AssetConfig,
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
