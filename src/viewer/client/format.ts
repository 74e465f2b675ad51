// Amounts and times as the console shows them: amounts as decimal strings (never through a float), times in UTC
// with the zone written out, so operators in different places read the same clock.

/** `stellar:USDC:GA…` → `USDC`, `iso4217:EUR` → `EUR`; anything else as it is. */
export function assetCode(asset: string): string {
  const parts = asset.split(':');
  return parts.length >= 2 ? (parts[1] ?? asset) : asset;
}

/**
 * A decimal string with the asset's significant decimals: trailing zeros beyond them are dropped and missing
 * ones added (`100.0000000` with 2 → `100.00`); non-zero digits beyond them are kept, so nothing is hidden.
 */
export function withDecimals(value: string, decimals: number | undefined): string {
  const match = /^(-?\d+)(?:\.(\d*))?$/.exec(value);
  if (match === null || decimals === undefined) return value;
  const whole = match[1]!;
  let fraction = (match[2] ?? '').replace(/0+$/, '');
  if (fraction.length < decimals) fraction = fraction.padEnd(decimals, '0');
  return fraction === '' ? whole : `${whole}.${fraction}`;
}

/** `2026-12-03T20:15:07.123Z` → `2026-12-03 20:15:07 UTC` (or `20:15:07 UTC` for `time`). */
export function utc(iso: string, style: 'full' | 'time' = 'full'): string | null {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return null;
  const [day, clock] = date.toISOString().split('T') as [string, string];
  const hms = clock.slice(0, 8);
  return style === 'time' ? `${hms} UTC` : `${day} ${hms} UTC`;
}
