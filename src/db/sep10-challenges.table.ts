import type { Insertable, Selectable } from 'kysely';
import type { DefaultTimestamp, Timestamp } from './columns.ts';

/** SEP-10 challenges already redeemed for a JWT, kept until the challenge can no longer be accepted. */
export interface Sep10ChallengesTable {
  /** Hex SHA-256 of the challenge transaction (`tx.hash()`); the primary key makes redemption unique. */
  hash: string;
  expires_at: Timestamp;
  created_at: DefaultTimestamp;
}

export type Sep10ChallengeRow = Selectable<Sep10ChallengesTable>;
export type NewSep10ChallengeRow = Insertable<Sep10ChallengesTable>;
