/**
 * Whether the watcher still reaches Horizon, per account. Every answer (a page, a stream record or
 * keep-alive, the latest payment) is contact; it is stored (at most every `recordEveryMs`) so that `/ready`
 * of any process can tell when the watcher has not reached Horizon for too long. An outage is logged
 * twice: one warning when it starts, one info line when it ends, never a stack per retry.
 */
import { catchError, defer, from, tap, throwError, type ObservableInput } from 'rxjs';
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { recordHorizonContact } from '../db/horizon-contacts.repository.ts';
import type { HorizonPaymentRecord, PaymentSource } from '../../streams/index.ts';
import type { WatcherLog } from './payment-watcher.ts';

/** Horizon did not answer: the outage is logged already, so the failure needs no log of its own. */
export class HorizonUnreachableError extends Error {
  constructor(cause: unknown) {
    super(`Horizon unreachable: ${messageOf(cause)}`, { cause });
    this.name = 'HorizonUnreachableError';
  }
}

export interface HorizonContactOptions {
  db: Kysely<Database>;
  account: string;
  log: WatcherLog;
  clock: () => Date;
  /** Contacts closer together than this are stored once. Default 10 s. */
  recordEveryMs?: number;
  /** Names the source in the outage lines (`Stellar RPC` when payments come from RPC). Default `Horizon`. */
  sourceName?: string;
}

export interface HorizonContact {
  /** The same source, noting every answer as contact and every failure of `latest` as unreachable. */
  source: PaymentSource<HorizonPaymentRecord>;
  /** The pipeline is reconnecting after `error`: starts an outage unless one is on or Horizon answered. */
  failed(error: unknown): void;
}

export function trackHorizonContact(
  source: PaymentSource<HorizonPaymentRecord>,
  options: HorizonContactOptions,
): HorizonContact {
  const { db, account, log, clock } = options;
  const recordEveryMs = options.recordEveryMs ?? 10_000;
  const name = options.sourceName ?? 'Horizon';
  let outageSince: Date | null = null;
  let recordedAt = -Infinity;

  function reached(): void {
    const now = clock();
    if (outageSince !== null) {
      log.info?.(
        { account, unreachableMs: now.getTime() - outageSince.getTime() },
        `${name} reachable again`,
      );
      outageSince = null;
    }
    if (now.getTime() - recordedAt < recordEveryMs) return;
    recordedAt = now.getTime();
    recordHorizonContact(db, account, now).catch((error: unknown) => {
      recordedAt = -Infinity;
      log.debug?.({ account, error: messageOf(error) }, `could not store the ${name} contact`);
    });
  }

  function failed(error: unknown): void {
    if (outageSince !== null || answered(error)) return;
    outageSince = clock();
    log.warn({ account, error: messageOf(error) }, `${name} unreachable; retrying with backoff`);
  }

  const noted = <T>(input: () => ObservableInput<T>) =>
    defer(() => from(input())).pipe(
      tap({
        next: reached,
        error: (error: unknown) => {
          if (answered(error)) reached();
        },
      }),
    );

  return {
    failed,
    source: {
      page: (acct, cursor, limit) => noted(() => source.page(acct, cursor, limit)),
      stream: (acct, cursor) => noted(() => source.stream(acct, cursor)),
      ...(source.latest && {
        latest: (acct: string) =>
          noted(() => source.latest!(acct)).pipe(
            catchError((error: unknown) => {
              if (answered(error)) return throwError(() => error);
              failed(error);
              return throwError(() => new HorizonUnreachableError(error));
            }),
          ),
      }),
    },
  };
}

/**
 * Horizon answered, though not with what was asked (e.g. 404 for an account not yet funded): it is
 * reachable. A 5xx or no answer at all (network error, timeout) is not. Covers the SDK's `NetworkError`
 * (`response.status`) and the stream's `HorizonStreamError` (`status`).
 */
function answered(error: unknown): boolean {
  const { status, response } = (error ?? {}) as { status?: unknown; response?: { status?: unknown } };
  const code = typeof status === 'number' ? status : response?.status;
  return typeof code === 'number' && code < 500;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
