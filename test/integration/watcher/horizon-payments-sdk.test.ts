import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Asset, Keypair, Memo } from '@stellar/stellar-sdk';
import { filter, firstValueFrom, from, take, toArray } from 'rxjs';
import { HorizonStreamError, createHorizonPaymentSource } from '../../../src/stellar/horizon-payments-sdk.ts';
import { isHeartbeat, type HorizonPaymentRecord } from '../../../streams/index.ts';
import { startFakeHorizon, type FakeHorizon } from '../../fakes/fake-horizon.ts';
import { eventually } from './support.ts';

const ISSUER = Keypair.random().publicKey();
const USDC = new Asset('USDC', ISSUER);

describe('Horizon payment source over the SDK', () => {
  let horizon: FakeHorizon;
  const account = Keypair.random().publicKey();
  const sender = Keypair.random();

  beforeAll(async () => {
    horizon = await startFakeHorizon();
  });
  afterAll(() => horizon.close());

  it('pages ascending from a cursor with the embedded transaction (memo) and without failed ones', async () => {
    const source = createHorizonPaymentSource(horizon.url);
    const memo = Buffer.alloc(32, 7);
    const first = horizon.pay({
      from: sender,
      destination: account,
      asset: USDC,
      amount: '5',
      memo: Memo.hash(memo),
    });
    horizon.pay({ from: sender, destination: account, asset: USDC, amount: '6', successful: false });
    const third = horizon.pay({ from: sender, destination: account, asset: USDC, amount: '7' });

    const page = await firstValueFrom(from(source.page(account, '0', 200)));
    expect(page.records.map((r) => r.id)).toEqual([first.operations[0]!.id, third.operations[0]!.id]);
    expect(page.records[0]).toMatchObject({
      type: 'payment',
      to: account,
      amount: '5.0000000',
      asset_code: 'USDC',
      transaction_hash: first.transaction.hash,
      transaction_attr: { memo_type: 'hash', memo: memo.toString('base64'), hash: first.transaction.hash },
    });
    const request = horizon.requestLog.findLast((r) => r.path === `/accounts/${account}/payments`)!;
    expect(new URL(request.url, horizon.url).searchParams.toString()).toContain('order=asc');
    expect(request.url).toContain('join=transactions');
    expect(request.url).toContain('include_failed=false');

    const next = await firstValueFrom(from(source.page(account, first.operations[0]!.paging_token, 1)));
    expect(next.records.map((r) => r.id)).toEqual([third.operations[0]!.id]);
    expect(await firstValueFrom(from(source.latest!(account)))).toBe(third.operations[0]!.paging_token);
    expect(await firstValueFrom(from(source.latest!(Keypair.random().publicKey())))).toBeNull();
  });

  it('streams live records after the cursor and closes the connection on unsubscribe', async () => {
    const source = createHorizonPaymentSource(horizon.url);
    const cursor = (await firstValueFrom(from(source.latest!(account))))!;
    const received = firstValueFrom(
      from(source.stream(account, cursor)).pipe(
        filter((item): item is HorizonPaymentRecord => !isHeartbeat(item)),
        take(2),
        toArray(),
      ),
    );
    await eventually(() => expect(horizon.openStreams().length).toBe(1));
    const a = horizon.pay({ from: sender, destination: account, asset: USDC, amount: '8' });
    const b = horizon.pay({ from: sender, destination: account, asset: USDC, amount: '9' });
    const records = await received;
    expect(records.map((r) => r.id)).toEqual([a.operations[0]!.id, b.operations[0]!.id]);
    expect(records[0]!.transaction_attr).toMatchObject({ hash: a.transaction.hash });
    await eventually(() => expect(horizon.openStreams()).toEqual([]));
  });

  it('ends the Observable with an error when the connection drops, instead of hiding it', async () => {
    const source = createHorizonPaymentSource(horizon.url);
    const failed = new Promise<unknown>((resolve) => {
      from(source.stream(account, 'now')).subscribe({ error: resolve });
    });
    await eventually(() => expect(horizon.openStreams().length).toBe(1));
    horizon.dropStreams();
    expect(await failed).toBeInstanceOf(HorizonStreamError);
    await eventually(() => expect(horizon.openStreams()).toEqual([]));
  });

  it('rejects a page when Horizon answers 503', async () => {
    const source = createHorizonPaymentSource(horizon.url);
    horizon.failNext(1, 503);
    await expect(firstValueFrom(from(source.page(account, '0', 10)))).rejects.toThrow();
  });
});
