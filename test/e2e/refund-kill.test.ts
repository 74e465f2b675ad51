/**
 * An unmatched payment refunded exactly once with real processes: the operator asks twice, the refund
 * worker (`execute-outgoing`, which runs the refund relay) is SIGKILLed right after Horizon took the refund
 * and before it recorded it (`refund.submitted`), and a new worker takes the claim over: it finds the stored
 * envelope's hash on Horizon and records it, never building a second payment.
 */
import { Keypair } from '@stellar/stellar-sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { recordUnmatchedPayment } from '../../src/db/unmatched-payments.repository.ts';
import { operatorQueries } from '../../src/read-model/operator.ts';
import { createRefundMethods } from '../../src/operator/refund-methods.ts';
import { KEYS } from '../helpers/app.ts';
import {
  USDC,
  natsUrlForTests,
  outputs,
  postgresForTests,
  startWorld,
  waitUntil,
  type World,
} from './support.ts';

const postgres = postgresForTests();
const natsUrl = natsUrlForTests();

describe.skipIf(!postgres || !natsUrl)('refunds with real processes (Postgres + NATS)', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('kill -9 between submitting an unmatched refund and recording it: refunded once', async () => {
    world = await startWorld({
      database: postgres!,
      natsUrl: natsUrl!,
      config: { refunds: { kind: 'stellar', signerSecret: KEYS.distribution.secret() } },
    });
    const w = world;
    const sender = Keypair.random();
    const built = w.horizon.pay({
      from: sender,
      destination: KEYS.distribution.publicKey(),
      asset: USDC(),
      amount: '12.5',
    });
    const op = built.operations[0]!;
    await recordUnmatchedPayment(w.db, {
      operationId: op.id,
      transactionHash: built.transaction.hash,
      account: KEYS.distribution.publicKey(),
      fromAccount: sender.publicKey(),
      amount: '12.5',
      assetCode: 'USDC',
      assetIssuer: KEYS.issuer.publicKey(),
      memoType: 'none',
      memo: null,
      reason: 'no_memo',
      transactionId: null,
      payload: op,
    });
    const methods = createRefundMethods({
      db: w.db,
      commands: {
        send: () => Promise.reject(new Error('no transaction is involved')),
      },
      refunds: { kind: 'stellar', excess: 'auto' },
      methodsFor: () => [],
      queries: operatorQueries(w.db),
      sendingAnchors: [],
    });
    const context = { operator: 'ops@example.com' };
    await methods.refund_unmatched_payment.call({ operation_id: op.id }, context);
    await methods.refund_unmatched_payment.call({ operation_id: op.id }, context);

    const doomed = await w.start('refunds-1', ['execute-outgoing', '--loop', '--interval', '1'], {
      MOORING_CRASH_AT: 'refund.submitted:1',
    });
    await waitUntil('the worker to crash after submitting', () => doomed.child.signalCode === 'SIGKILL', {
      diagnostics: () => outputs(w.processes),
    });
    // The window: on the ledger, not recorded, the claim held by a dead process.
    expect(w.horizon.submitted).toHaveLength(1);
    const unrecorded = await w.db
      .selectFrom('unmatched_payments')
      .select('refunded_at')
      .where('operation_id', '=', op.id)
      .executeTakeFirstOrThrow();
    expect(unrecorded.refunded_at).toBeNull();
    // The lease "expired" (we do not wait for it): a new worker takes the row over.
    await w.db
      .updateTable('outbox')
      .set({ claim_expires_at: new Date(Date.now() - 1000) })
      .where('kind', '=', 'refund_unmatched')
      .where('state', '=', 'in_flight')
      .execute();
    const restarted = await w.start('refunds-2', ['execute-outgoing', '--loop', '--interval', '1']);
    await waitUntil(
      'the refund to be recorded',
      async () => {
        const row = await w.db
          .selectFrom('unmatched_payments')
          .select(['refunded_at', 'refund_transaction_hash'])
          .where('operation_id', '=', op.id)
          .executeTakeFirstOrThrow();
        return row.refunded_at !== null ? row : undefined;
      },
      { diagnostics: () => outputs(w.processes) },
    );
    const shown = (await methods.refund_unmatched_payment.call({ operation_id: op.id }, context)) as {
      refund_transaction_hash: string;
    };
    expect(w.horizon.submitted).toHaveLength(1);
    expect(shown.refund_transaction_hash).toBe(w.horizon.submitted[0]);
    const rows = await w.db
      .selectFrom('outbox')
      .select('state')
      .where('kind', '=', 'refund_unmatched')
      .execute();
    expect(rows).toEqual([{ state: 'done' }]);
    expect(await restarted.stop('SIGTERM')).toBe(0);
  }, 90_000);
});
