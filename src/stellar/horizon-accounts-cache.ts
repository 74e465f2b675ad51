/**
 * A short-lived cache in front of Horizon's account look-ups: SEP-10 looks an account up for every token, so
 * a burst of sign-ins for one account costs one look-up, found or not. Concurrent look-ups of one account
 * share one request. Failures are not cached. Accounts nobody asked for are bounded by the SEP-10 rate
 * limit and by the cache's size.
 */
import { LRUCache } from 'lru-cache';
import type { AccountSigners, HorizonAccounts } from './horizon-accounts.ts';

/** Short: a removed signer may still sign in for this long after Horizon stops listing it. */
export const ACCOUNT_CACHE_TTL_MS = 10_000;
export const ACCOUNT_CACHE_MAX_ENTRIES = 10_000;

export interface AccountCacheOptions {
  ttlMs?: number;
  maxEntries?: number;
}

export function cachedHorizonAccounts(
  horizon: HorizonAccounts,
  options: AccountCacheOptions = {},
): HorizonAccounts {
  // Boxed: LRUCache cannot hold null, and "no such account" is an answer worth keeping too.
  const cache = new LRUCache<string, { found: AccountSigners | null }>({
    max: options.maxEntries ?? ACCOUNT_CACHE_MAX_ENTRIES,
    ttl: options.ttlMs ?? ACCOUNT_CACHE_TTL_MS,
    fetchMethod: async (accountId) => ({ found: await horizon.loadAccount(accountId) }),
  });
  return {
    async loadAccount(accountId) {
      const entry = await cache.fetch(accountId);
      return entry?.found ?? null;
    },
  };
}
