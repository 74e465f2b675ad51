import { Horizon, NotFoundError } from '@stellar/stellar-sdk';
import type { AccountSigners, HorizonAccounts } from './horizon-accounts.ts';

/** HorizonAccounts over the Stellar SDK's Horizon client. */
export function createHorizonAccounts(horizonUrl: string): HorizonAccounts {
  const server = new Horizon.Server(horizonUrl, { allowHttp: horizonUrl.startsWith('http://') });
  return {
    async loadAccount(accountId: string): Promise<AccountSigners | null> {
      try {
        const account = await server.loadAccount(accountId);
        return {
          signers: account.signers.map((s) => ({ key: s.key, weight: s.weight, type: s.type })),
          thresholds: account.thresholds,
        };
      } catch (error) {
        if (error instanceof NotFoundError) return null;
        throw error;
      }
    },
  };
}
