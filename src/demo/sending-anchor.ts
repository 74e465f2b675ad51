/**
 * A simulated SEP-31 sending anchor, using only the Stellar SDK and the SEP texts: stellar.toml → SEP-10
 * (challenge checked with `WebAuth.readChallengeTx`, signed, posted) → SEP-12 → SEP-31.
 */
import type { Keypair } from '@stellar/stellar-sdk';
import { StellarToml, TransactionBuilder, WebAuth, type Transaction } from '@stellar/stellar-sdk';

export interface SendingAnchor {
  toml: StellarToml.Api.StellarToml;
  /** PUT /customer; returns the customer id. */
  putCustomer(fields: Record<string, string>): Promise<string>;
  /** POST /transactions; returns Mooring's answer (id, stellar_account_id, stellar_memo, stellar_memo_type). */
  createTransaction(body: Record<string, string>): Promise<Record<string, string>>;
  registerCallback(transactionId: string, url: string): Promise<void>;
}

/** Reads the receiving anchor's stellar.toml and authenticates as `keypair` with SEP-10. */
export async function connectSendingAnchor(domain: string, keypair: Keypair): Promise<SendingAnchor> {
  const toml = await StellarToml.Resolver.resolve(domain, { allowHttp: true });
  const auth = toml.WEB_AUTH_ENDPOINT!;
  const challenge = (await expectJson(await fetch(`${auth}?account=${keypair.publicKey()}`))) as Record<
    string,
    string
  >;
  const passphrase = challenge.network_passphrase!;
  // Checks the server's signature, time bounds and domains before signing anything.
  WebAuth.readChallengeTx(challenge.transaction!, toml.SIGNING_KEY!, passphrase, domain, new URL(auth).host);
  const signed = TransactionBuilder.fromXDR(challenge.transaction!, passphrase) as Transaction;
  signed.sign(keypair);
  const { token } = (await expectJson(
    await fetch(auth, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ transaction: signed.toXDR() }),
    }),
  )) as { token: string };

  const call = async (method: string, url: string, body: unknown) =>
    fetch(url, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  return {
    toml,
    async putCustomer(fields) {
      return ((await expectJson(await call('PUT', `${toml.KYC_SERVER}/customer`, fields))) as { id: string })
        .id;
    },
    async createTransaction(body) {
      return (await expectJson(
        await call('POST', `${toml.DIRECT_PAYMENT_SERVER}/transactions`, body),
      )) as Record<string, string>;
    },
    async registerCallback(transactionId, url) {
      const path = `${toml.DIRECT_PAYMENT_SERVER}/transactions/${transactionId}/callback`;
      await expectJson(await call('PUT', path, { url }));
    },
  };
}

/** Registers the example sender (Ada Lovelace) and receiver (Grace Hopper, with bank details) with SEP-12. */
export async function registerExampleCustomers(
  anchor: SendingAnchor,
): Promise<{ senderId: string; receiverId: string }> {
  const senderId = await anchor.putCustomer({
    type: 'sep31-sender',
    memo: '1',
    first_name: 'Ada',
    last_name: 'Lovelace',
  });
  const receiverId = await anchor.putCustomer({
    type: 'sep31-receiver',
    memo: '2',
    first_name: 'Grace',
    last_name: 'Hopper',
    bank_account_number: '12345678',
    bank_number: '021000021',
  });
  return { senderId, receiverId };
}

async function expectJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!response.ok) throw new Error(`${response.url}: HTTP ${response.status} ${text}`);
  return text ? (JSON.parse(text) as unknown) : null;
}
