/**
 * Decimal amounts as the config carries them: canonical strings with at most 7 decimal places (Stellar's
 * precision), compared exactly through integer stroops.
 */

import { amounts } from '../../machines/index.ts';

/** Stellar's amount precision: 1 stroop = 0.0000001. */
export const STELLAR_DECIMALS = 7;
/** The largest amount a Stellar payment can carry (int64 stroops). */
export const MAX_STELLAR_AMOUNT = '922337203685.4775807';

/**
 * Returns the canonical form of a non-negative decimal (`"1.50"` → `"1.5"`, `1e-7` → `"0.0000001"`), or
 * `null` when the value is not a non-negative decimal with at most 7 decimal places. Config files may hold
 * JSON numbers, so numbers are accepted here (never in the API).
 */
export function canonicalDecimal(value: unknown): string | null {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return null;
    text = expandExponent(String(value));
  } else if (typeof value === 'string') {
    text = value.trim();
  } else {
    return null;
  }
  text = text.replace(/^0+(?=\d)/, '');
  return amounts.isAmount(text) ? amounts.normalizeAmount(text) : null;
}

export const toStroops = amounts.toStroops;

/** `String(1.5e-7)` is `"1.5e-7"`: rewrite such forms positionally so the decimal check sees every digit. */
function expandExponent(text: string): string {
  const match = /^(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!match) return text;
  const digits = `${match[1] ?? ''}${match[2] ?? ''}`;
  const point = (match[1] ?? '').length + Number(match[3]);
  if (point <= 0) return `0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return digits + '0'.repeat(point - digits.length);
  return `${digits.slice(0, point)}.${digits.slice(point)}`;
}
