/**
 * The client side of the benchmark: what the contracted sending anchor ("acme") holds before it POSTs,
 * its SEP-10 token and a sender and a receiver registered through Mooring's SEP-12 API and ACCEPTED, as
 * test/e2e/sending-anchor.test.ts does it, and the SEP-31 body it POSTs with them.
 */
import { randomUUID } from 'node:crypto';
import type { Config } from '../../src/config/index.ts';
import { signSep10Token } from '../../src/http/auth.ts';
import { PATHS } from '../../src/http/urls.ts';
import { KEYS } from '../helpers/app.ts';
import { pause } from './stats.ts';

export interface BenchCustomers {
  senderId: string;
  receiverId: string;
}

const ACCEPTED_TIMEOUT_MS = 30_000;

/** A SEP-10 token as Mooring's /auth would issue it to the sending anchor. */
export function sep10Token(config: Config): Promise<string> {
  return signSep10Token(config, {
    sub: KEYS.acme.publicKey(),
    jti: `bench-${randomUUID()}`,
    clientDomain: null,
    issuedAt: new Date(),
    ttlSeconds: 3600,
  });
}

/** A valid SEP-31 POST body for the config file's asset, naming the two ACCEPTED customers. */
export function postBody(customers: BenchCustomers) {
  return {
    asset_code: 'USDC',
    amount: '100',
    funding_method: 'SEPA',
    sender_id: customers.senderId,
    receiver_id: customers.receiverId,
  };
}

/** PUT /sep12/customer for both types, then GET each until the reference integration has ACCEPTED it. */
export async function registerCustomers(baseUrl: string, config: Config): Promise<BenchCustomers> {
  const kyc = `${baseUrl}${PATHS.sep12}/customer`;
  const token = await sep10Token(config);
  const call = async (method: 'GET' | 'PUT', url: string, body?: unknown) => {
    const response = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${url} answered ${response.status}: ${text}`);
    return JSON.parse(text) as { id?: string; status?: string };
  };
  const register = async (type: string, fields: Record<string, string>) => {
    const { id } = await call('PUT', kyc, { type, ...fields });
    if (id === undefined) throw new Error(`PUT ${kyc} (${type}) answered without an id`);
    const deadline = Date.now() + ACCEPTED_TIMEOUT_MS;
    for (;;) {
      const { status } = await call('GET', `${kyc}?id=${id}&type=${type}`);
      if (status === 'ACCEPTED') return id;
      if (Date.now() > deadline) throw new Error(`customer ${id} (${type}) is ${status}, not ACCEPTED`);
      await pause(50);
    }
  };
  return {
    senderId: await register('sep31-sender', { first_name: 'Ada', last_name: 'Lovelace' }),
    receiverId: await register('sep31-receiver', {
      first_name: 'Grace',
      last_name: 'Hopper',
      bank_account_number: '12345678',
      bank_number: '021000021',
    }),
  };
}
