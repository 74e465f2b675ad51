/**
 * Exact Stellar amounts: decimal strings with at most 7 decimal places, computed as bigint stroops.
 * Money never passes through a float.
 */
export const STROOPS_PER_UNIT = 10_000_000n;
const DECIMAL = /^(0|[1-9]\d*)(?:\.(\d{1,7}))?$/;

export class AmountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AmountError';
  }
}

/** True for a non-negative decimal string with at most 7 decimal places (no exponent, sign or spaces). */
export function isAmount(value: string): boolean {
  return DECIMAL.test(value);
}

export function toStroops(amount: string): bigint {
  const match = DECIMAL.exec(amount);
  if (!match) throw new AmountError(`not an amount with at most 7 decimal places: "${amount}"`);
  const whole = match[1] ?? '0';
  const fraction = (match[2] ?? '').padEnd(7, '0');
  return BigInt(whole) * STROOPS_PER_UNIT + BigInt(fraction);
}

/** Canonical form: no trailing zeros in the fraction ("10", "10.5", "0.0000001"). */
export function fromStroops(stroops: bigint): string {
  if (stroops < 0n) throw new AmountError(`negative amount: ${stroops} stroops`);
  const whole = stroops / STROOPS_PER_UNIT;
  const fraction = (stroops % STROOPS_PER_UNIT).toString().padStart(7, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : `${whole}`;
}

export function normalizeAmount(amount: string): string {
  return fromStroops(toStroops(amount));
}

export function addAmounts(...amounts: string[]): string {
  return fromStroops(amounts.reduce((sum, a) => sum + toStroops(a), 0n));
}

/** a − b; throws when the result would be negative. */
export function subtractAmounts(a: string, b: string): string {
  return fromStroops(toStroops(a) - toStroops(b));
}

export function compareAmounts(a: string, b: string): -1 | 0 | 1 {
  const d = toStroops(a) - toStroops(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/** Fixed-point "amount × percent / 100", rounded half up to `decimals` places. */
export function percentOf(amount: string, percent: string, decimals = 7): string {
  const scaled = toStroops(amount) * toStroops(percent); // 14 decimal places, ×100
  const divisor = 100n * STROOPS_PER_UNIT;
  return roundStroops(divideHalfUp(scaled, divisor), decimals);
}

/** Rounds an amount half up to `decimals` places (0..7). */
export function roundAmount(amount: string, decimals: number): string {
  return roundStroops(toStroops(amount), decimals);
}

function roundStroops(stroops: bigint, decimals: number): string {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 7) {
    throw new AmountError(`decimals must be 0..7 (got ${decimals})`);
  }
  const step = 10n ** BigInt(7 - decimals);
  return fromStroops(divideHalfUp(stroops, step) * step);
}

function divideHalfUp(numerator: bigint, divisor: bigint): bigint {
  return (numerator + divisor / 2n) / divisor;
}
