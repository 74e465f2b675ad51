/**
 * SEP-10 challenges exchanged for a token, so each challenge gives one token (a replayed signed challenge
 * is refused, also across instances).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { redeemChallenge } from '../db/sep10-challenges.repository.ts';

export interface ChallengeStore {
  /** Records the challenge `hash` as exchanged (kept until `keepUntil`); false when it already was. */
  redeem(hash: string, keepUntil: Date, now: Date): Promise<boolean>;
}

export function challengeStore(db: Kysely<Database>): ChallengeStore {
  return { redeem: (hash, keepUntil, now) => redeemChallenge(db, hash, keepUntil, now) };
}
