/**
 * Which actor host owns which bus partition. Leases in PostgreSQL (`leases`): every host renews a
 * membership lease and the leases of its partitions every `leaseMs / 3`; a partition whose owner stopped
 * renewing is free once its lease expires, and the next tick of another host takes it. Each host aims
 * for its fair share (`ceil(partitions / live hosts)`): it takes free partitions up to it and hands back
 * what is above it, so a host that joins gets work within a few ticks. Hosts prefer partitions by
 * rendezvous hashing, so the assignment is stable while membership is.
 *
 * The lease gives liveness; safety comes from the partition offset each commit moves with a
 * compare-and-set (`moveOffsets`): a former owner that did not notice it lost a partition cannot commit.
 */
import { sql, type Kysely } from 'kysely';
import { EMPTY, catchError, exhaustMap, from, timer, type Subscription } from 'rxjs';
import type { Database } from '../db/database.ts';
import { acquireLease, releaseLease } from '../db/leases.repository.ts';
import { fnv1a32 } from '../bus/partition.ts';
import { outageLog } from '../outage-log.ts';

export interface OwnershipLog {
  info?(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface OwnershipOptions {
  db: Kysely<Database>;
  /** The bus stream the partitions belong to. */
  stream: string;
  partitions: number;
  /** Unique per process. */
  holder: string;
  /** How long a lease holds without renewal; renewed every third of it. */
  leaseMs: number;
  /** Starts working a partition this host just took. */
  onGain(partition: number): void;
  /** Stops working a partition (resolves once its commit in flight settled). */
  onLose(partition: number): Promise<void>;
  log: OwnershipLog;
  clock?: () => Date;
}

export interface Ownership {
  owned(): number[];
  /** Stops renewing, stops every partition and releases the leases, so others take over at once. */
  stop(): Promise<void>;
}

export const partitionLease = (stream: string, partition: number) => `actors:${stream}:${partition}`;
const memberLease = (stream: string, holder: string) => `actors:${stream}:member:${holder}`;

export function startOwnership(options: OwnershipOptions): Ownership {
  const { db, stream, partitions, holder, leaseMs, log } = options;
  const clock = options.clock ?? (() => new Date());
  const owned = new Set<number>();
  // This host's order of preference: partitions ranked by hash(holder, partition).
  const preference = Array.from({ length: partitions }, (_, p) => p).sort(
    (a, b) => fnv1a32(`${holder}/${a}`) - fnv1a32(`${holder}/${b}`),
  );
  let stopped = false;
  let tick: Promise<void> = Promise.resolve();
  const outage = outageLog(log, 'actor host leases');

  async function liveMembers(now: Date): Promise<number> {
    const row = await db
      .selectFrom('leases')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where(sql<boolean>`starts_with(name, ${memberLease(stream, '')})`)
      .where('expires_at', '>', now)
      .executeTakeFirstOrThrow();
    return Math.max(1, Number(row.count));
  }

  async function lose(partition: number, release: boolean): Promise<void> {
    owned.delete(partition);
    await options.onLose(partition);
    if (release) await releaseLease(db, partitionLease(stream, partition), holder);
  }

  async function rebalance(): Promise<void> {
    const now = clock();
    const lease = { holder, ttlMs: leaseMs, now };
    await acquireLease(db, { ...lease, name: memberLease(stream, holder) });
    const share = Math.ceil(partitions / (await liveMembers(now)));
    for (const partition of [...owned]) {
      if (stopped) return;
      if (!(await acquireLease(db, { ...lease, name: partitionLease(stream, partition) }))) {
        log.warn({ partition }, 'actor host lost a partition lease; stopping it');
        await lose(partition, false);
      }
    }
    // Above the fair share: hand back the least preferred ones.
    const mine = preference.filter((p) => owned.has(p));
    for (const partition of mine.slice(share).reverse()) {
      if (stopped) return;
      log.info?.({ partition, share }, 'actor host hands a partition back (rebalancing)');
      await lose(partition, true);
    }
    for (const partition of preference) {
      if (stopped || owned.size >= share) return;
      if (owned.has(partition)) continue;
      if (await acquireLease(db, { ...lease, name: partitionLease(stream, partition) })) {
        owned.add(partition);
        log.info?.({ partition }, 'actor host took a partition');
        options.onGain(partition);
      }
    }
  }

  const ticks: Subscription = timer(0, Math.max(10, Math.floor(leaseMs / 3)))
    .pipe(
      exhaustMap(() => {
        if (stopped) return EMPTY;
        tick = rebalance().then(() => outage.succeeded());
        return from(tick).pipe(
          catchError((error: unknown) => {
            // The database is away: keep trying; the leases expire if it stays away, as they should.
            outage.failed(error, 'could not renew the partition leases');
            return EMPTY;
          }),
        );
      }),
    )
    .subscribe();

  return {
    owned: () => [...owned].sort((a, b) => a - b),
    async stop() {
      if (stopped) return;
      stopped = true;
      ticks.unsubscribe();
      await tick.catch(() => undefined);
      await Promise.all([...owned].map((partition) => lose(partition, true).catch(() => undefined)));
      await releaseLease(db, memberLease(stream, holder), holder).catch(() => undefined);
    },
  };
}

/** Leases of this stream's partitions whose holder is `holder` (tests, operators). */
export async function partitionsHeldBy(
  db: Kysely<Database>,
  stream: string,
  holder: string,
): Promise<number[]> {
  const rows = await db
    .selectFrom('leases')
    .select('name')
    .where('holder', '=', holder)
    .where(sql<boolean>`starts_with(name, ${`actors:${stream}:`})`)
    .where(sql<boolean>`not starts_with(name, ${memberLease(stream, '')})`)
    .where('expires_at', '>', sql<Date>`now()`)
    .execute();
  return rows.map((row) => Number(row.name.slice(row.name.lastIndexOf(':') + 1))).sort((a, b) => a - b);
}
