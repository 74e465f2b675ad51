/**
 * `mooring serve` watching payments through Stellar RPC (`stellar.source: 'rpc'`) on PostgreSQL + NATS:
 * a classic payment and a contract's SAC transfer are credited and completed; an RPC outage delays and
 * loses nothing; a replayed page credits nothing twice; a cursor older than RPC's retention stops the
 * account loudly (`/ready` 503, an error log) without Horizon, and is caught up from Horizon with it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import {
  Account,
  Address,
  Asset,
  Keypair,
  Memo,
  Networks,
  Operation,
  StrKey,
  TransactionBuilder,
} from '@stellar/stellar-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endOfLedger } from '../../src/stellar/rpc-cursor.ts';
import type { FakeStellarRpc } from '../fakes/fake-stellar-rpc.ts';
import { KEYS } from '../helpers/app.ts';
import { freePort, waitForHttp } from '../helpers/process.ts';
import {
  createAwaitingTransactions,
  natsUrlForTests,
  outputs,
  postgresForTests,
  startWorld,
  waitUntil,
  type AwaitingTransaction,
  type World,
  type WorldProcess,
} from './support.ts';

const postgres = postgresForTests();
const natsUrl = natsUrlForTests();
const DISTRIBUTION = KEYS.distribution.publicKey();
const USDC = new Asset('USDC', KEYS.issuer.publicKey());

/** Lets the test read /metrics. */
const OPERATOR_TOKEN = 'operator-token-for-the-rpc-test-0123456789';

describe.skipIf(!postgres || !natsUrl)('payments through Stellar RPC (Postgres + NATS)', () => {
  let world: World;
  let rpc: FakeStellarRpc;
  let serve: WorldProcess | undefined;
  let port: number;
  let txs: AwaitingTransaction[];
  let start: string;

  beforeAll(async () => {
    world = await startWorld({ database: postgres!, natsUrl: natsUrl!, rpc: {} });
    rpc = world.rpc!;
    txs = await createAwaitingTransactions(world.host, 6);
    start = endOfLedger(rpc.latestLedger);
    // A cursor as the watcher stores it, so what follows is read from here on.
    await world.db
      .insertInto('rpc_cursors')
      .values({ account: DISTRIBUTION, cursor: start, updated_at: new Date() })
      .execute();
    await startServe();
  }, 60_000);
  afterAll(async () => {
    await world?.close();
  });

  async function startServe() {
    port = await freePort();
    serve = await world.start(`serve-${world.processes.length}`, ['serve'], {
      PORT: String(port),
      OPERATOR_TOKEN,
    });
    await waitForHttp(`http://127.0.0.1:${port}/health`, serve);
  }

  const credited = async (tx: AwaitingTransaction) =>
    (
      await world.db
        .selectFrom('transactions')
        .select('stellar_transaction_id')
        .where('id', '=', tx.id)
        .executeTakeFirstOrThrow()
    ).stellar_transaction_id;
  const diagnostics = () => outputs(world.processes);
  /** Pays on the fake Horizon in a ledger after everything either fake has, and mirrors it on the fake RPC. */
  function payNow(tx: AwaitingTransaction) {
    const built = world.horizon.appendPayment(
      {
        from: KEYS.acme,
        destination: DISTRIBUTION,
        asset: USDC,
        amount: tx.amountIn,
        memo: Memo.hash(tx.memoHex),
      },
      { ledger: Math.max(world.horizon.latestLedger, rpc.latestLedger) + 1 },
    );
    rpc.addTransaction(built);
    return built;
  }
  const waitCredited = (tx: AwaitingTransaction, what: string) =>
    waitUntil(`${what} credited`, () => credited(tx).then((hash) => hash ?? undefined), {
      timeoutMs: 20_000,
      diagnostics,
    });

  it('credits a classic payment read from RPC, and its transaction moves on', async () => {
    const built = payNow(txs[0]!);
    expect(await waitCredited(txs[0]!, 'classic payment')).toBe(built.transaction.hash);
    const { status } = await world.db
      .selectFrom('transactions')
      .select('status')
      .where('id', '=', txs[0]!.id)
      .executeTakeFirstOrThrow();
    expect(status).not.toBe('pending_sender');
  });

  it('credits a payment from a contract (a SAC transfer Horizon does not list)', async () => {
    const contract = StrKey.encodeContract(Buffer.alloc(32, 42));
    const caller = Keypair.random();
    const invoke = new TransactionBuilder(new Account(caller.publicKey(), '1'), {
      fee: '100',
      networkPassphrase: Networks.TESTNET,
    })
      .addOperation(
        Operation.invokeContractFunction({
          contract: USDC.contractId(Networks.TESTNET),
          function: 'transfer',
          args: [new Address(contract).toScVal(), new Address(DISTRIBUTION).toScVal()],
        }),
      )
      .setTimeout(0)
      .build();
    invoke.sign(caller);
    rpc.addTransfer(
      {
        from: contract,
        to: DISTRIBUTION,
        asset: USDC,
        amount: 1_000_000_000n,
        toMuxedId: { bytes: Buffer.from(txs[1]!.memoHex, 'hex') },
      },
      invoke,
    );
    expect(await waitCredited(txs[1]!, 'contract payment')).toBe(Buffer.from(invoke.hash()).toString('hex'));
    const credit = await world.db
      .selectFrom('transaction_events')
      .select('payload')
      .where('transaction_id', '=', txs[1]!.id)
      .where('event_type', '=', 'PAYMENT_RECEIVED')
      .executeTakeFirstOrThrow();
    expect(credit.payload).toMatchObject({ payment: { amount: '100.0000000', assetCode: 'USDC' } });
  });

  it('loses nothing over an RPC outage', async () => {
    rpc.setDown(true);
    const built = payNow(txs[2]!);
    await waitUntil('failed polls', () => rpc.calls.filter((c) => c.outcome === 503).length >= 2, {
      timeoutMs: 10_000,
    });
    expect(await credited(txs[2]!)).toBeNull();
    rpc.setDown(false);
    expect(await waitCredited(txs[2]!, 'payment during the outage')).toBe(built.transaction.hash);
    // One line for the outage, one when it is over (not one per failed poll).
    expect(serve!.output().split('Stellar RPC unreachable; retrying with backoff')).toHaveLength(2);
    expect(serve!.output()).toContain('Stellar RPC reachable again');
  });

  it('a replayed page credits nothing twice and stores nothing as unmatched', async () => {
    await serve!.stop();
    await world.db.updateTable('rpc_cursors').set({ cursor: start }).execute();
    await world.db.deleteFrom('leases').execute();
    await startServe();
    await waitUntil(
      'the replay',
      async () =>
        (await world.db.selectFrom('rpc_cursors').select('cursor').executeTakeFirstOrThrow()).cursor > start,
      { timeoutMs: 20_000, diagnostics },
    );
    const credits = await world.db
      .selectFrom('transaction_events')
      .select(['transaction_id'])
      .where('event_type', '=', 'PAYMENT_RECEIVED')
      .execute();
    expect(credits.map((c) => c.transaction_id).sort()).toEqual(
      txs
        .slice(0, 3)
        .map((t) => t.id)
        .sort(),
    );
    expect(await world.db.selectFrom('unmatched_payments').selectAll().execute()).toEqual([]);
  });

  it('a cursor older than RPC keeps: loud without Horizon, caught up from Horizon with it', async () => {
    await serve!.stop();
    await world.db.deleteFrom('leases').execute();
    const stored = (await world.db.selectFrom('rpc_cursors').select('cursor').executeTakeFirstOrThrow())
      .cursor;
    // Paid while Mooring was down, then RPC's window moves past it.
    const missed = payNow(txs[3]!);
    rpc.closeLedgers(5);
    rpc.setOldestLedger(rpc.latestLedger - 2);

    await startServe();
    await waitUntil(
      '/ready 503',
      async () => (await fetch(`http://127.0.0.1:${port}/ready`)).status === 503,
      {
        timeoutMs: 20_000,
        diagnostics,
      },
    );
    expect(await (await fetch(`http://127.0.0.1:${port}/ready`)).json()).toMatchObject({
      error: 'not ready: payments unavailable',
    });
    expect(serve!.output()).toContain('older than Stellar RPC keeps');
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`, {
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}` },
    });
    expect(await metrics.text()).toMatch(
      new RegExp(
        `mooring_watcher_retention_gap_ledgers\\{account="${DISTRIBUTION}",catch_up="none"\\} [1-9]`,
      ),
    );
    expect(await credited(txs[3]!)).toBeNull();
    expect((await world.db.selectFrom('rpc_cursors').select('cursor').executeTakeFirstOrThrow()).cursor).toBe(
      stored,
    );

    // With a Horizon to catch up from: the missed payment comes from Horizon, then RPC takes over.
    await serve!.stop();
    await world.db.deleteFrom('leases').execute();
    const config = JSON.parse(await readFile(world.configPath, 'utf8')) as {
      stellar: Record<string, unknown>;
    };
    config.stellar.horizonUrl = world.horizon.url;
    await writeFile(world.configPath, JSON.stringify(config));
    await startServe();
    expect(await waitCredited(txs[3]!, 'payment in the gap')).toBe(missed.transaction.hash);
    const after = payNow(txs[4]!);
    expect(await waitCredited(txs[4]!, 'payment after the handover')).toBe(after.transaction.hash);
    await waitUntil(
      '/ready 200',
      async () => (await fetch(`http://127.0.0.1:${port}/ready`)).status === 200,
      {
        timeoutMs: 10_000,
        diagnostics,
      },
    );
    expect(serve!.output()).toContain('catching up from Horizon');
  });
});
