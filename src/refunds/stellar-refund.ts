/**
 * Sends one refund on Stellar, idempotently: whatever crashes or retries happen, the refund is paid at most
 * once.
 *
 * The envelope is built once, with the next sequence number of the sending account, signed, and stored
 * (XDR and hash, compare-and-set) BEFORE it is submitted. Every later attempt, after a crash or a timeout,
 * first looks the stored hash up on Horizon (`GET /transactions/:hash`): found, the refund is settled;
 * not found, the SAME envelope is submitted again. A new envelope replaces it only when Horizon proves the
 * old one can never apply: the account's sequence number has moved past it (read BEFORE the hash look-up,
 * so an envelope applied in between is found by the look-up), or Horizon answers `tx_too_late`.
 */
import type { Keypair } from '@stellar/stellar-sdk';
import {
  Asset,
  Horizon,
  Memo,
  NotFoundError,
  Operation,
  TransactionBuilder,
  type Transaction,
} from '@stellar/stellar-sdk';
import type { Kysely } from 'kysely';
import { crashPoint } from '../crash-points.ts';
import type { Database } from '../db/database.ts';
import {
  ensureRefund,
  markRefundConfirmed,
  markRefundFailed,
  noteRefundError,
  storeEnvelope,
  type RefundOrder,
} from '../db/refunds.repository.ts';
import type { RefundRow } from '../db/refunds.table.ts';

/** The refund reached a ledger: its Stellar transaction hash. */
export interface RefundSent {
  hash: string;
  ledger: number | null;
}

/** The refund will not be paid (nothing left the account, or a failed transaction consumed only a fee). */
export class RefundRejectedError extends Error {
  override name = 'RefundRejectedError';
}

export interface StellarRefundOptions {
  db: Kysely<Database>;
  horizonUrl: string;
  networkPassphrase: string;
  /** A signer of every sending account (the distribution accounts). */
  signer: Keypair;
  clock?: () => Date;
  /** Seconds an envelope stays valid (its max time); default 300. */
  validForSeconds?: number;
  /** Stroops per operation offered as the fee; default 100 000 (0.01 XLM), to get into busy ledgers. */
  baseFee?: string;
}

export interface StellarRefunds {
  /** Stores the refund (once per key), and sends it unless it was already; resolves once it is on a ledger. */
  send(order: RefundOrder): Promise<RefundSent>;
}

/** Result codes that prove an envelope was not applied and never will be. */
const NEVER_APPLIES = new Set(['tx_too_late', 'tx_bad_seq']);

export function stellarRefunds(options: StellarRefundOptions): StellarRefunds {
  const { db, networkPassphrase, signer } = options;
  const clock = options.clock ?? (() => new Date());
  const server = new Horizon.Server(options.horizonUrl, {
    allowHttp: options.horizonUrl.startsWith('http://'),
  });

  async function lookUp(
    hash: string,
  ): Promise<{ successful: boolean; ledger: number; codes: string } | null> {
    try {
      const record = await server.transactions().transaction(hash).call();
      return { successful: record.successful, ledger: record.ledger_attr, codes: record.result_xdr };
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  }

  async function build(row: RefundRow): Promise<Transaction> {
    const account = await server.loadAccount(row.source_account);
    const asset =
      row.asset_code === 'native' ? Asset.native() : new Asset(row.asset_code, row.asset_issuer ?? undefined);
    const builder = new TransactionBuilder(account, {
      fee: options.baseFee ?? '100000',
      networkPassphrase,
    })
      .addOperation(Operation.payment({ destination: row.destination, asset, amount: row.amount }))
      .setTimeout(options.validForSeconds ?? 300);
    const memo = memoOf(row.memo_type, row.memo);
    if (memo !== null) builder.addMemo(memo);
    const tx = builder.build();
    tx.sign(signer);
    return tx;
  }

  /** A fresh envelope, stored over `replaces` (null: none yet); the stored one if another sender won. */
  async function replaceEnvelope(row: RefundRow, replaces: string | null): Promise<RefundRow> {
    const tx = await build(row);
    const envelope = {
      xdr: tx.toXDR(),
      hash: Buffer.from(tx.hash()).toString('hex'),
      sequence: tx.sequence,
    };
    await storeEnvelope(db, row.refund_key, replaces, envelope, clock());
    const stored = await db
      .selectFrom('refunds')
      .selectAll()
      .where('refund_key', '=', row.refund_key)
      .executeTakeFirstOrThrow();
    crashPoint('refund.signed');
    return stored;
  }

  async function confirm(row: RefundRow, sent: RefundSent): Promise<RefundSent> {
    await markRefundConfirmed(db, row.refund_key, sent.hash, sent.ledger, clock());
    return sent;
  }

  async function reject(row: RefundRow, reason: string): Promise<never> {
    await markRefundFailed(db, row.refund_key, reason, clock());
    throw new RefundRejectedError(reason);
  }

  return {
    async send(order) {
      let row = await ensureRefund(db, order, clock());
      if (row.state === 'confirmed') return { hash: row.transaction_hash!, ledger: row.ledger };
      if (row.state === 'failed') throw new RefundRejectedError(row.last_error ?? 'the refund failed');
      // A few rounds at most: each either settles, submits, or replaces a dead envelope.
      for (let round = 0; round < 4; round++) {
        if (row.envelope_xdr === null || row.transaction_hash === null || row.sequence === null) {
          try {
            row = await replaceEnvelope(row, null);
          } catch (error) {
            // Nothing was signed yet: a sending account that does not exist can never pay it.
            if (error instanceof NotFoundError) {
              return reject(row, `the sending account ${row.source_account} does not exist`);
            }
            throw error;
          }
          continue;
        }
        const hash = row.transaction_hash;
        // The account first, then the hash: an envelope applied in between is found by the look-up.
        const account = await server.loadAccount(row.source_account);
        const found = await lookUp(hash);
        if (found !== null) {
          if (found.successful) return confirm(row, { hash, ledger: found.ledger });
          return reject(row, `refund transaction ${hash} failed on the ledger`);
        }
        if (BigInt(account.sequenceNumber()) >= BigInt(row.sequence)) {
          // Its sequence number is used by another transaction and it is not on the ledger: it never will be.
          row = await replaceEnvelope(row, hash);
          continue;
        }
        const tx = TransactionBuilder.fromXDR(row.envelope_xdr, networkPassphrase);
        try {
          const result = await server.submitTransaction(tx, { skipMemoRequiredCheck: true });
          crashPoint('refund.submitted');
          return confirm(row, { hash: result.hash, ledger: result.ledger });
        } catch (error) {
          const codes = resultCodes(error);
          if (codes === null) {
            // No answer (timeout, 5xx): unknown, the same envelope is looked up and resubmitted next time.
            await noteRefundError(db, row.refund_key, errorText(error), clock());
            throw error;
          }
          if (NEVER_APPLIES.has(codes.transaction)) {
            // A bad sequence may still be ours applied meanwhile: the next round looks the hash up first.
            if (codes.transaction === 'tx_too_late') row = await replaceEnvelope(row, hash);
            continue;
          }
          const text = `Horizon refused the refund: ${codes.transaction}${codes.operations.length > 0 ? ` (${codes.operations.join(', ')})` : ''}`;
          // tx_failed is on the ledger (a fee, no payment); the rest never reached it. Either way, not paid.
          return reject(row, text);
        }
      }
      throw new Error(`refund ${order.refundKey}: could not get an envelope onto the ledger; will retry`);
    },
  };
}

function memoOf(type: string | null, value: string | null): Memo | null {
  if (type === null || value === null || type === 'none') return null;
  switch (type) {
    case 'text':
      return Memo.text(value);
    case 'id':
      return Memo.id(value);
    case 'hash':
      return Memo.hash(Buffer.from(value, /^[0-9a-f]{64}$/i.test(value) ? 'hex' : 'base64').toString('hex'));
    case 'return':
      return Memo.return(
        Buffer.from(value, /^[0-9a-f]{64}$/i.test(value) ? 'hex' : 'base64').toString('hex'),
      );
    default:
      return null;
  }
}

/** Horizon's `extras.result_codes` of a refused submission, or null when Horizon gave no verdict. */
function resultCodes(error: unknown): { transaction: string; operations: string[] } | null {
  const response = (error as { response?: { status?: number; data?: unknown } }).response;
  if (response?.status !== 400) return null;
  const codes = (
    response.data as { extras?: { result_codes?: { transaction?: string; operations?: string[] } } }
  )?.extras?.result_codes;
  if (typeof codes?.transaction !== 'string') return null;
  return { transaction: codes.transaction, operations: codes.operations ?? [] };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
