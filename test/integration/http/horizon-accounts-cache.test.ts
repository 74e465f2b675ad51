import { Keypair, Networks, TransactionBuilder, type Transaction } from '@stellar/stellar-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHorizonAccounts } from '../../../src/stellar/horizon-accounts-sdk.ts';
import { startFakeHorizon, type FakeHorizon } from '../../fakes/fake-horizon.ts';
import { buildTestApp, type TestApp } from '../../helpers/app.ts';

/** Horizon account look-ups behind a short cache: SEP-10 bursts do not spend the anchor's Horizon quota. */
describe('Horizon account look-ups', () => {
  let horizon: FakeHorizon;

  beforeAll(async () => {
    horizon = await startFakeHorizon();
  });
  afterAll(async () => {
    await horizon?.close();
  });

  const lookUps = (account: string) =>
    horizon.requests.filter((request) => request.url === `/accounts/${account}`).length;

  it('300 look-ups of one account, at once and one after another, reach Horizon once', async () => {
    const accounts = createHorizonAccounts(horizon.url);
    const account = Keypair.random().publicKey();
    horizon.addAccount(account);
    const together = await Promise.all(Array.from({ length: 150 }, () => accounts.loadAccount(account)));
    for (let i = 0; i < 150; i += 1) await accounts.loadAccount(account);
    expect(together.every((found) => found?.signers[0]?.key === account)).toBe(true);
    expect(lookUps(account)).toBe(1);
  });

  it('keeps "no such account" too', async () => {
    const accounts = createHorizonAccounts(horizon.url);
    const missing = Keypair.random().publicKey();
    for (let i = 0; i < 20; i += 1) expect(await accounts.loadAccount(missing)).toBeNull();
    expect(lookUps(missing)).toBe(1);
  });

  it('does not keep a failure: the next look-up asks again', async () => {
    const accounts = createHorizonAccounts(horizon.url);
    const account = Keypair.random().publicKey();
    horizon.addAccount(account);
    horizon.failNext(1, 503, (request) => request.url === `/accounts/${account}`);
    await expect(accounts.loadAccount(account)).rejects.toThrow();
    expect(await accounts.loadAccount(account)).not.toBeNull();
    expect(lookUps(account)).toBe(2);
  });

  it('asks again once the entry has expired', async () => {
    const accounts = createHorizonAccounts(horizon.url, { ttlMs: 1 });
    const account = Keypair.random().publicKey();
    horizon.addAccount(account);
    await accounts.loadAccount(account);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await accounts.loadAccount(account);
    expect(lookUps(account)).toBe(2);
  });

  describe('through SEP-10', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await buildTestApp({ horizon: createHorizonAccounts(horizon.url) });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('30 sign-ins of one account cost one Horizon look-up', async () => {
      const client = Keypair.random();
      horizon.addAccount(client.publicKey());
      for (let i = 0; i < 30; i += 1) {
        const challenge = await t.app.inject({
          method: 'GET',
          url: '/auth',
          query: { account: client.publicKey() },
        });
        const tx = TransactionBuilder.fromXdr(
          challenge.json<{ transaction: string }>().transaction,
          Networks.TESTNET,
        ) as Transaction;
        tx.sign(client);
        const token = await t.app.inject({
          method: 'POST',
          url: '/auth',
          payload: { transaction: tx.toXdr() },
        });
        expect(token.statusCode, token.body).toBe(200);
      }
      expect(lookUps(client.publicKey())).toBe(1);
    });
  });
});
