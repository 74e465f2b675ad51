/**
 * Leaf checks shared by every source (environment, command-line options, config file). Each takes the raw
 * value and the label of where it came from, and returns the checked value or throws a one-line ConfigError.
 */
import { StrKey } from '@stellar/stellar-sdk';
import { canonicalDecimal, MAX_STELLAR_AMOUNT, toStroops } from './decimal.ts';
import { MIN_JWT_SECRET_LENGTH } from './defaults.ts';
import { ConfigError, redactUrl, show, showSecret } from './errors.ts';
import { isIP } from 'node:net';
import { LOG_LEVELS, type LogLevel, type TrustProxy } from './types.ts';

/** A check turns an unknown raw value into a typed one, or throws. */
export type Check<T> = (value: unknown, where: string) => T;

function fail(where: string, expected: string, value: unknown, secret = false): never {
  throw new ConfigError(where, `must be ${expected} (got ${secret ? showSecret(value) : show(value)})`);
}

function text(value: unknown, where: string, expected: string, secret = false): string {
  if (typeof value !== 'string' || value.trim() === '') fail(where, expected, value, secret);
  return value.trim();
}

/** Integers arrive as numbers from a file and as digit strings from the environment. */
function integer(value: unknown): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : null;
  if (typeof value === 'string' && /^\s*\d{1,15}\s*$/.test(value)) return Number(value);
  return null;
}

function number(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return null;
}

export const checkPort: Check<number> = (value, where) => {
  const port = integer(value);
  if (port === null || port < 1 || port > 65535) fail(where, 'an integer 1-65535', value);
  return port;
};

export const checkText: Check<string> = (value, where) => text(value, where, 'a non-empty string');

export const checkSecretText: Check<string> = (value, where) =>
  text(value, where, 'a non-empty string', true);

export const checkDatabaseUrl: Check<string> = (value, where) => {
  const url = text(value, where, 'a postgres:// URL');
  if (!/^postgres(ql)?:\/\/./.test(url) || !URL.canParse(url))
    fail(where, 'a postgres:// URL', redactUrl(url));
  return url;
};

/** One server or a comma-separated list, each `host:port` or `nats|tls|ws|wss://host:port`. */
export const checkNatsUrl: Check<string> = (value, where) => {
  const expected = 'a NATS URL, e.g. nats://127.0.0.1:4222';
  const urls = text(value, where, expected);
  for (const server of urls.split(',')) {
    const item = server.trim();
    const withScheme = /^[a-z]+:\/\//i.test(item) ? item : `nats://${item}`;
    if (!/^(nats|tls|ws|wss):\/\/\S+$/i.test(withScheme) || !URL.canParse(withScheme)) {
      fail(where, expected, redactUrl(urls));
    }
  }
  return urls;
};

/** One NATS subject token that also names the JetStream stream (`<prefix>_events`). */
export const checkNatsPrefix: Check<string> = (value, where) => {
  const expected = 'a NATS prefix of 1-32 letters, digits, "_" or "-", e.g. "mooring"';
  const prefix = text(value, where, expected);
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(prefix)) fail(where, expected, prefix);
  return prefix;
};

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOME_DOMAIN = new RegExp(`^${LABEL}(?:\\.${LABEL})*(?::(\\d{1,5}))?$`);

/** SEP-1's home domain: a host with an optional port and no scheme or path, e.g. `localhost:8000`. */
export const checkHomeDomain: Check<string> = (value, where) => {
  const expected = 'a domain with optional port and no scheme, e.g. "localhost:8000" or "anchor.example.com"';
  const domain = text(value, where, expected);
  const match = HOME_DOMAIN.exec(domain);
  const port = match?.[1] === undefined ? 1 : Number(match[1]);
  if (!match || domain.length > 253 || port < 1 || port > 65535) fail(where, expected, value);
  return domain;
};

export const checkHttpUrl: Check<string> = (value, where) => {
  const url = text(value, where, 'an http(s) URL');
  if (!/^https?:\/\/./i.test(url) || !URL.canParse(url)) fail(where, 'an http(s) URL', value);
  return url.replace(/\/+$/, '');
};

/** true/false, from a file, or as text from the environment (also 1/0, yes/no, on/off). */
export const checkBoolean: Check<boolean> = (value, where) => {
  if (typeof value === 'boolean') return value;
  const word = typeof value === 'string' ? value.trim().toLowerCase() : '';
  if (['true', '1', 'yes', 'on'].includes(word)) return true;
  if (['false', '0', 'no', 'off'].includes(word)) return false;
  fail(where, 'true or false', value);
};

export const checkPaymentSource: Check<'horizon' | 'rpc'> = (value, where) => {
  const source = typeof value === 'string' ? value.trim().toLowerCase() : value;
  if (source !== 'horizon' && source !== 'rpc') fail(where, '"horizon" or "rpc"', value);
  return source;
};

export const checkNetworkName: Check<'testnet' | 'pubnet'> = (value, where) => {
  const name = typeof value === 'string' ? value.trim().toLowerCase() : value;
  if (name !== 'testnet' && name !== 'pubnet') fail(where, '"testnet" or "pubnet"', value);
  return name;
};

export const checkLogLevel: Check<LogLevel> = (value, where) => {
  const level = typeof value === 'string' ? value.trim().toLowerCase() : value;
  if (!LOG_LEVELS.includes(level as LogLevel)) fail(where, `one of ${LOG_LEVELS.join(', ')}`, value);
  return level as LogLevel;
};

export const checkSecretSeed: Check<string> = (value, where) => {
  const seed = typeof value === 'string' ? value.trim() : value;
  if (typeof seed !== 'string' || !StrKey.isValidEd25519SecretSeed(seed)) {
    fail(where, 'a Stellar secret seed (S..., 56 characters)', value, true);
  }
  return seed;
};

export const checkPublicKey: Check<string> = (value, where) => {
  const key = typeof value === 'string' ? value.trim() : value;
  if (typeof key !== 'string' || !StrKey.isValidEd25519PublicKey(key)) {
    if (typeof key === 'string' && StrKey.isValidEd25519SecretSeed(key)) {
      throw new ConfigError(where, 'must be a Stellar public key (G...), not a secret seed (S...)');
    }
    fail(where, 'a Stellar public key (G..., 56 characters)', value);
  }
  return key;
};

export const checkJwtSecret: Check<string> = (value, where) => {
  const expected = `a string of at least ${MIN_JWT_SECRET_LENGTH} characters, e.g. from \`openssl rand -hex 32\``;
  if (typeof value !== 'string' || value.length < MIN_JWT_SECRET_LENGTH) fail(where, expected, value, true);
  return value;
};

export const checkPositiveSeconds: Check<number> = (value, where) => {
  const seconds = number(value);
  if (seconds === null || seconds <= 0) fail(where, 'a positive number of seconds', value);
  return seconds;
};

export const checkNonNegativeSeconds: Check<number> = (value, where) => {
  const seconds = number(value);
  if (seconds === null || seconds < 0) fail(where, 'a non-negative number of seconds', value);
  return seconds;
};

/** A canonical decimal string, at most 7 decimal places and no larger than a Stellar payment can be. */
export const checkAmount: Check<string> = (value, where) => {
  const decimal = canonicalDecimal(value);
  if (decimal === null) fail(where, 'a decimal string with at most 7 decimal places', value);
  if (toStroops(decimal) > toStroops(MAX_STELLAR_AMOUNT)) fail(where, `at most ${MAX_STELLAR_AMOUNT}`, value);
  return decimal;
};

export const checkPercent: Check<string> = (value, where) => {
  const decimal = checkAmount(value, where);
  if (toStroops(decimal) > toStroops('100')) fail(where, 'a percentage 0-100', value);
  return decimal;
};

/** proxy-addr's names for whole ranges, accepted in a trusted proxy list. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isAddressOrCidr(text: string): boolean {
  if (PROXY_RANGE_NAMES.has(text)) return true;
  const [address = '', prefix, extra] = text.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * Fastify's `trustProxy`: false, true, or addresses/CIDRs (a list, or comma-separated text from the
 * environment, e.g. `TRUST_PROXY=10.0.0.0/8,127.0.0.1`). No hop count: Fastify 5 trusts nobody for one.
 */
export const checkTrustProxy: Check<TrustProxy> = (value, where) => {
  const expected = 'true, false or a list of addresses/CIDRs, e.g. "127.0.0.1,10.0.0.0/8"';
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^\s*(true|false)\s*$/i.test(value)) {
    return value.trim().toLowerCase() === 'true';
  }
  const items = Array.isArray(value)
    ? value.map((item: unknown) => (typeof item === 'string' ? item.trim() : ''))
    : typeof value === 'string'
      ? value.split(',').map((item) => item.trim())
      : null;
  if (items === null || items.length === 0 || !items.every(isAddressOrCidr)) fail(where, expected, value);
  return items;
};
