/**
 * SEP-31 / SEP-12 callback signatures (SEPS.md §5.8):
 *
 *   Signature: t=<unix seconds>, s=<base64 ed25519 signature>
 *   signed bytes = UTF-8 of `<t>.<host>.<body>`
 *
 * `host` is the callback URL's host with `:port` when the URL names a non-default port, as the SDF
 * reference implementation does (and as the `Host` header of the request carries it). `body` is the exact
 * body string sent. The deprecated `X-Stellar-Signature` header carries the same value.
 */
import { Keypair } from '@stellar/stellar-sdk';

export interface CallbackSignatureHeaders {
  Signature: string;
  'X-Stellar-Signature': string;
}

/** How old a callback's timestamp may be before a receiver drops it (the SEP suggests 1–2 minutes). */
export const DEFAULT_MAX_SIGNATURE_AGE_SECONDS = 120;

/** The host part of the signed payload: lower-case host name, `:port` only when not the scheme's default. */
export function signedHost(url: string | URL): string {
  return (typeof url === 'string' ? new URL(url) : url).host;
}

/** The exact bytes that are signed. */
export function signaturePayload(timestamp: number, host: string, body: string): Uint8Array {
  return new TextEncoder().encode(`${timestamp}.${host}.${body}`);
}

export function signCallback({
  url,
  body,
  secret,
  now,
}: {
  url: string | URL;
  body: string;
  /** S...: the SIGNING_KEY secret. */
  secret: string;
  now: Date;
}): CallbackSignatureHeaders {
  const t = Math.floor(now.getTime() / 1000);
  const signature = Keypair.fromSecret(secret).sign(signaturePayload(t, signedHost(url), body));
  const value = `t=${t}, s=${Buffer.from(signature).toString('base64')}`;
  return { Signature: value, 'X-Stellar-Signature': value };
}

export type SignatureCheck = { ok: true; timestamp: number } | { ok: false; reason: string };

/** Parses `t=<seconds>, s=<base64>`; null when malformed. */
export function parseSignatureHeader(header: string): { t: number; s: string } | null {
  const parts = new Map<string, string>();
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    if (at < 0) return null;
    parts.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  const t = parts.get('t');
  const s = parts.get('s');
  if (t === undefined || s === undefined || !/^\d{1,12}$/.test(t) || s === '') return null;
  return { t: Number(t), s };
}

/**
 * What a sending anchor does with a callback it receives: verifies the signature with our public
 * SIGNING_KEY (`Keypair.fromPublicKey(...).verify`) over `<t>.<host>.<body>`, and drops timestamps older
 * than `maxAgeSeconds` (or more than `maxAgeSeconds` in the future, for clock skew).
 */
export function verifyCallbackSignature({
  header,
  url,
  body,
  signingKey,
  now,
  maxAgeSeconds = DEFAULT_MAX_SIGNATURE_AGE_SECONDS,
}: {
  /** The `Signature` (or `X-Stellar-Signature`) header value. */
  header: string | undefined;
  /** The callback URL (or any URL with the same host and port). */
  url: string | URL;
  body: string;
  /** G...: the receiving anchor's SIGNING_KEY. */
  signingKey: string;
  now: Date;
  maxAgeSeconds?: number;
}): SignatureCheck {
  if (header === undefined || header === '') return { ok: false, reason: 'no signature header' };
  const parsed = parseSignatureHeader(header);
  if (parsed === null) return { ok: false, reason: 'malformed signature header' };
  const age = Math.floor(now.getTime() / 1000) - parsed.t;
  if (age > maxAgeSeconds) return { ok: false, reason: `signature is ${age} s old` };
  if (age < -maxAgeSeconds) return { ok: false, reason: 'signature timestamp is in the future' };
  const signature = Buffer.from(parsed.s, 'base64');
  if (signature.length !== 64) return { ok: false, reason: 'signature is not 64 bytes' };
  let valid: boolean;
  try {
    valid = Keypair.fromPublicKey(signingKey).verify(
      Buffer.from(signaturePayload(parsed.t, signedHost(url), body)),
      signature,
    );
  } catch {
    valid = false;
  }
  return valid ? { ok: true, timestamp: parsed.t } : { ok: false, reason: 'signature does not verify' };
}
