/**
 * The expire worker: transactions whose sender never paid are ended at their deadline (`expires_at`, from
 * the quote or the configured payment deadline). Candidates are those waiting for funds (`pending_sender`,
 * `pending_receiver` before the account is assigned) and those halted in `error` before any funds arrived;
 * the machine's guard has the last word (deadline passed, nothing received). A payment that lands first
 * wins: the actor then refuses EXPIRE, which counts as "moved on".
 */
import { sql } from 'kysely';
import { EventRejectedError } from '../actors/errors.ts';
import { toJson } from '../db/columns.ts';
import { DEFAULT_BATCH_SIZE, errorText, type PassDeps } from './worker-deps.ts';

export type ExpireDeps = PassDeps;

export interface ExpireCounts {
  /** Unfunded transactions past their deadline. */
  due: number;
  expired: number;
  /** Already expired (duplicate), or funded/moved on before EXPIRE reached the actor. */
  movedOn: number;
  errors: number;
}

const PREPARING = toJson({ pending_receiver: 'preparing' });

export function expireEventId(transactionId: string): string {
  return `expire:${transactionId}`;
}

/** One pass: EXPIRE to every unfunded transaction whose deadline has passed. */
export async function runExpirePass(deps: ExpireDeps): Promise<ExpireCounts> {
  const { db, host, log } = deps;
  const batchSize = deps.batchSize ?? DEFAULT_BATCH_SIZE;
  const now = (deps.clock ?? (() => new Date()))();
  const counts: ExpireCounts = { due: 0, expired: 0, movedOn: 0, errors: 0 };
  let after = '';
  for (;;) {
    const rows = await db
      .selectFrom('transactions')
      .select('id')
      .where('expires_at', '<=', now)
      .where((eb) =>
        eb.or([
          eb('status', '=', 'pending_sender'),
          eb.and([
            eb('status', '=', 'pending_receiver'),
            eb(sql`state_value`, '=', sql`${PREPARING}::jsonb`),
          ]),
          eb.and([eb('status', '=', 'error'), eb('stellar_operation_id', 'is', null)]),
        ]),
      )
      .where('id', '>', after)
      .orderBy('id')
      .limit(batchSize)
      .execute();
    for (const { id } of rows) {
      counts.due++;
      try {
        const outcome = await host.apply({
          eventId: expireEventId(id),
          transactionId: id,
          event: { type: 'EXPIRE', at: now.toISOString() },
        });
        if (outcome.outcome === 'applied') counts.expired++;
        else counts.movedOn++;
      } catch (error) {
        if (error instanceof EventRejectedError) {
          counts.movedOn++;
        } else {
          counts.errors++;
          log?.error({ transactionId: id, err: error }, `expiry failed: ${errorText(error)}`);
        }
      }
    }
    if (rows.length < batchSize) break;
    after = rows.at(-1)!.id;
  }
  return counts;
}
