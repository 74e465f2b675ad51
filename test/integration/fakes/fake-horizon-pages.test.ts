/**
 * The fake Horizon's history endpoints, read through the SDK's `Horizon.Server` the way the watcher reads them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Asset,
  Horizon,
  Keypair,
  Memo,
  Networks,
  NetworkError,
  NotFoundError,
  Transaction,
} from '@stellar/stellar-sdk';
import { startFakeHorizon, type FakeHorizon } from '../../fakes/fake-horizon.ts';
import type { BuiltTransaction, HorizonTransactionRecord } from '../../fakes/horizon-records.ts';
import type { SdkPayment } from './support.ts';

const issuer = Keypair.random();
const USDC = new Asset('USDC', issuer.publicKey());
const funder = Keypair.random();
const sender = Keypair.random();
const anchor = Keypair.random();
const stranger = Keypair.random();

let fake: FakeHorizon;
let server: Horizon.Server;
/** Everything appended, in order. */
const history: BuiltTransaction[] = [];
/** The ids of the anchor's payments (create_account included), in ledger order, failed ones included. */
let anchorOps: { id: string; successful: boolean; hash: string; memo?: string }[] = [];

beforeAll(async () => {
  fake = await startFakeHorizon();
  server = new Horizon.Server(fake.url, { allowHttp: true });
  history.push(
    fake.appendPayment({
      type: 'create_account',
      from: funder,
      destination: anchor.publicKey(),
      startingBalance: '5',
    }),
  );
  for (let i = 0; i < 24; i++) {
    history.push(
      fake.appendPayment({
        from: sender,
        destination: anchor.publicKey(),
        asset: USDC,
        amount: `${i + 1}.5`,
        memo: Memo.text(`memo-${i}`),
        successful: i !== 7,
      }),
    );
    // Noise: payments the anchor takes no part in.
    if (i % 5 === 0)
      history.push(fake.appendPayment({ from: sender, destination: stranger.publicKey(), amount: '1' }));
  }
  anchorOps = history
    .filter((b) =>
      b.operations.some((o) => (o.type === 'create_account' ? o.account : o.to) === anchor.publicKey()),
    )
    .map((b) => ({
      id: b.operations[0]!.id,
      successful: b.transaction.successful,
      hash: b.transaction.hash,
      memo: b.transaction.memo,
    }));
});

afterAll(async () => {
  await fake?.close();
});

const successfulIds = () => anchorOps.filter((o) => o.successful).map((o) => o.id);

describe('GET /accounts/:id/payments through the SDK', () => {
  it('pages ascending with limit and next(), in ledger order, skipping failed ones by default', async () => {
    let page = await server.payments().forAccount(anchor.publicKey()).limit(10).join('transactions').call();
    const seen: string[] = [];
    const sizes: number[] = [];
    while (page.records.length > 0) {
      sizes.push(page.records.length);
      seen.push(...page.records.map((r) => r.id));
      page = await page.next();
    }
    expect(sizes).toEqual([10, 10, 4]);
    expect(seen).toEqual(successfulIds());
    expect(seen.map(BigInt)).toEqual([...seen.map(BigInt)].sort((a, b) => (a < b ? -1 : 1)));
  });

  it('resumes after a cursor, and pages descending', async () => {
    const ids = successfulIds();
    const after = await server.payments().forAccount(anchor.publicKey()).cursor(ids[4]!).limit(3).call();
    expect(after.records.map((r) => r.id)).toEqual(ids.slice(5, 8));

    const desc = await server.payments().forAccount(anchor.publicKey()).order('desc').limit(5).call();
    expect(desc.records.map((r) => r.id)).toEqual(ids.slice(-5).reverse());
    const older = await desc.next();
    expect(older.records.map((r) => r.id)).toEqual(ids.slice(-10, -5).reverse());
    const back = await older.prev();
    expect(back.records.map((r) => r.id)).toEqual(ids.slice(-5));
  });

  it('includes failed ones with include_failed=true, marked transaction_successful false', async () => {
    const page = await server.payments().forAccount(anchor.publicKey()).includeFailed(true).limit(200).call();
    expect(page.records.map((r) => r.id)).toEqual(anchorOps.map((o) => o.id));
    const failed = page.records.filter((r) => !r.transaction_successful);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.id).toBe(anchorOps[8]!.id);
  });

  it('lists create_account for both the funder and the funded account; the type tells them apart', async () => {
    const funded = await server.payments().forAccount(anchor.publicKey()).limit(1).call();
    const funding = await server.payments().forAccount(funder.publicKey()).call();
    expect(funded.records[0]).toMatchObject({
      type: 'create_account',
      type_i: 0,
      account: anchor.publicKey(),
    });
    expect(funding.records.map((r) => r.id)).toEqual([funded.records[0]!.id]);
  });

  it('join=transactions embeds the transaction: memo readable at transaction_attr', async () => {
    const page = await server
      .payments()
      .forAccount(anchor.publicKey())
      .cursor(anchorOps[0]!.id)
      .limit(2)
      .join('transactions')
      .call();
    const [first] = page.records as SdkPayment[];
    expect(first!.transaction_attr).toMatchObject({
      hash: anchorOps[1]!.hash,
      memo_type: 'text',
      memo: 'memo-0',
      successful: true,
    });
    expect(
      await (first as unknown as { transaction: () => Promise<{ hash: string }> }).transaction(),
    ).toMatchObject({
      hash: anchorOps[1]!.hash,
    });
    const envelope = new Transaction(first!.transaction_attr!.envelope_xdr, Networks.TESTNET);
    expect(Buffer.from(envelope.hash()).toString('hex')).toBe(first!.transaction_hash);
  });

  it("has Horizon's page shape: HAL links with every parameter kept, sorted", async () => {
    const response = await fetch(
      `${fake.url}/accounts/${anchor.publicKey()}/payments?join=transactions&limit=2`,
    );
    expect(response.headers.get('content-type')).toBe('application/hal+json; charset=utf-8');
    expect(response.headers.get('latest-ledger')).toBe(String(fake.latestLedger));
    const body = (await response.json()) as {
      _links: Record<string, { href: string }>;
      _embedded: { records: { id: string; transaction: HorizonTransactionRecord }[] };
    };
    const path = `${fake.url}/accounts/${anchor.publicKey()}/payments`;
    const [a, b] = body._embedded.records;
    expect(body._links).toEqual({
      self: { href: `${path}?cursor=&join=transactions&limit=2&order=asc` },
      next: { href: `${path}?cursor=${b!.id}&join=transactions&limit=2&order=asc` },
      prev: { href: `${path}?cursor=${a!.id}&join=transactions&limit=2&order=desc` },
    });
    expect(Object.keys(body._embedded.records[1]!).slice(0, 11)).toEqual([
      '_links',
      'id',
      'paging_token',
      'transaction_successful',
      'source_account',
      'type',
      'type_i',
      'created_at',
      'transaction_hash',
      'transaction',
      'asset_type',
    ]);
  });

  it('answers problem+json 400 for bad parameters, as Horizon does', async () => {
    const bad = async (query: string) => {
      const response = await fetch(`${fake.url}/accounts/${anchor.publicKey()}/payments?${query}`);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      return ((await response.json()) as { extras: { invalid_field: string } }).extras.invalid_field;
    };
    expect(await bad('limit=201')).toBe('limit');
    expect(await bad('limit=0')).toBe('limit');
    expect(await bad('cursor=abc')).toBe('cursor');
    expect(await bad('order=up')).toBe('order');
    expect(await bad('include_failed=yes')).toBe('include_failed');
    expect(await bad('join=ledgers')).toBe('join');
    await expect(server.payments().forAccount(anchor.publicKey()).limit(201).call()).rejects.toBeInstanceOf(
      NetworkError,
    );
    const invalidAccount = await fetch(`${fake.url}/accounts/GNOTANACCOUNT/payments`);
    expect(invalidAccount.status).toBe(400);
  });

  it("GET /payments lists everyone's payments; GET /operations/:id one, joined on request", async () => {
    const all = await server.payments().limit(200).call();
    expect(all.records.map((r) => r.id)).toEqual(
      history.filter((b) => b.transaction.successful).map((b) => b.operations[0]!.id),
    );
    const one = anchorOps[1]!;
    const record = await server.operations().operation(one.id).join('transactions').call();
    expect(record).toMatchObject({ id: one.id, transaction_attr: { hash: one.hash, memo: one.memo } });
    expect((await fetch(`${fake.url}/operations/1`)).status).toBe(404);
  });

  it('an account with no history has an empty page, not a 404', async () => {
    const page = await server.payments().forAccount(Keypair.random().publicKey()).call();
    expect(page.records).toEqual([]);
  });
});

describe('transactions', () => {
  it('GET /accounts/:id/transactions lists the transactions the account takes part in', async () => {
    const page = await server
      .transactions()
      .forAccount(anchor.publicKey())
      .includeFailed(true)
      .limit(200)
      .call();
    expect(page.records.map((r) => r.hash)).toEqual(anchorOps.map((o) => o.hash));
    const strangers = await server.transactions().forAccount(stranger.publicKey()).call();
    expect(strangers.records).toHaveLength(5);
    const bySender = await server.transactions().forAccount(sender.publicKey()).limit(200).call();
    expect(bySender.records).toHaveLength(23 + 5);
  });

  it('GET /transactions/:hash returns the record, failed ones too; 404 when unknown', async () => {
    const failed = anchorOps[8]!;
    const record = await server.transactions().transaction(failed.hash).call();
    expect(record).toMatchObject({
      id: failed.hash,
      hash: failed.hash,
      successful: false,
      memo: failed.memo,
    });
    await expect(server.transactions().transaction('0'.repeat(64)).call()).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect((await fetch(`${fake.url}/transactions/XYZ`)).status).toBe(400);
  });

  it('a fee bump is found by its hash and by its inner hash', async () => {
    const payer = Keypair.random();
    const built = fake.appendPayment({
      from: sender,
      destination: stranger.publicKey(),
      amount: '3',
      feeBump: { feeSource: payer },
    });
    const outer = await server.transactions().transaction(built.transaction.hash).call();
    const inner = await server.transactions().transaction(built.innerHash!).call();
    expect(outer).toMatchObject({ hash: built.transaction.hash, fee_account: payer.publicKey() });
    expect(inner).toMatchObject({
      hash: built.innerHash,
      paging_token: outer.paging_token,
      fee_bump_transaction: { hash: built.transaction.hash },
      inner_transaction: { hash: built.innerHash },
    });
    const paid = await server.transactions().forAccount(payer.publicKey()).call();
    expect(paid.records.map((r) => r.hash)).toEqual([built.transaction.hash]);
  });
});

describe('controls', () => {
  it('failNext(n, status): the next n requests fail with a problem, then service resumes; all logged', async () => {
    const before = fake.requestLog.length;
    fake.failNext(2, 503);
    const call = () => server.payments().forAccount(anchor.publicKey()).limit(1).call();
    await expect(call()).rejects.toBeInstanceOf(NetworkError);
    await expect(call()).rejects.toMatchObject({ response: { status: 503 } });
    await expect(call()).resolves.toMatchObject({ records: [{ type: 'create_account' }] });
    fake.failNext(1, 503);
    const raw = await fetch(`${fake.url}/`);
    expect(raw.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(await raw.json()).toMatchObject({
      type: 'https://stellar.org/horizon-errors/service_unavailable',
      title: 'Service Unavailable',
      status: 503,
    });
    expect(fake.requestLog.slice(before).map((r) => [r.path, r.status])).toEqual([
      [`/accounts/${anchor.publicKey()}/payments`, 503],
      [`/accounts/${anchor.publicKey()}/payments`, 503],
      [`/accounts/${anchor.publicKey()}/payments`, 200],
      ['/', 503],
    ]);
  });

  it('failNext with a filter only fails matching requests', async () => {
    fake.failNext(1, 500, (request) => request.path.endsWith('/transactions'));
    await expect(server.payments().forAccount(anchor.publicKey()).limit(1).call()).resolves.toBeDefined();
    await expect(server.transactions().forAccount(anchor.publicKey()).call()).rejects.toMatchObject({
      response: { status: 500 },
    });
    await expect(server.transactions().forAccount(anchor.publicKey()).call()).resolves.toBeDefined();
  });

  it('the root reports the latest ledger; appends land in later ledgers, never earlier', async () => {
    const root = (await (await fetch(`${fake.url}/`)).json()) as { history_latest_ledger: number };
    expect(root.history_latest_ledger).toBe(fake.latestLedger);
    const next = fake.appendPayment({ from: sender, destination: stranger.publicKey(), amount: '1' });
    expect(next.transaction.ledger).toBe(root.history_latest_ledger + 1);
    const same = fake.appendPayment(
      { from: sender, destination: stranger.publicKey(), amount: '1' },
      { ledger: next.transaction.ledger },
    );
    expect(BigInt(same.transaction.paging_token)).toBeGreaterThan(BigInt(next.transaction.paging_token));
    expect(() =>
      fake.appendPayment(
        { from: sender, destination: stranger.publicKey(), amount: '1' },
        { ledger: next.transaction.ledger - 1 },
      ),
    ).toThrow(RangeError);
  });
});
