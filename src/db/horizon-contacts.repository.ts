import type { Executor } from './database.ts';

/** Records that the watcher reached Horizon for `account` at `at` (never moves back). */
export async function recordHorizonContact(db: Executor, account: string, at: Date): Promise<void> {
  await db
    .insertInto('horizon_contacts')
    .values({ account, reached_at: at })
    .onConflict((oc) =>
      oc.column('account').doUpdateSet({ reached_at: at }).where('horizon_contacts.reached_at', '<', at),
    )
    .execute();
}

/** The last contact of each of `accounts` that has one. */
export async function readHorizonContacts(
  db: Executor,
  accounts: readonly string[],
): Promise<Map<string, Date>> {
  if (accounts.length === 0) return new Map();
  const rows = await db
    .selectFrom('horizon_contacts')
    .select(['account', 'reached_at'])
    .where('account', 'in', [...accounts])
    .execute();
  return new Map(rows.map((row) => [row.account, row.reached_at]));
}
