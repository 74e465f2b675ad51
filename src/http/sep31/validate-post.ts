import { amounts, type MemoType } from '../../../machines/index.ts';
import type { AssetConfig, Config } from '../../config/index.ts';
import { MooringError } from '../../errors.ts';
import type { Sep31PostRequest } from '../../integrations/sep31-integration.ts';
import { isMemoType, memoProblem } from './memo.ts';

export const SENDER_TYPE = 'sep31-sender';
export const RECEIVER_TYPE = 'sep31-receiver';

/**
 * The SEP-12 status of customers for a type each, as the calling sending anchor sees them (null if not its
 * customer), in the order asked.
 */
export type CustomerStatusLookup = (asked: { id: string; type: string }[]) => Promise<(string | null)[]>;

export interface ValidatedPost {
  asset: AssetConfig;
  request: Sep31PostRequest;
  /** False when `funding_method` was left out (then the asset's first method, or a quote's method). */
  fundingMethodGiven: boolean;
}

const MAX_AMOUNT_TEXT = 64;
const MAX_QUOTE_TEXT = 100;
const MAX_LEGACY_FIELDS = 50;
const MAX_LEGACY_NAME = 100;
const MAX_LEGACY_VALUE = 1000;

const bad = (message: string) => new MooringError('bad_request', message);
const customerInfoNeeded = (type: string) =>
  new MooringError('customer_info_needed', 'customer_info_needed', { type });

/**
 * Checks a `POST /transactions` body in a fixed order, throwing the first problem as a 400 (SEP-31 §5.2):
 * asset, amount, funding_method, lang, sender_id / receiver_id (SEP-12 status), refund memo, quotes, legacy
 * fields. The body is untrusted JSON: every field is checked for its type here, whatever the schema let pass.
 */
export async function validatePost(
  body: Record<string, unknown>,
  config: Pick<Config, 'assets' | 'sep12'>,
  customerStatus: CustomerStatusLookup,
): Promise<ValidatedPost> {
  const asset = checkAsset(body, config.assets);
  const amount = checkAmount(body.amount, asset);
  const fundingMethod = checkFundingMethod(body.funding_method, asset);
  const lang = checkLang(body.lang);
  const [senderId = null, receiverId = null] = await checkCustomers(
    [
      { raw: body.sender_id, type: SENDER_TYPE },
      { raw: body.receiver_id, type: RECEIVER_TYPE },
    ],
    config,
    customerStatus,
  );
  const refund = checkRefundMemo(body.refund_memo, body.refund_memo_type);
  const quotes = checkQuotes(body, asset);
  const fields = checkLegacyFields(body.fields);
  return {
    asset,
    fundingMethodGiven: present(body.funding_method) && body.funding_method !== '',
    request: {
      assetCode: asset.code,
      assetIssuer: asset.issuer,
      amount,
      fundingMethod,
      senderId,
      receiverId,
      lang,
      refundMemo: refund?.memo ?? null,
      refundMemoType: refund?.type ?? null,
      ...quotes,
      fields,
    },
  };
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function checkAsset(body: Record<string, unknown>, assets: readonly AssetConfig[]): AssetConfig {
  const code = body.asset_code;
  if (!present(code) || code === '') throw bad('asset_code is required');
  if (typeof code !== 'string') throw bad('asset_code must be a string');
  const asset = assets.find((a) => a.code === code && a.sep31.enabled);
  if (!asset) throw bad(`asset ${printable(code)} is not supported for SEP-31 payments`);
  const issuer = body.asset_issuer;
  if (present(issuer) && issuer !== '' && issuer !== asset.issuer) {
    throw bad(`asset_issuer does not match the issuer of ${asset.code} (${asset.issuer})`);
  }
  return asset;
}

/**
 * Parses the amount without ever going through float arithmetic: a JSON number is taken as the text
 * `String(n)` prints, and exponent forms ("1e-7", "1e+21") are refused like any other non-decimal text.
 */
export function checkAmount(
  raw: unknown,
  asset: Pick<AssetConfig, 'code' | 'significantDecimals' | 'sep31'>,
) {
  if (!present(raw) || raw === '') throw bad('amount is required');
  let text: string;
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) throw bad('amount must be a finite number');
    text = String(raw);
  } else if (typeof raw === 'string') {
    text = raw;
  } else {
    throw bad('amount must be a decimal string or a number');
  }
  if (text.length > MAX_AMOUNT_TEXT || !/^\d+(\.\d+)?$/.test(text)) {
    throw bad(`amount must be a positive decimal number such as "100.25" (got ${printable(text)})`);
  }
  // Trailing zeros of the fraction carry no value: "100.50" has two decimals' worth of "100.5".
  const [whole = '0', fraction = ''] = text.split('.');
  const digits = fraction.replace(/0+$/, '');
  if (digits.length > 7) throw bad('amount must have at most 7 decimal places');
  if (digits.length > asset.significantDecimals) {
    throw bad(`amount must have at most ${asset.significantDecimals} decimal places for ${asset.code}`);
  }
  const amount = amounts.normalizeAmount(`${whole.replace(/^0+(?=\d)/, '')}${digits ? `.${digits}` : ''}`);
  if (amounts.compareAmounts(amount, '0') <= 0) throw bad('amount must be greater than 0');
  if (amounts.compareAmounts(amount, asset.sep31.minAmount) < 0) {
    throw bad(`amount must be at least ${asset.sep31.minAmount} ${asset.code}`);
  }
  if (amounts.compareAmounts(amount, asset.sep31.maxAmount) > 0) {
    throw bad(`amount must be at most ${asset.sep31.maxAmount} ${asset.code}`);
  }
  return amount;
}

/** A missing `funding_method` (clients before SEP-31 3.1.0) means the asset's first method. */
function checkFundingMethod(raw: unknown, asset: AssetConfig): string | null {
  const methods = asset.sep31.fundingMethods;
  if (!present(raw) || raw === '') return methods[0] ?? null;
  if (typeof raw !== 'string' || !methods.includes(raw)) {
    throw bad(
      `funding_method ${printable(raw)} is not supported for ${asset.code}; supported: ${methods.join(', ')}`,
    );
  }
  return raw;
}

function checkLang(raw: unknown): string | null {
  if (!present(raw) || raw === '') return null;
  if (typeof raw !== 'string' || !/^[a-zA-Z]{2}$/.test(raw)) {
    throw bad('lang must be a two-letter ISO 639-1 language code, e.g. "en"');
  }
  return raw.toLowerCase();
}

/**
 * `sender_id` / `receiver_id` are required when we advertise the SEP-12 type: the customer must belong to
 * the calling sending anchor and be ACCEPTED for that type. Otherwise the SEP's `customer_info_needed`.
 * When we do not KYC that party the id is not needed and is not stored.
 */
async function checkCustomers(
  parties: { raw: unknown; type: string }[],
  config: Pick<Config, 'sep12'>,
  customerStatus: CustomerStatusLookup,
): Promise<(string | null)[]> {
  const kyc = parties.filter((party) => party.type in config.sep12.types);
  const asked = kyc.flatMap(({ raw, type }) =>
    typeof raw === 'string' && raw !== '' ? [{ id: raw, type }] : [],
  );
  // Both parties in one lookup; the first party's problem is still the one reported.
  const statuses = asked.length === 0 ? [] : await customerStatus(asked);
  return parties.map(({ raw, type }) => {
    if (!(type in config.sep12.types)) return null;
    if (typeof raw !== 'string' || raw === '') throw customerInfoNeeded(type);
    const status = statuses[asked.findIndex((a) => a.id === raw && a.type === type)];
    if (status !== 'ACCEPTED') throw customerInfoNeeded(type);
    return raw;
  });
}

function checkRefundMemo(memo: unknown, type: unknown): { memo: string; type: MemoType } | null {
  const hasMemo = present(memo) && memo !== '';
  const hasType = present(type) && type !== '';
  if (!hasMemo && !hasType) return null;
  if (!hasMemo || !hasType) throw bad('refund_memo and refund_memo_type must be given together');
  if (!isMemoType(type)) throw bad('refund_memo_type must be one of id, text, hash');
  if (typeof memo !== 'string') throw bad('refund_memo must be a string');
  if (memo.includes('\u0000')) throw bad('refund_memo must not contain NUL characters');
  const problem = memoProblem(type, memo);
  if (problem !== null) throw bad(`refund_memo is not valid: ${problem}`);
  return { memo, type };
}

/**
 * `quote_id` and `destination_asset` as given (SEP-38 ids); the quote itself is checked against the request
 * later (`sep31/quotes.ts`). An asset with `quotesRequired` takes only transactions on a firm quote.
 */
function checkQuotes(
  body: Record<string, unknown>,
  asset: AssetConfig,
): { quoteId: string | null; destinationAsset: string | null } {
  const text = (raw: unknown, name: string): string | null => {
    if (!present(raw) || raw === '') return null;
    if (typeof raw !== 'string' || raw.length > MAX_QUOTE_TEXT || raw.includes('\u0000')) {
      throw bad(`${name} must be a string of at most ${MAX_QUOTE_TEXT} characters`);
    }
    return raw;
  };
  const quoteId = text(body.quote_id, 'quote_id');
  const destinationAsset = text(body.destination_asset, 'destination_asset');
  if (asset.sep31.quotesRequired && quoteId === null) throw bad(`a quote_id is required for ${asset.code}`);
  return { quoteId, destinationAsset };
}

/**
 * Legacy `fields: { transaction: { name: value } }`: named flat string values are kept, anything else is
 * ignored; text we cannot store (NUL) or oversized input is refused.
 */
function checkLegacyFields(raw: unknown): Record<string, string> {
  if (!isRecord(raw) || !isRecord(raw.transaction)) return {};
  const entries = Object.entries(raw.transaction).filter(
    (entry): entry is [string, string] => entry[0] !== '' && typeof entry[1] === 'string',
  );
  if (entries.length > MAX_LEGACY_FIELDS)
    throw bad(`fields.transaction may hold at most ${MAX_LEGACY_FIELDS} fields`);
  for (const [name, value] of entries) {
    if (name.length > MAX_LEGACY_NAME || name.includes('\u0000')) {
      throw bad('fields.transaction has an invalid field name');
    }
    if (value.length > MAX_LEGACY_VALUE || value.includes('\u0000')) {
      throw bad(`fields.transaction.${name} must be at most ${MAX_LEGACY_VALUE} characters of text`);
    }
  }
  return Object.fromEntries(entries);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value quoted for an error message, shortened. */
function printable(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
