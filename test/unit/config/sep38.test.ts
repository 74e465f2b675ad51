import { describe, expect, it } from 'vitest';
import { loadConfig, type ConfigFile } from '../../../src/config/index.ts';
import { fullConfig, tempDir, writeJson } from './helpers.ts';

async function load(file: ConfigFile) {
  const cwd = await tempDir();
  const path = await writeJson(cwd, 'config.json', file);
  return loadConfig({ env: { MOORING_CONFIG: path }, cwd });
}

/** A full config with a `sep38` section whose rates sell its USDC. */
function withSep38(sep38: (usdc: string) => ConfigFile['sep38']): ConfigFile {
  const file = fullConfig();
  const asset = file.assets![0]!;
  return { ...file, sep38: sep38(`stellar:${asset.code}:${asset.issuer}`) };
}

describe('sep38 config', () => {
  it('offers no quotes without a sep38 section outside sandbox mode', async () => {
    const config = await load(fullConfig());
    expect(config.sep38).toEqual({ quoteExpirySeconds: 300, offChainAssets: [], rates: [] });
  });

  it('quotes the sandbox demo asset against US dollars with no file', async () => {
    const config = await loadConfig({ env: {}, cwd: await tempDir() });
    const demo = config.assets[0]!;
    expect(demo.sep31).toMatchObject({ quotesSupported: true, quotesRequired: false });
    expect(config.sep38.offChainAssets).toEqual([
      {
        asset: 'iso4217:USD',
        significantDecimals: 2,
        countryCodes: ['US'],
        sellDeliveryMethods: [],
        buyDeliveryMethods: [
          { name: 'SEPA', description: 'Paid out by SEPA' },
          { name: 'SWIFT', description: 'Paid out by SWIFT' },
        ],
      },
    ]);
    expect(config.sep38.rates).toEqual([
      {
        sellAsset: `stellar:USDC:${demo.issuer}`,
        buyAsset: 'iso4217:USD',
        price: '1',
        feeFixed: '0',
        feePercent: '1',
      },
    ]);
  });

  it('reads off-chain assets and rates with canonical decimals and defaults', async () => {
    const config = await load(
      withSep38((usdc) => ({
        quoteExpirySeconds: 60,
        offChainAssets: [
          { asset: 'iso4217:BRL', countryCodes: ['BR'], buyDeliveryMethods: [{ name: 'PIX' }] },
        ],
        rates: [{ sellAsset: usdc, buyAsset: 'iso4217:BRL', price: 0.18, feePercent: '0.50' }],
      })),
    );
    expect(config.sep38.quoteExpirySeconds).toBe(60);
    expect(config.sep38.offChainAssets[0]).toEqual({
      asset: 'iso4217:BRL',
      significantDecimals: 2,
      countryCodes: ['BR'],
      sellDeliveryMethods: [],
      buyDeliveryMethods: [{ name: 'PIX', description: 'PIX' }],
    });
    expect(config.sep38.rates[0]).toMatchObject({ price: '0.18', feeFixed: '0', feePercent: '0.5' });
  });

  it.each([
    [
      'a malformed off-chain asset',
      (usdc: string) => ({
        offChainAssets: [{ asset: 'USD' }],
        rates: [{ sellAsset: usdc, buyAsset: 'USD', price: '1' }],
      }),
      'sep38.offChainAssets[0].asset',
    ],
    [
      'a rate for an unknown asset',
      (usdc: string) => ({
        rates: [{ sellAsset: usdc, buyAsset: 'iso4217:EUR', price: '1' }],
      }),
      'sep38.rates[0].buyAsset',
    ],
    [
      'a zero price',
      (usdc: string) => ({
        offChainAssets: [{ asset: 'iso4217:EUR' }],
        rates: [{ sellAsset: usdc, buyAsset: 'iso4217:EUR', price: '0' }],
      }),
      'sep38.rates[0].price',
    ],
    [
      'a fee of 100 %',
      (usdc: string) => ({
        offChainAssets: [{ asset: 'iso4217:EUR' }],
        rates: [{ sellAsset: usdc, buyAsset: 'iso4217:EUR', price: '1', feePercent: '100' }],
      }),
      'sep38.rates[0].feePercent',
    ],
    [
      'a pair twice',
      (usdc: string) => ({
        offChainAssets: [{ asset: 'iso4217:EUR' }],
        rates: [
          { sellAsset: usdc, buyAsset: 'iso4217:EUR', price: '1' },
          { sellAsset: usdc, buyAsset: 'iso4217:EUR', price: '2' },
        ],
      }),
      'sep38.rates[1].buyAsset',
    ],
    [
      'a bad country code',
      (usdc: string) => ({
        offChainAssets: [{ asset: 'iso4217:EUR', countryCodes: ['france'] }],
        rates: [{ sellAsset: usdc, buyAsset: 'iso4217:EUR', price: '1' }],
      }),
      'sep38.offChainAssets[0].countryCodes[0]',
    ],
  ])('refuses %s, naming the key', async (_name, sep38, key) => {
    await expect(load(withSep38(sep38 as (usdc: string) => ConfigFile['sep38']))).rejects.toThrow(key);
  });
});
