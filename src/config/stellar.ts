/**
 * `stellar`: where payments are read from. `source: 'horizon'` (the default) follows Horizon's payments;
 * `source: 'rpc'` polls Stellar RPC's `getEvents` for CAP-67 transfer events at `rpcUrl` (on testnet, SDF's
 * public RPC by default; on pubnet it must be given). The
 * Horizon of the payment source is `stellar.horizonUrl`, else `horizonUrl`; with `rpc`, a Horizon is used
 * only when `stellar.horizonUrl` names one, to catch up a cursor older than RPC's retention window.
 */
import { DEFAULT_RPC_POLL_INTERVAL_SECONDS } from './defaults.ts';
import { ConfigError, fileKey } from './errors.ts';
import type { Sourced } from './env.ts';
import type { ConfigFile } from './schema.ts';
import type { StellarConfig } from './types.ts';

export function resolveStellar(
  file: ConfigFile['stellar'],
  settings: { paymentSource?: Sourced<'horizon' | 'rpc'>; rpcUrl?: Sourced<string> },
  horizonUrl: string,
  /** The network's public RPC, if it has one (testnet). */
  defaultRpcUrl: string | null,
): StellarConfig {
  const source = settings.paymentSource?.value ?? 'horizon';
  const rpcUrl = settings.rpcUrl?.value ?? (source === 'rpc' ? defaultRpcUrl : null);
  if (source === 'rpc' && rpcUrl === null) {
    throw new ConfigError(
      settings.paymentSource?.where ?? fileKey(['stellar', 'source']),
      'is "rpc", which needs a Stellar RPC URL (set STELLAR_RPC_URL or "stellar.rpcUrl")',
    );
  }
  const paymentsHorizon = file?.horizonUrl?.replace(/\/+$/, '') ?? null;
  if (paymentsHorizon !== null && !/^https?:\/\/./i.test(paymentsHorizon)) {
    throw new ConfigError(
      fileKey(['stellar', 'horizonUrl']),
      `must be an http(s) URL (got "${file?.horizonUrl}")`,
    );
  }
  return {
    source,
    rpcUrl,
    horizonUrl: source === 'horizon' ? (paymentsHorizon ?? horizonUrl) : paymentsHorizon,
    rpcPollIntervalSeconds: file?.rpcPollIntervalSeconds ?? DEFAULT_RPC_POLL_INTERVAL_SECONDS,
  };
}
