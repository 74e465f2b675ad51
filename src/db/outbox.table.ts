import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely';
import type { BigSerial, DefaultTimestamp, Json, Timestamp } from './columns.ts';

export const OUTBOX_STATES = ['pending', 'in_flight', 'done', 'failed'] as const;
export type OutboxState = (typeof OUTBOX_STATES)[number];

/** Effects committed with the state change that caused them; a relay claims and carries them out. */
export interface OutboxTable {
  id: BigSerial;
  /** null for effects that belong to no transaction. */
  transaction_id: string | null;
  /** `seq` of the event that caused the effect. */
  seq: number | null;
  kind: string;
  payload: Json<unknown>;
  idempotency_key: string;
  state: ColumnType<OutboxState, OutboxState | undefined, OutboxState>;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: DefaultTimestamp;
  claimed_by: string | null;
  claim_expires_at: Timestamp | null;
  last_error: string | null;
  created_at: DefaultTimestamp;
  completed_at: Timestamp | null;
}

export type OutboxRow = Selectable<OutboxTable>;
export type NewOutboxRow = Insertable<OutboxTable>;
export type OutboxRowUpdate = Updateable<OutboxTable>;
