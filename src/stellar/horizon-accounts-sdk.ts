import { Horizon, NotFoundError } from '@stellar/stellar-sdk';
import { cachedHorizonAccounts, type AccountCacheOptions } from './horizon-accounts-cache.ts';
import type { AccountSigners, HorizonAccounts } from './horizon-accounts.ts';

/** HorizonAccounts over the Stellar SDK's Horizon client, behind a short cache. */
export function createHorizonAccounts(horizonUrl: string, cache: AccountCacheOptions = {}): HorizonAccounts {
  const server = new Horizon.Server(horizonUrl, { allowHttp: horizonUrl.startsWith('http://') });
  return cachedHorizonAccounts(uncached(server), cache);
}

function uncached(server: Horizon.Server): HorizonAccounts {
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
