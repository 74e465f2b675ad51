/**
 * SEP-10 `client_domain`: the SIGNING_KEY of the wallet's (or sending anchor's) stellar.toml becomes the
 * source of the challenge's `client_domain` operation.
 *
 * The URL is built from a value the caller chose, so the fetch is guarded against SSRF: https only, no
 * redirects, a short deadline, a 100 KB cap, and the connection goes only to addresses our own DNS lookup
 * checked (the check runs inside the socket's `lookup`, so a second DNS answer cannot swap in another
 * address). In sandbox mode `localhost[:port]` is fetched over http and may resolve to loopback, so a
 * wallet on a laptop works.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { StrKey } from '@stellar/stellar-sdk';
import { parse } from 'smol-toml';
import { guardedLookup, resolveHost } from '../../net/address-policy.ts';

export const CLIENT_DOMAIN_TIMEOUT_MS = 5_000;
/** SEP-1: a stellar.toml is at most 100 KB (the SDK's `STELLAR_TOML_MAX_SIZE`). */
export const STELLAR_TOML_MAX_BYTES = 100 * 1024;
/** A manageData value holds at most 64 bytes. */
const MAX_DOMAIN_LENGTH = 64;

/** Why a client domain's SIGNING_KEY could not be obtained; SEP-10 answers 400. */
export class ClientDomainError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ClientDomainError';
  }
}

export interface ClientDomainPolicy {
  /** Sandbox mode: `localhost[:port]` is fetched over http and may resolve to a loopback address. */
  allowLocalhost: boolean;
  timeoutMs?: number;
}

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const DOMAIN = new RegExp(`^${LABEL}(?:\\.${LABEL})+$`);
const LOCALHOST = /^localhost(?::(\d{1,5}))?$/;

/**
 * The canonical (lower-case) client domain and the URL of its stellar.toml; throws ClientDomainError for
 * anything that is not a plain domain name (`localhost[:port]` too when the policy allows it).
 */
export function clientDomainUrl(domain: string, policy: ClientDomainPolicy): { domain: string; url: URL } {
  const canonical = domain.toLowerCase();
  if (canonical.length > MAX_DOMAIN_LENGTH) {
    throw new ClientDomainError(`client_domain must be at most ${MAX_DOMAIN_LENGTH} characters`);
  }
  const local = LOCALHOST.exec(canonical);
  if (local) {
    const port = local[1] === undefined ? null : Number(local[1]);
    if (!policy.allowLocalhost || (port !== null && (port < 1 || port > 65535))) {
      throw new ClientDomainError('client_domain localhost is accepted only in sandbox mode');
    }
    return { domain: canonical, url: new URL(`http://${canonical}/.well-known/stellar.toml`) };
  }
  if (!DOMAIN.test(canonical) || isIP(canonical) !== 0 || canonical.length > 253) {
    throw new ClientDomainError('client_domain must be a domain name (no scheme, port, path or IP address)');
  }
  return { domain: canonical, url: new URL(`https://${canonical}/.well-known/stellar.toml`) };
}

/** Fetches `https://<domain>/.well-known/stellar.toml` and returns its SIGNING_KEY. */
export async function fetchClientSigningKey(domain: string, policy: ClientDomainPolicy): Promise<string> {
  const { url } = clientDomainUrl(domain, policy);
  const text = await fetchSmallText(url, {
    lookup: guardedLookup(resolveHost, {
      allowLoopback: policy.allowLocalhost && url.protocol === 'http:',
    }) as LookupFunction,
    timeoutMs: policy.timeoutMs ?? CLIENT_DOMAIN_TIMEOUT_MS,
    maxBytes: STELLAR_TOML_MAX_BYTES,
  });
  let toml: Record<string, unknown>;
  try {
    toml = parse(text);
  } catch (error) {
    throw new ClientDomainError(`${url.href} is not valid TOML`, { cause: error });
  }
  const key = toml.SIGNING_KEY;
  if (typeof key !== 'string' || !StrKey.isValidEd25519PublicKey(key)) {
    throw new ClientDomainError(`${url.href} has no valid SIGNING_KEY`);
  }
  return key;
}

/** GET of a small text resource: 200 only (redirects are errors), a deadline, a byte cap. */
function fetchSmallText(
  url: URL,
  options: { lookup: LookupFunction; timeoutMs: number; maxBytes: number },
): Promise<string> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error: Error | null, text?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (error) {
        request.destroy();
        reject(
          error instanceof ClientDomainError ? error : new ClientDomainError(error.message, { cause: error }),
        );
      } else {
        resolve(text!);
      }
    };
    const client = url.protocol === 'https:' ? https : http;
    const request = client.request(
      url,
      {
        method: 'GET',
        lookup: options.lookup,
        agent: false, // a fresh connection: the guarded lookup runs for every fetch
        headers: { accept: 'text/plain, application/toml;q=0.9, */*;q=0.1', 'user-agent': 'mooring' },
      },
      (response) => {
        const status = response.statusCode ?? 0;
        if (status !== 200) {
          response.resume();
          const why =
            status >= 300 && status < 400 ? 'a redirect (redirects are not followed)' : `HTTP ${status}`;
          return settle(new ClientDomainError(`${url.href} answered ${why}`));
        }
        const declared = Number(response.headers['content-length']);
        if (Number.isFinite(declared) && declared > options.maxBytes) {
          return settle(new ClientDomainError(`${url.href} is larger than ${options.maxBytes} bytes`));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxBytes) {
            settle(new ClientDomainError(`${url.href} is larger than ${options.maxBytes} bytes`));
          } else {
            chunks.push(chunk);
          }
        });
        response.on('end', () => settle(null, Buffer.concat(chunks).toString('utf8')));
        response.on('error', (error) => settle(error));
      },
    );
    const deadline = setTimeout(
      () => settle(new ClientDomainError(`${url.href} did not answer within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    request.on('error', (error) => settle(error));
    request.end();
  });
}
