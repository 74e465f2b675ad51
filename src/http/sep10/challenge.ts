/**
 * SEP-10 (v3.4.1) challenge issuing and verification over the SDK's `WebAuth` helpers. Every failure is a
 * MooringError('bad_request') (400 `{"error": ...}`); Horizon being unreachable is 503.
 * @see https://github.com/stellar/stellar-protocol/blob/master/ecosystem/sep-0010.md
 */
import { Keypair, MuxedAccount, StrKey, WebAuth, type Horizon, type Transaction } from '@stellar/stellar-sdk';
import type { Config } from '../../config/index.ts';
import { MooringError } from '../../errors.ts';
import type { AccountSigners, HorizonAccounts } from '../../stellar/horizon-accounts.ts';

/** Challenge validity (SEP-10 recommends 15 minutes). `buildChallengeTx` defaults to 300: always pass it. */
export const CHALLENGE_TIMEOUT_SECONDS = 900;
/** `readChallengeTx` still accepts a challenge this long after its maxTime. */
export const SDK_TIME_GRACE_SECONDS = 300;
/** Lifetime of the JWT we issue. */
export const TOKEN_TTL_SECONDS = 24 * 60 * 60;

const UINT64_MAX = 2n ** 64n - 1n;

type SepConfig = Pick<Config, 'homeDomain' | 'networkPassphrase' | 'signingKey' | 'signingSecret'>;

export interface ChallengeRequest {
  /** `G...` or `M...`. */
  account: string;
  /** Canonical decimal id memo, only with a `G...` account. */
  memo: string | null;
}

function bad(message: string, cause?: unknown): MooringError {
  return new MooringError('bad_request', message, {}, cause === undefined ? undefined : { cause });
}

/** Checks `account`, `memo` and `home_domain` of `GET /auth`. */
export function checkChallengeRequest(
  config: Pick<Config, 'homeDomain'>,
  query: { account: string; memo?: string | undefined; home_domain?: string | undefined },
): ChallengeRequest {
  const { account } = query;
  const muxed = StrKey.isValidMed25519PublicKey(account);
  if (!muxed && !StrKey.isValidEd25519PublicKey(account)) {
    throw bad('account must be a valid Stellar account (G...) or muxed account (M...)');
  }
  if (
    query.home_domain !== undefined &&
    query.home_domain.toLowerCase() !== config.homeDomain.toLowerCase()
  ) {
    throw bad(
      `home_domain ${JSON.stringify(query.home_domain)} is not served here; use ${config.homeDomain}`,
    );
  }
  let memo: string | null = null;
  if (query.memo !== undefined) {
    if (muxed) throw bad('memo cannot be used with a muxed account (M...)');
    if (!/^\d{1,20}$/.test(query.memo) || BigInt(query.memo) > UINT64_MAX) {
      throw bad('memo must be an id memo: an unsigned 64-bit integer');
    }
    memo = BigInt(query.memo).toString();
  }
  return { account, memo };
}

/** The signed challenge transaction (base64 envelope XDR). */
export function issueChallenge(
  config: SepConfig,
  request: ChallengeRequest,
  clientDomain: { domain: string; signingKey: string } | null,
): string {
  return WebAuth.buildChallengeTx(
    Keypair.fromSecret(config.signingSecret),
    request.account,
    config.homeDomain,
    CHALLENGE_TIMEOUT_SECONDS,
    config.networkPassphrase,
    webAuthDomain(config),
    request.memo,
    clientDomain?.domain ?? null,
    clientDomain?.signingKey ?? null,
  );
}

/** The host of our auth endpoint (`WEB_AUTH_ENDPOINT` is served under the home domain). */
function webAuthDomain(config: Pick<Config, 'homeDomain'>): string {
  return config.homeDomain;
}

export interface VerifiedChallenge {
  /** The JWT `sub`: `M...`, `G...:<memo>` or `G...`. */
  sub: string;
  /** Hex hash of the challenge: the JWT `jti` and the replay key. */
  hash: string;
  clientDomain: string | null;
  /** The last moment the SDK would still accept this challenge. */
  acceptableUntil: Date;
}

/**
 * Verifies a signed challenge: our own (readChallengeTx: format, time bounds, home and web auth domain,
 * server signature), then the client's signatures against the account on Horizon, or its master key only
 * when the account does not exist. Does not check replays.
 */
export async function verifyChallenge(
  config: SepConfig,
  horizon: HorizonAccounts,
  challenge: string,
): Promise<VerifiedChallenge> {
  let read: ReturnType<typeof WebAuth.readChallengeTx>;
  try {
    read = WebAuth.readChallengeTx(
      challenge,
      config.signingKey,
      config.networkPassphrase,
      config.homeDomain,
      webAuthDomain(config),
    );
  } catch (error) {
    throw bad(challengeMessage(error), error);
  }
  const { tx, clientAccountID, memo } = read;
  const muxed = StrKey.isValidMed25519PublicKey(clientAccountID);
  if (!muxed && !StrKey.isValidEd25519PublicKey(clientAccountID)) {
    throw bad('invalid challenge: the first operation source is not an account');
  }
  const account = muxed
    ? MuxedAccount.fromAddress(clientAccountID, '0').baseAccount().accountId()
    : clientAccountID;

  let onChain: AccountSigners | null;
  try {
    onChain = await horizon.loadAccount(account);
  } catch (error) {
    throw new MooringError('horizon_unavailable', undefined, {}, { cause: error });
  }

  try {
    if (onChain === null) {
      // SEP-10: a missing account may authenticate with its master key alone (plus the client domain key).
      WebAuth.verifyChallengeTxSigners(
        challenge,
        config.signingKey,
        config.networkPassphrase,
        [account],
        config.homeDomain,
        webAuthDomain(config),
      );
    } else {
      // Medium threshold, never below 1; a weight-0 signer (e.g. a disabled master key) counts for nothing.
      const threshold = Math.max(1, onChain.thresholds.med_threshold);
      const signers = onChain.signers.filter((s) => s.weight > 0) as Horizon.ServerApi.AccountRecordSigners[];
      WebAuth.verifyChallengeTxThreshold(
        challenge,
        config.signingKey,
        config.networkPassphrase,
        threshold,
        signers,
        config.homeDomain,
        webAuthDomain(config),
      );
    }
  } catch (error) {
    throw bad(challengeMessage(error), error);
  }

  return {
    sub: muxed ? clientAccountID : memo !== null ? `${account}:${memo}` : account,
    hash: Buffer.from(tx.hash()).toString('hex'),
    clientDomain: clientDomainOf(tx),
    acceptableUntil: new Date((Number(tx.timeBounds!.maxTime) + SDK_TIME_GRACE_SECONDS) * 1000),
  };
}

function clientDomainOf(tx: Transaction): string | null {
  for (const op of tx.operations) {
    if (op.type === 'manageData' && op.name === 'client_domain' && op.value !== undefined) {
      return new TextDecoder().decode(op.value);
    }
  }
  return null;
}

function challengeMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.toLowerCase().startsWith('invalid challenge') ? text : `invalid challenge: ${text}`;
}
