/**
 * The payment source the config asks for (`stellar.source`), with what the watcher needs to run it: the
 * source, where its cursors live, and, for Stellar RPC, the state of each account's retention gap (a
 * cursor older than RPC's window), reported loudly: an error log per gap, `/ready` failing while a gap
 * cannot be caught up, and `retentionGaps()` for metrics.
 */
import type { Config } from '../config/index.ts';
import { createHorizonPaymentSource } from '../stellar/horizon-payments-sdk.ts';
import { createRpcPaymentSource, type RetentionGap } from '../stellar/rpc-payments.ts';
import type { HorizonPaymentRecord, PaymentSource } from '../../streams/index.ts';
import type { CursorStore, WatcherLog } from './payment-watcher.ts';
import { rpcCursorStore } from './rpc-cursor-store.ts';

export interface ConfiguredPaymentSource {
  source: PaymentSource<HorizonPaymentRecord>;
  /** Absent: Horizon's cursors. */
  cursors?: CursorStore;
  sourceName: string;
  /** Rejects while an account's payments cannot be read (RPC retention gap with no Horizon to fill it). */
  ready(): Promise<void>;
  /** Accounts whose cursor is older than RPC's window now. */
  retentionGaps(): RetentionGap[];
}

export function configuredPaymentSource(config: Config, log: WatcherLog): ConfiguredPaymentSource {
  const { stellar } = config;
  if (stellar.source === 'horizon') {
    return {
      source: createHorizonPaymentSource(stellar.horizonUrl ?? config.horizonUrl, { appName: 'mooring' }),
      sourceName: 'Horizon',
      ready: async () => {},
      retentionGaps: () => [],
    };
  }
  const gaps = new Map<string, RetentionGap>();
  const horizon =
    stellar.horizonUrl === null
      ? null
      : createHorizonPaymentSource(stellar.horizonUrl, { appName: 'mooring' });
  const source = createRpcPaymentSource(stellar.rpcUrl!, {
    networkPassphrase: config.networkPassphrase,
    pollMs: stellar.rpcPollIntervalSeconds * 1000,
    horizon,
    appName: 'mooring',
    onRetentionGap: (gap) => {
      const known = gaps.get(gap.account);
      gaps.set(gap.account, gap);
      if (known?.oldestLedger === gap.oldestLedger && known.cursor === gap.cursor) return;
      if (gap.catchUp === 'horizon') {
        log.warn({ ...gap }, 'payment cursor is older than Stellar RPC keeps: catching up from Horizon');
      } else {
        log.error(
          { ...gap },
          'payment cursor is older than Stellar RPC keeps and no stellar.horizonUrl is configured: ' +
            'payments of this account are NOT being read until the gap is filled',
        );
      }
    },
    onRpcRead: (account) => {
      const gap = gaps.get(account);
      if (gap === undefined) return;
      gaps.delete(account);
      log.info?.(
        { account, cursorLedger: gap.cursorLedger },
        'payment cursor back inside Stellar RPC retention',
      );
    },
  });
  return {
    source,
    cursors: rpcCursorStore(),
    sourceName: 'Stellar RPC',
    ready: async () => {
      const stuck = [...gaps.values()].filter((gap) => gap.catchUp === 'none');
      if (stuck.length > 0)
        throw new Error(`payments of ${stuck.map((gap) => gap.account).join(', ')} cannot be read`);
    },
    retentionGaps: () => [...gaps.values()],
  };
}
