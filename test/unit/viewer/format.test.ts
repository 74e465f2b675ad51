// How the console writes amounts and times: decimal strings with the asset's decimals (nothing rounded away),
// times in UTC with the zone.
import { describe, expect, it } from 'vitest';
import { assetCode, utc, withDecimals } from '../../../src/viewer/client/format.ts';

describe('console formats', () => {
  it("writes an amount with the asset's significant decimals, never hiding a non-zero digit", () => {
    expect(withDecimals('100.0000000', 2)).toBe('100.00');
    expect(withDecimals('60', 2)).toBe('60.00');
    expect(withDecimals('0.1234567', 2)).toBe('0.1234567');
    expect(withDecimals('12.5000000', 0)).toBe('12.5');
    expect(withDecimals('7.0000000', 0)).toBe('7');
    expect(withDecimals('98.5', undefined)).toBe('98.5');
    expect(withDecimals('not a number', 2)).toBe('not a number');
    // Beyond a float's precision: the digits are the string's, untouched.
    expect(withDecimals('922337203685.4775807', 2)).toBe('922337203685.4775807');
  });

  it('writes times in UTC with the zone, whatever the machine zone', () => {
    expect(utc('2026-12-03T20:15:07.123Z')).toBe('2026-12-03 20:15:07 UTC');
    expect(utc('2026-12-03T23:15:07+03:00', 'time')).toBe('20:15:07 UTC');
    expect(utc('yesterday')).toBeNull();
  });

  it('names an asset by its code', () => {
    expect(assetCode('stellar:USDC:GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVN')).toBe('USDC');
    expect(assetCode('iso4217:EUR')).toBe('EUR');
    expect(assetCode('stellar:native')).toBe('native');
  });
});
