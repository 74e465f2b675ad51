/**
 * Who a SEP-10 token names: the account, its memo, its muxed form. Shared by HTTP (the caller) and the
 * actors and workers (the sending anchor a transaction or customer belongs to).
 * @see https://github.com/stellar/stellar-protocol/blob/master/ecosystem/sep-0010.md
 */
import { MuxedAccount, StrKey } from '@stellar/stellar-sdk';

/** Who a SEP-10 token says the caller is. */
export interface Sep10Identity {
  /** The JWT `sub`: `G...`, `G...:<memo>` or `M...`. */
  sub: string;
  /** The base `G...` account (for `M...`, its underlying account). */
  account: string;
  /** The id memo from `G...:<memo>`, or the mux id of an `M...` account. */
  memo: string | null;
  /** The `M...` address when the client authenticated as a muxed account. */
  muxedAccount: string | null;
  clientDomain: string | null;
  /** The challenge transaction hash: one token per challenge. */
  jti: string;
}

/** The identity in a SEP-10 `sub` (`G...`, `G...:<memo>` or `M...`); throws for anything else. */
export function identityOf(sub: string, jti: string, clientDomain: string | null): Sep10Identity {
  if (StrKey.isValidMed25519PublicKey(sub)) {
    const muxed = MuxedAccount.fromAddress(sub, '0');
    return {
      sub,
      account: muxed.baseAccount().accountId(),
      memo: muxed.id(),
      muxedAccount: sub,
      clientDomain,
      jti,
    };
  }
  const [account = '', memo] = sub.split(':');
  if (!StrKey.isValidEd25519PublicKey(account) || (memo !== undefined && !/^\d{1,20}$/.test(memo))) {
    throw new Error(`not a SEP-10 subject: ${sub}`);
  }
  return { sub, account, memo: memo ?? null, muxedAccount: null, clientDomain, jti };
}
