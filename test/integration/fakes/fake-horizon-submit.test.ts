/**
 * `POST /transactions` on the fake Horizon, through the SDK's own client: a valid payment lands on the
 * ledger (sequence, history, payments); a wrong sequence, a missing signature or a malformed envelope is
 * refused with Horizon's problem JSON and its `extras.result_codes`.
 */
import {
  Account,
  Asset,
  Horizon,
  Keypair,
  Memo,
  Networks,
  Operation,
  TransactionBuilder,
} from '@stellar/stellar-sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeHorizon, type FakeHorizon } from '../../fakes/fake-horizon.ts';

describe('fake Horizon transaction submission', () => {
  let horizon: FakeHorizon;
  const source = Keypair.random();
  const destination = Keypair.random().publicKey();
  beforeEach(async () => {
    horizon = await startFakeHorizon();
    horizon.addAccount(source.publicKey(), { sequence: '100' });
  });
  afterEach(() => horizon.close());

  const payment = (sequence: string, signer: Keypair | null = source) => {
    const tx = new TransactionBuilder(new Account(source.publicKey(), sequence), {
      fee: '100',
      networkPassphrase: Networks.TESTNET,
    })
      .addOperation(Operation.payment({ destination, asset: Asset.native(), amount: '3' }))
      .addMemo(Memo.text('refund'))
      .setTimeout(300)
      .build();
    if (signer) tx.sign(signer);
    return tx;
  };

  const post = (tx: string) =>
    fetch(`${horizon.url}/transactions`, { method: 'POST', body: new URLSearchParams({ tx }) });

  it('applies a signed payment with the next sequence: found by hash and in the payments', async () => {
    const server = new Horizon.Server(horizon.url, { allowHttp: true });
    const tx = payment('100');
    const result = await server.submitTransaction(tx, { skipMemoRequiredCheck: true });
    const hash = Buffer.from(tx.hash()).toString('hex');
    expect(result).toMatchObject({ hash, successful: true, envelope_xdr: tx.toXDR() });
    expect((await server.loadAccount(source.publicKey())).sequenceNumber()).toBe('101');
    const found = await server.transactions().transaction(hash).call();
    expect(found).toMatchObject({ memo: 'refund', source_account_sequence: '101' });
    const payments = await server.payments().forAccount(destination).call();
    expect(payments.records).toMatchObject([
      { from: source.publicKey(), to: destination, amount: '3.0000000' },
    ]);
    // Submitting it again answers the same transaction (nothing applied twice).
    expect((await post(tx.toXDR())).status).toBe(200);
    expect(horizon.submitted).toEqual([hash]);
  });

  it.each([
    ['a used sequence number', () => payment('99'), 'tx_bad_seq'],
    ['no signature', () => payment('100', null), 'tx_bad_auth'],
    ['a stranger’s signature', () => payment('100', Keypair.random()), 'tx_bad_auth'],
  ])('refuses %s with transaction_failed', async (_, build, code) => {
    const response = await post(build().toXDR());
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/problem\+json/);
    expect(await response.json()).toMatchObject({
      type: 'https://stellar.org/horizon-errors/transaction_failed',
      extras: { result_codes: { transaction: code } },
    });
    expect(horizon.submitted).toEqual([]);
  });

  it('refuses a malformed envelope', async () => {
    const response = await post('AAAA');
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      type: 'https://stellar.org/horizon-errors/transaction_malformed',
    });
  });
});
