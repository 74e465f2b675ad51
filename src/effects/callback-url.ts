/**
 * Callback URL validation (SSRF protection) for SEP-31 `PUT /transactions/:id/callback` and SEP-12
 * `PUT /customer/callback`. A sending anchor hands us a URL that our server will POST to; without these
 * checks it could point us at our own loopback, cloud metadata (169.254.169.254) or the private network.
 *
 * The check at registration time is not enough on its own: DNS may answer differently later (DNS
 * rebinding). Delivery therefore checks again at send time and pins the connection to addresses that
 * passed (`guardedLookup`, used by `./delivery.ts`), so a host cannot resolve to a public address for
 * the check and to a private one for the connection.
 */
import { isIP } from 'node:net';
import { blockedAddressReason, resolveHost, type ResolveHost } from '../net/address-policy.ts';

export { blockedAddressReason, guardedLookup, resolveHost, type ResolveHost } from '../net/address-policy.ts';

export const CALLBACK_URL_MAX_LENGTH = 2048;

export interface CallbackUrlOptions {
  /**
   * `callbacks.allowLoopback` (never on pubnet): `http://` and `https://` to `localhost` and `127.0.0.1`
   * (any port) are also accepted, so a sending anchor on the same machine can receive callbacks. Every
   * other host gets the full checks.
   */
  allowLoopback: boolean;
  /** Defaults to `node:dns/promises` `lookup(host, { all: true })`, with a timeout. */
  resolve?: ResolveHost;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1']);

/**
 * Checks a callback URL. Returns a message fit for a 400 `{"error": ...}` when the URL is not acceptable,
 * or null when it is. Resolves the host name, so it may take a moment; it never throws.
 */
export async function checkCallbackUrl(url: string, options: CallbackUrlOptions): Promise<string | null> {
  if (typeof url !== 'string' || url.length === 0) return 'callback url must be a non-empty string';
  if (url.length > CALLBACK_URL_MAX_LENGTH) {
    return `callback url must be at most ${CALLBACK_URL_MAX_LENGTH} characters`;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'callback url is not a valid absolute URL';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return `callback url must use https (got ${parsed.protocol.replace(/:$/, '')})`;
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return 'callback url must not contain credentials (user:password@)';
  }
  const host = hostOf(parsed);
  if (isAllowedLoopbackUrl(parsed, options.allowLoopback)) return null;
  if (parsed.protocol !== 'https:') {
    return options.allowLoopback
      ? 'callback url must use https (http is accepted only for localhost and 127.0.0.1)'
      : 'callback url must use https';
  }
  if (host === '') return 'callback url must have a host';
  if (isIP(host) !== 0) return 'callback url must use a host name, not an IP address';
  if (host === 'localhost' || host.endsWith('.localhost')) {
    return 'callback url must not point to localhost';
  }
  let addresses: string[];
  try {
    addresses = await (options.resolve ?? resolveHost)(host);
  } catch (error) {
    return `callback url host ${host} cannot be resolved (${(error as Error).message ?? 'lookup failed'})`;
  }
  if (addresses.length === 0) return `callback url host ${host} has no addresses`;
  for (const address of addresses) {
    const reason = blockedAddressReason(address);
    if (reason !== null) {
      return `callback url host ${host} resolves to a ${reason} address (${address}), which is not allowed`;
    }
  }
  return null;
}

/** True for the loopback URLs `allowLoopback` accepts (`http(s)://localhost` / `127.0.0.1`, any port). */
export function isAllowedLoopbackUrl(url: string | URL, allowLoopback: boolean): boolean {
  if (!allowLoopback) return false;
  try {
    const parsed = typeof url === 'string' ? new URL(url) : url;
    return (
      (parsed.protocol === 'http:' || parsed.protocol === 'https:') && LOOPBACK_HOSTS.has(hostOf(parsed))
    );
  } catch {
    return false;
  }
}

/** The URL's host name as compared by the rules: lower case, no IPv6 brackets, no trailing dot. */
function hostOf(url: URL): string {
  let host = url.hostname.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host.endsWith('.')) host = host.slice(0, -1);
  return host;
}
