import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Account, Asset, Keypair, Memo, MuxedAccount, Networks, StrKey } from '@stellar/stellar-sdk';
import { filter, firstValueFrom, from, take, toArray } from 'rxjs';
import { createHorizonPaymentSource } from '../../../src/stellar/horizon-payments-sdk.ts';
import { endOfLedger } from '../../../src/stellar/rpc-cursor.ts';
import {
  CHECKPOINT_TYPE,
  RetentionGapError,
  createRpcPaymentSource,
  type RetentionGap,
} from '../../../src/stellar/rpc-payments.ts';
import { isHeartbeat, type HorizonPaymentRecord } from '../../../streams/index.ts';
import { startFakeHorizon, type FakeHorizon } from '../../fakes/fake-horizon.ts';
import { startFakeStellarRpc, type FakeStellarRpc } from '../../fakes/fake-stellar-rpc.ts';

const passphrase = Networks.TESTNET;
const ISSUER = Keypair.random().publicKey();
const USDC = new Asset('USDC', ISSUER);

describe('Stellar RPC payment source over the SDK', () => {
  let horizon: FakeHorizon;
  let rpc: FakeStellarRpc;
  const account = Keypair.random().publicKey();
  const sender = Keypair.random();

  beforeEach(async () => {
    horizon = await startFakeHorizon();
    rpc = await startFakeStellarRpc({ networkPassphrase: passphrase, latestLedger: horizon.latestLedger });
  });
  afterEach(async () => {
    await rpc.close();
    await horizon.close();
  });

  /** A real signed payment on the fake Horizon, and its CAP-67 transfer on the fake RPC. */
  function pay(input: {
    destination: string;
    asset: Asset;
    amount: string;
    memo?: Memo;
    successful?: boolean;
  }) {
    const built = horizon.pay({ from: sender, ...input });
    rpc.addTransaction(built);
    return built;
  }

  const page = (source: ReturnType<typeof createRpcPaymentSource>, cursor: string, limit = 200) =>
    firstValueFrom(from(source.page(account, cursor, limit)));
  const payments = (records: readonly HorizonPaymentRecord[]) =>
    records.filter((r) => r.type !== CHECKPOINT_TYPE);

  it('pages the transfers to the account after a cursor, memos resolved, then where its scan ended', async () => {
    const source = createRpcPaymentSource(rpc.url, { networkPassphrase: passphrase, pollMs: 10 });
    const start = endOfLedger(rpc.latestLedger);
    const hash = Buffer.alloc(32, 7);
    const first = pay({ destination: account, asset: USDC, amount: '5', memo: Memo.hash(hash) });
    pay({ destination: Keypair.random().publicKey(), asset: USDC, amount: '9', memo: Memo.text('not ours') });
    const third = pay({ destination: account, asset: Asset.native(), amount: '7', memo: Memo.text('m-7') });
    const muxed = new MuxedAccount(new Account(account, '0'), '99').accountId();
    const fourth = pay({ destination: muxed, asset: USDC, amount: '1.5', memo: Memo.id('12') });

    const got = await page(source, start);
    const records = payments(got.records);
    expect(records.map((r) => r.transaction_hash)).toEqual([
      first.transaction.hash,
      third.transaction.hash,
      fourth.transaction.hash,
    ]);
    expect(records[0]).toMatchObject({
      type: 'transfer',
      to: account,
      amount: '5.0000000',
      asset_code: 'USDC',
      transaction_attr: { memo_type: 'hash', memo: hash.toString('base64') },
    });
    // Written as Horizon writes it, so a credit's event is the same whichever source saw it.
    expect(records.map((r) => r.amount)).toEqual(
      [first, third, fourth].map((b) => (b.operations[0] as unknown as { amount: string }).amount),
    );
    expect(records[1]).toMatchObject({
      asset_type: 'native',
      amount: '7.0000000',
      transaction_attr: { memo_type: 'text', memo: 'm-7' },
    });
    // CAP-67 carries the muxed id in to_muxed_id and drops the memo: the transaction's envelope restores it.
    expect(records[2]).toMatchObject({
      to_muxed: muxed,
      to_muxed_id: '99',
      transaction_attr: { memo_type: 'id', memo: '12' },
    });
    expect(got.records.at(-1)).toMatchObject({
      type: CHECKPOINT_TYPE,
      paging_token: endOfLedger(rpc.latestLedger),
    });
    // getTransaction only for the events whose to_muxed_id is a u64 or bytes.
    expect(rpc.calls.filter((c) => c.method === 'getTransaction').map((c) => c.params.hash)).toEqual([
      first.transaction.hash,
      fourth.transaction.hash,
    ]);
    const request = rpc.calls.find((c) => c.method === 'getEvents')!.params;
    expect(request).toMatchObject({ pagination: { cursor: start, limit: 200 } });
    expect((request.filters as { topics: string[][] }[])[0]!.topics[0]).toHaveLength(4);

    // A replayed page is the same page: same ids, same order.
    const again = await page(source, start);
    expect(again.records.map((r) => r.id)).toEqual(got.records.map((r) => r.id));
    // Resuming after the first record gives the rest only.
    const rest = await page(source, records[0]!.paging_token);
    expect(payments(rest.records).map((r) => r.id)).toEqual(records.slice(1).map((r) => r.id));
    // A full page goes on from its last event.
    const small = await page(source, start, 2);
    expect(small.records.map((r) => r.id)).toEqual(records.slice(0, 2).map((r) => r.id));
  });

  it('answers with the documented getEvents fields (the fake checked against Stellar RPC’s docs)', async () => {
    pay({ destination: account, asset: USDC, amount: '1', memo: Memo.text('shape') });
    const response = await fetch(rpc.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 8675309,
        method: 'getEvents',
        params: { startLedger: rpc.oldestLedger, filters: [{ type: 'contract' }], pagination: { limit: 1 } },
      }),
    });
    const body = (await response.json()) as { jsonrpc: string; id: number; result: Record<string, unknown> };
    expect(body).toMatchObject({ jsonrpc: '2.0', id: 8675309 });
    expect(Object.keys(body.result).sort()).toEqual(
      [
        'cursor',
        'events',
        'latestLedger',
        'latestLedgerCloseTime',
        'oldestLedger',
        'oldestLedgerCloseTime',
      ].sort(),
    );
    const [event] = body.result.events as Record<string, unknown>[];
    expect(Object.keys(event!).sort()).toEqual(
      [
        'contractId',
        'id',
        'inSuccessfulContractCall',
        'ledger',
        'ledgerClosedAt',
        'operationIndex',
        'topic',
        'transactionIndex',
        'txHash',
        'type',
        'value',
      ].sort(),
    );
    expect(event!.id).toMatch(/^\d{19}-\d{10}$/);
    expect(body.result.cursor).toBe(event!.id); // a full page (limit 1) continues from its last event
    const inside = await fetch(rpc.url, {
      method: 'POST',
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'getEvents',
        params: { startLedger: 1, filters: [] },
      }),
    });
    rpc.setOldestLedger(5);
    const outside = await fetch(rpc.url, {
      method: 'POST',
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'getEvents',
        params: { startLedger: 1, filters: [] },
      }),
    });
    expect(((await inside.json()) as { result?: unknown }).result).toBeDefined();
    expect(await outside.json()).toMatchObject({
      error: {
        code: -32600,
        message: `startLedger must be within the ledger range: 5 - ${rpc.latestLedger}`,
      },
    });
  });

  it('ignores failed transactions and other contracts’ look-alike events', async () => {
    const source = createRpcPaymentSource(rpc.url, { networkPassphrase: passphrase, pollMs: 10 });
    const start = endOfLedger(rpc.latestLedger);
    pay({ destination: account, asset: USDC, amount: '2', successful: false, memo: Memo.text('failed') });
    rpc.addTransfer({
      from: sender.publicKey(),
      to: account,
      asset: USDC,
      amount: 10_000_000n,
      toMuxedId: { text: 'fake' },
      contractId: StrKey.encodeContract(Buffer.alloc(32, 4)),
    });
    const records = payments((await page(source, start)).records);
    expect(records.map((r) => [r.transaction_successful, r.type])).toEqual([
      [false, 'transfer'],
      [true, 'transfer_not_asset_contract'],
    ]);
  });

  it('a cursor older than the retention window fails loudly when there is no Horizon to catch up from', async () => {
    const gaps: RetentionGap[] = [];
    const source = createRpcPaymentSource(rpc.url, {
      networkPassphrase: passphrase,
      pollMs: 10,
      onRetentionGap: (gap) => gaps.push(gap),
    });
    const old = endOfLedger(rpc.latestLedger);
    pay({ destination: account, asset: USDC, amount: '3', memo: Memo.text('lost?') });
    rpc.closeLedgers(5);
    rpc.setOldestLedger(rpc.latestLedger - 2);
    await expect(page(source, old)).rejects.toBeInstanceOf(RetentionGapError);
    expect(gaps).toEqual([
      expect.objectContaining({ account, cursor: old, oldestLedger: rpc.oldestLedger, catchUp: 'none' }),
    ]);
    // `startFrom: 'beginning'` (cursor 0) asks for history RPC does not keep: a gap too.
    await expect(page(source, '0')).rejects.toBeInstanceOf(RetentionGapError);
    // The end of the ledger just before the window misses nothing: no gap.
    await expect(page(source, endOfLedger(rpc.oldestLedger - 1))).resolves.toBeDefined();
    expect(gaps).toHaveLength(2);
  });

  it('catches a gap up from Horizon to inside the window, then reads RPC again', async () => {
    const gaps: RetentionGap[] = [];
    const read: string[] = [];
    const source = createRpcPaymentSource(rpc.url, {
      networkPassphrase: passphrase,
      pollMs: 10,
      horizon: createHorizonPaymentSource(horizon.url),
      onRetentionGap: (gap) => gaps.push(gap),
      onRpcRead: (who) => read.push(who),
    });
    const old = endOfLedger(rpc.latestLedger);
    const early = [1, 2, 3].map((n) =>
      pay({ destination: account, asset: USDC, amount: String(n), memo: Memo.text(`m${n}`) }),
    );
    rpc.setOldestLedger(early[2]!.transaction.ledger);

    const caughtUp = await page(source, old);
    // Horizon's records (ids as Horizon's operation ids) for the gap, then RPC from the handover ledger on.
    expect(payments(caughtUp.records).map((r) => r.id)).toEqual(early.map((b) => b.operations[0]!.id));
    expect(caughtUp.records.at(-1)).toMatchObject({ type: CHECKPOINT_TYPE });
    expect(gaps).toEqual([expect.objectContaining({ catchUp: 'horizon' })]);

    const late = pay({ destination: account, asset: USDC, amount: '4', memo: Memo.text('m4') });
    const next = await page(source, caughtUp.records.at(-1)!.paging_token);
    expect(payments(next.records).map((r) => r.transaction_hash)).toEqual([late.transaction.hash]);
    expect(read).toContain(account);
    expect(gaps).toHaveLength(1);
    // From the beginning (`startFrom: 'beginning'`): Horizon's whole history, then RPC.
    const all = await page(source, '0');
    expect(payments(all.records).map((r) => r.id)).toEqual(early.map((b) => b.operations[0]!.id));
  });

  it('follows live with a keep-alive per poll, and fails when RPC stops answering', async () => {
    const source = createRpcPaymentSource(rpc.url, { networkPassphrase: passphrase, pollMs: 20 });
    const start = endOfLedger(rpc.latestLedger);
    const live = firstValueFrom(
      from(source.stream(account, start)).pipe(
        filter((item) => !isHeartbeat(item)),
        take(1),
        toArray(),
      ),
    );
    const beats = firstValueFrom(
      from(source.stream(account, start)).pipe(filter(isHeartbeat), take(3), toArray()),
    );
    await expect(beats).resolves.toHaveLength(3);
    const built = pay({ destination: account, asset: USDC, amount: '8', memo: Memo.text('live') });
    const [record] = (await live) as HorizonPaymentRecord[];
    expect(record).toMatchObject({ transaction_hash: built.transaction.hash, amount: '8.0000000' });

    rpc.setDown(true);
    await expect(firstValueFrom(from(source.stream(account, start)))).rejects.toThrow();
  });
});
