import type { Executor } from './database.ts';

/**
 * Records that the challenge `hash` was exchanged for a token. Returns false when it already was (a
 * replay), also when another instance redeems it concurrently: the primary key decides.
 *
 * Rows whose `expiresAt` is before `now` are deleted first; `expiresAt` must therefore be no earlier than
 * the last moment the challenge could still be accepted.
 */
export async function redeemChallenge(
  db: Executor,
  hash: string,
  expiresAt: Date,
  now: Date,
): Promise<boolean> {
  await db.deleteFrom('sep10_challenges').where('expires_at', '<', now).execute();
  const row = await db
    .insertInto('sep10_challenges')
    .values({ hash, expires_at: expiresAt })
    .onConflict((oc) => oc.column('hash').doNothing())
    .returning('hash')
    .executeTakeFirst();
  return row !== undefined;
}
