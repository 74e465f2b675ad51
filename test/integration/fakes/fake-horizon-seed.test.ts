/**
 * `seedPayments`: a backlog of real signed payments, big enough for the watcher's catch-up benchmark, read back
 * in full through the SDK (pages of 200, and a stream).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Asset, Horizon, Keypair, Memo, Networks, TransactionBuilder } from '@stellar/stellar-sdk';
import { startFakeHorizon, type FakeHorizon } from '../../fakes/fake-horizon.ts';
import { toStroops, type BuiltTransaction } from '../../fakes/horizon-records.ts';
import { collect, waitFor } from './support.ts';

const COUNT = 10_000;
const USDC = new Asset('USDC', Keypair.random().publicKey());
const anchor = Keypair.random().publicKey();

let fake: FakeHorizon;
let server: Horizon.Server;
let seeded: BuiltTransaction[];
let seedMs: number;

beforeAll(async () => {
  fake = await startFakeHorizon();
  server = new Horizon.Server(fake.url, { allowHttp: true });
  const started = performance.now();
  seeded = fake.seedPayments(anchor, COUNT, {
    asset: USDC,
    amount: (i) => `${(i % 1000) + 1}.${String(i).padStart(7, '0').slice(-7)}`,
    memo: (i) => (i % 2 === 0 ? Memo.id(String(i)) : undefined),
  });
  seedMs = performance.now() - started;
});

afterAll(async () => {
  await fake?.close();
});

describe('seedPayments', () => {
  it(`builds ${COUNT} distinct signed payments, 100 per ledger, in increasing id order`, () => {
    console.info(`seeded ${COUNT} payments in ${Math.round(seedMs)} ms`);
    expect(seeded).toHaveLength(COUNT);
    const ids = seeded.map((b) => BigInt(b.operations[0]!.id));
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
    expect(new Set(seeded.map((b) => b.transaction.hash)).size).toBe(COUNT);
    const ledgers = new Set(seeded.map((b) => b.transaction.ledger));
    expect(ledgers.size).toBe(COUNT / 100);
    // Spot checks: real envelopes, real hashes, the requested amounts and memos.
    for (const i of [0, 1, 4_999, COUNT - 1]) {
      const built = seeded[i]!;
      const envelope = TransactionBuilder.fromXdr(built.transaction.envelope_xdr, Networks.TESTNET);
      expect(Buffer.from(envelope.hash()).toString('hex')).toBe(built.transaction.hash);
      expect(toStroops(built.operations[0]!.type === 'payment' ? built.operations[0]!.amount : '')).toBe(
        toStroops(`${(i % 1000) + 1}.${String(i).padStart(7, '0').slice(-7)}`),
      );
      expect(built.transaction.memo).toBe(i % 2 === 0 ? String(i) : undefined);
    }
  });

  it('pages through the whole backlog with limit 200', async () => {
    let page = await server.payments().forAccount(anchor).limit(200).join('transactions').call();
    const ids: string[] = [];
    while (page.records.length > 0) {
      ids.push(...page.records.map((r) => r.id));
      page = await page.next();
    }
    expect(ids).toEqual(seeded.map((b) => b.operations[0]!.id));
  });

  it('streams the whole backlog from cursor 0 without loss or duplicate', async () => {
    const { records, close } = collect(server.payments().forAccount(anchor).cursor('0').limit(200));
    try {
      await waitFor(() => records.length >= COUNT, 'the whole backlog', 60_000);
      expect(records.map((r) => r.id)).toEqual(seeded.map((b) => b.operations[0]!.id));
    } finally {
      close();
    }
  });
});
