// Public surface of src/refunds: refunds sent on Stellar (idempotently) and the relay that carries them out.
import { Keypair } from '@stellar/stellar-sdk';
import type { Kysely } from 'kysely';
import { merge } from 'rxjs';
import type { EventBus } from '../bus/index.ts';
import type { Config } from '../config/index.ts';
import type { Database } from '../db/database.ts';
import { startOutboxRelay, type OutboxRelay, type RelayLog } from '../effects/relay.ts';
import { DEFAULT_PAYOUT_RELAY_SETTINGS } from '../workers/execute-payout-effect.ts';
import { horizonPayerOf } from './payer.ts';
import { refundHandlers } from './refund-effects.ts';
import { stellarRefunds } from './stellar-refund.ts';

export { stellarRefunds, RefundRejectedError } from './stellar-refund.ts';
export type { RefundSent, StellarRefunds, StellarRefundOptions } from './stellar-refund.ts';
export { refundHandlers, excessRefundId, excessRefundRequest, unmatchedRefundKey } from './refund-effects.ts';
export type { ExcessPolicy, RefundEffectOptions, RefundKind } from './refund-effects.ts';
export { horizonPayerOf } from './payer.ts';

/** Refunds move money like payouts, with the same patience (a resubmission is the same envelope). */
export const DEFAULT_REFUND_RELAY_SETTINGS = DEFAULT_PAYOUT_RELAY_SETTINGS;

/** The relay of `refund_excess`, `send_refund` and `refund_unmatched` rows, as `config.refunds` says. */
export function startRefundRelay(options: {
  db: Kysely<Database>;
  bus: Pick<EventBus, 'publish' | 'signals'>;
  config: Pick<Config, 'refunds' | 'horizonUrl' | 'networkPassphrase'>;
  workerId: string;
  log: RelayLog;
}): OutboxRelay {
  const { db, bus, config } = options;
  const signer =
    config.refunds.signerSecret === null ? null : Keypair.fromSecret(config.refunds.signerSecret);
  const handlers = refundHandlers({
    db,
    bus,
    kind: config.refunds.kind,
    excess: config.refunds.excess,
    ...(signer !== null && {
      stellar: stellarRefunds({
        db,
        horizonUrl: config.horizonUrl,
        networkPassphrase: config.networkPassphrase,
        signer,
      }),
      payerOf: horizonPayerOf(config.horizonUrl),
    }),
  });
  return startOutboxRelay({
    db,
    handlers,
    workerId: options.workerId,
    ...DEFAULT_REFUND_RELAY_SETTINGS,
    wake: merge(...Object.keys(handlers).map((kind) => bus.signals(`outbox.${kind}`))),
    log: options.log,
  });
}
