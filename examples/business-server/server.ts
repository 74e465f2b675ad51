/**
 * An example business server for Mooring (docs/business-http.md), with no dependencies: plain `node:http`,
 * TypeScript run by Node's type stripping (`node examples/business-server/server.ts`). It implements the
 * whole contract with simple, deterministic rules:
 *
 * - KYC (`PUT/GET /customer`, `DELETE /customer/:id`): text must not be blank; `bank_account_number` must
 *   be digits; a `last_name` of "Blocked" rejects the customer; files wait for a manual review (PROCESSING)
 *   unless their name ends in `_ok`; everything else is ACCEPTED.
 * - SEP-31: sending anchors from a list (`valid_sending_anchor`); amounts over `maxAmount` are refused
 *   (`process_post_request`); an info update must give non-blank values (`process_patch_request`).
 * - SEP-38 (`GET /rate`): fixed prices per off-chain asset, a fixed fee in the sell asset.
 *
 * Tests import {@link start}; as a program it reads its settings from the environment (README.md).
 */
import { createPublicKey, randomUUID, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface BusinessServerOptions {
  /** 0: any free port. */
  port?: number;
  host?: string;
  /** Required as `Authorization: Bearer <token>` when set. */
  token?: string;
  /** Mooring's SIGNING_KEY (G...): when set, every request must carry a valid fresh `Signature`. */
  signingKey?: string;
  /** Accounts allowed to send (`G...`); empty: any. */
  sendingAnchors?: readonly string[];
  /** Price of one unit of each off-chain asset in the Stellar asset, e.g. `{ "iso4217:EUR": "1.08" }`. */
  prices?: Readonly<Record<string, string>>;
  /** Fee per quote, in the sell asset. */
  fee?: string;
  /** `process_post_request` refuses amounts over this. */
  maxAmount?: string;
  /** Seconds a firm rate holds. */
  firmSeconds?: number;
}

export interface RequestRecord {
  method: string;
  path: string;
  /** The Bearer token matched (or none is required). */
  authorized: boolean;
  /** A `Signature` header was present and verified (false when no signingKey is set). */
  signed: boolean;
  /** The JSON body, if there was one. */
  body?: unknown;
}

export interface RunningBusinessServer {
  url: string;
  port: number;
  /** Every request received, oldest first (for tests and curiosity). */
  requests: RequestRecord[];
  /** Customers as judged, by `<id>:<type>`. */
  verdicts: Map<string, Verdict>;
  close(): Promise<void>;
}

type FieldStatus = 'ACCEPTED' | 'REJECTED' | 'PROCESSING';
interface Verdict {
  id: string;
  status: 'ACCEPTED' | 'PROCESSING' | 'NEEDS_INFO' | 'REJECTED';
  message?: string;
  provided_fields: Record<string, { status: FieldStatus; error?: string }>;
}

const UNIT = 10_000_000n;

export async function start(options: BusinessServerOptions = {}): Promise<RunningBusinessServer> {
  const prices = options.prices ?? { 'iso4217:USD': '1' };
  const fee = options.fee ?? '1';
  const maxAmount = options.maxAmount ?? '1000';
  const firmSeconds = options.firmSeconds ?? 300;
  const anchors = new Set(options.sendingAnchors ?? []);
  const requests: RequestRecord[] = [];
  const verdicts = new Map<string, Verdict>();
  const signingKey = options.signingKey ? publicKeyOf(options.signingKey) : null;

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      send(res, 500, { error: error instanceof Error ? error.message : String(error) });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const body = await readBody(req);
    const authorized = options.token === undefined || req.headers.authorization === `Bearer ${options.token}`;
    const signed = signingKey !== null && checkSignature(req, url, body, signingKey);
    const json = body === '' ? {} : (JSON.parse(body) as Record<string, unknown>);
    requests.push({ method: req.method ?? '', path: url.pathname, authorized, signed, body: json });
    if (!authorized) return send(res, 401, { error: 'a valid Bearer token is required' });
    if (signingKey !== null && !signed) return send(res, 401, { error: 'a valid Signature is required' });
    const route = `${req.method} ${url.pathname}`;
    const query = url.searchParams;

    if (route === 'GET /info') {
      return send(res, 200, {
        fields: { transaction: { purpose: { description: 'why the money is sent', optional: true } } },
      });
    }
    if (route === 'GET /valid_sending_anchor') {
      return send(res, 200, { valid: anchors.size === 0 || anchors.has(query.get('account') ?? '') });
    }
    if (route === 'POST /process_post_request') {
      if (toUnits(String(json.amount)) > toUnits(maxAmount)) {
        return send(res, 422, { error: `amounts over ${maxAmount} need a manual review` });
      }
      return send(res, 200, {});
    }
    if (route === 'POST /process_patch_request') {
      const fields = (json.fields ?? {}) as Record<string, string>;
      const blank = Object.keys(fields).filter((name) => fields[name]!.trim() === '');
      if (blank.length > 0) return send(res, 422, { error: `blank values: ${blank.join(', ')}` });
      return send(res, 200, {});
    }
    if (route === 'PUT /customer') {
      const verdict = judge(json);
      verdicts.set(`${verdict.id}:${String(json.type)}`, verdict);
      return send(res, 200, verdict);
    }
    if (route === 'GET /customer') {
      const verdict = verdicts.get(`${query.get('id')}:${query.get('type')}`);
      return verdict ? send(res, 200, verdict) : send(res, 404, { error: 'customer not found' });
    }
    if (req.method === 'DELETE' && url.pathname.startsWith('/customer/')) {
      const id = decodeURIComponent(url.pathname.slice('/customer/'.length));
      const keys = [...verdicts.keys()].filter((key) => key.startsWith(`${id}:`));
      for (const key of keys) verdicts.delete(key);
      return keys.length > 0 ? send(res, 204, null) : send(res, 404, { error: 'customer not found' });
    }
    if (route === 'GET /rate') return rate(res, query);
    return send(res, 404, { error: 'not found' });
  }

  /** The KYC rules: a verdict per provided field, in SEP-12's vocabulary. */
  function judge(customer: Record<string, unknown>): Verdict {
    const id = String(customer.id);
    const fields = (customer.fields ?? {}) as Record<string, unknown>;
    if (fields.last_name === 'Blocked') {
      return { id, status: 'REJECTED', message: 'this customer cannot be served', provided_fields: {} };
    }
    const provided: Verdict['provided_fields'] = {};
    for (const [name, value] of Object.entries(fields)) {
      if (typeof value !== 'string') {
        provided[name] = { status: name.endsWith('_ok') ? 'ACCEPTED' : 'PROCESSING' };
      } else if (value.trim() === '') {
        provided[name] = { status: 'REJECTED', error: `${name} must not be blank` };
      } else if (name === 'bank_account_number' && !/^\d+$/.test(value)) {
        provided[name] = { status: 'REJECTED', error: 'bank_account_number must be digits only' };
      } else provided[name] = { status: 'ACCEPTED' };
    }
    const statuses = Object.values(provided).map((field) => field.status);
    const status = statuses.includes('REJECTED')
      ? 'NEEDS_INFO'
      : statuses.includes('PROCESSING')
        ? 'PROCESSING'
        : 'ACCEPTED';
    return { id, status, provided_fields: provided };
  }

  /** AP's `GET /rate`: the fixed price of the buy asset, the fee in the sell asset, exact amounts. */
  function rate(res: ServerResponse, query: URLSearchParams): void {
    const sellAsset = query.get('sell_asset') ?? '';
    const buyAsset = query.get('buy_asset') ?? '';
    const priceText = prices[buyAsset];
    if (!sellAsset.startsWith('stellar:') || priceText === undefined) {
      return send(res, 422, { error: `no rate for ${sellAsset} to ${buyAsset}` });
    }
    const price = toUnits(priceText);
    const feeUnits = toUnits(fee);
    const sellAmount = query.get('sell_amount');
    const buyAmount = query.get('buy_amount');
    let sell: bigint;
    let buy: bigint;
    if (sellAmount !== null) {
      sell = toUnits(sellAmount);
      buy = ((sell - feeUnits) * UNIT) / price;
      if (buy <= 0n) return send(res, 422, { error: 'sell_amount does not cover the fee' });
    } else if (buyAmount !== null) {
      buy = toUnits(buyAmount);
      sell = (buy * price + UNIT - 1n) / UNIT + feeUnits;
    } else {
      return send(res, 400, { error: 'sell_amount or buy_amount is required' });
    }
    const firm = query.get('type') === 'firm';
    send(res, 200, {
      rate: {
        ...(firm && {
          id: randomUUID(),
          expires_at: new Date(Date.now() + firmSeconds * 1000).toISOString(),
        }),
        price: priceText,
        sell_amount: fromUnits(sell),
        buy_amount: fromUnits(buy),
        fee: { total: fee, asset: sellAsset, details: [{ name: 'service fee', amount: fee }] },
      },
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    requests,
    verdicts,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (body === null) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A decimal string (at most 7 places) as a bigint of 10^-7 units: money never goes through a float. */
function toUnits(text: string): bigint {
  const match = /^(\d+)(?:\.(\d{1,7}))?$/.exec(text);
  if (!match) throw new Error(`not an amount: ${text}`);
  return BigInt(match[1]!) * UNIT + BigInt((match[2] ?? '').padEnd(7, '0'));
}

function fromUnits(units: bigint): string {
  const fraction = (units % UNIT).toString().padStart(7, '0').replace(/0+$/, '');
  return fraction ? `${units / UNIT}.${fraction}` : `${units / UNIT}`;
}

/**
 * Mooring signs like its SEP-31 callbacks: `Signature: t=<seconds>, s=<base64 ed25519>` over
 * `<t>.<host>.<body>`, where a request without a body signs its path and query instead.
 */
function checkSignature(
  req: IncomingMessage,
  url: URL,
  body: string,
  key: ReturnType<typeof createPublicKey>,
): boolean {
  const header = req.headers.signature;
  const match = typeof header === 'string' ? /^t=(\d+), s=(.+)$/.exec(header) : null;
  if (!match) return false;
  const t = Number(match[1]);
  if (Math.abs(Date.now() / 1000 - t) > 120) return false;
  const signed = body !== '' ? body : `${url.pathname}${url.search}`;
  const payload = Buffer.from(`${t}.${req.headers.host ?? ''}.${signed}`);
  return verify(null, payload, key, Buffer.from(match[2]!, 'base64'));
}

/** A Stellar `G...` address as an ed25519 public key (base32: version byte, 32 key bytes, 2 checksum bytes). */
function publicKeyOf(address: string): ReturnType<typeof createPublicKey> {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const bytes: number[] = [];
  for (const char of address) {
    const index = alphabet.indexOf(char);
    if (index < 0) throw new Error(`not a Stellar address: ${address}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  if (bytes.length !== 35 || bytes[0] !== 6 << 3) throw new Error(`not a Stellar G... address: ${address}`);
  const spki = Buffer.concat([
    Buffer.from('302a300506032b6570032100', 'hex'),
    Buffer.from(bytes.slice(1, 33)),
  ]);
  return createPublicKey({ key: spki, format: 'der', type: 'spki' });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const env = process.env;
  const running = await start({
    port: Number(env.PORT ?? 8090),
    ...(env.HOST && { host: env.HOST }),
    ...(env.BUSINESS_SERVER_TOKEN && { token: env.BUSINESS_SERVER_TOKEN }),
    ...(env.MOORING_SIGNING_KEY && { signingKey: env.MOORING_SIGNING_KEY }),
    ...(env.SENDING_ANCHORS && { sendingAnchors: env.SENDING_ANCHORS.split(',').filter(Boolean) }),
    ...(env.PRICES && { prices: JSON.parse(env.PRICES) as Record<string, string> }),
    ...(env.FEE && { fee: env.FEE }),
    ...(env.MAX_AMOUNT && { maxAmount: env.MAX_AMOUNT }),
  });
  console.log(`example business server on ${running.url}`);
  const stop = () => void running.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
