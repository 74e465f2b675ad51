import type { Selectable } from 'kysely';
import type { BigSerial, DefaultTimestamp, Json } from './columns.ts';

/** Messages an actor refused (its state does not take them, or they are malformed): decided once, kept. */
export interface RefusedMessagesTable {
  id: BigSerial;
  /** The address, e.g. `transaction:<id>`. */
  actor: string;
  message_id: string;
  /** The message's kind, e.g. `event:PAYMENT_RECEIVED`, `create`. */
  kind: string;
  /** Machine-readable: `rejected`, `not_found`, `malformed`, … */
  code: string;
  reason: string;
  payload: Json<unknown>;
  created_at: DefaultTimestamp;
}

export type RefusedMessageRow = Selectable<RefusedMessagesTable>;
