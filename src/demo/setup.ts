/** The demo's anchor configuration: one asset, the SEP-12 types, the simulated sender, reference rails. */
import type { Keypair } from '@stellar/stellar-sdk';

export interface DemoKeys {
  issuer: Keypair;
  distribution: Keypair;
  sender: Keypair;
}

/** Without signingSecret/jwtSecret: sandbox mode (generated keys); callbacks go to a receiver on localhost. */
export function demoConfigFile(options: {
  port: number;
  horizonUrl: string;
  keys: DemoKeys;
  assetCode: string;
}) {
  const { port, horizonUrl, keys, assetCode } = options;
  return {
    homeDomain: `localhost:${port}`,
    host: '127.0.0.1',
    port,
    network: 'testnet',
    horizonUrl,
    assets: [
      {
        code: assetCode,
        issuer: keys.issuer.publicKey(),
        distributionAccount: keys.distribution.publicKey(),
        significantDecimals: 2,
        sep31: {
          enabled: true,
          minAmount: '1',
          maxAmount: '100000',
          feeFixed: '0.5',
          feePercent: '1',
          fundingMethods: ['SEPA'],
          quotesSupported: false,
          quotesRequired: false,
        },
      },
    ],
    sep12: {
      types: {
        'sep31-sender': { description: 'the sender', fields: ['first_name', 'last_name'] },
        'sep31-receiver': {
          description: 'the receiver',
          fields: ['first_name', 'last_name', 'bank_account_number', 'bank_number'],
        },
      },
    },
    sendingAnchors: [{ name: 'demo-sender', signingKeys: [keys.sender.publicKey()] }],
    rails: { kind: 'reference', payoutDelaySeconds: 2 },
    callbacks: { allowLoopback: true },
  };
}
