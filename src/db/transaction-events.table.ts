import type { Insertable, Selectable } from 'kysely';
import type { TransactionStatus } from '../../machines/transaction/statuses.ts';
import type { BigSerial, DefaultTimestamp, Json } from './columns.ts';
import type { StateValue } from './transactions.table.ts';

/** Append-only log of what happened to each transaction, in order (`seq`). */
export interface TransactionEventsTable {
  id: BigSerial;
  transaction_id: string;
  /** 1, 2, 3... per transaction; unique, so two writers cannot both append the same step. */
  seq: number;
  /** The envelope's `eventId`; unique per transaction, so a redelivered event is applied once. */
  event_id: string;
  event_type: string;
  payload: Json<unknown>;
  /** null for the creation. */
  status_before: TransactionStatus | null;
  status_after: TransactionStatus;
  /** The full state value after the event (sub-states included); null on rows written before it existed. */
  state_after: Json<StateValue> | null;
  /** The operator whose call sent the event (`X-Operator` of POST /operator/rpc); null for Mooring's own. */
  operator: string | null;
  /** The transition taken (machines' `transitionKey`); null for the creation and on older rows. */
  transition: string | null;
  created_at: DefaultTimestamp;
}

export type TransactionEventRow = Selectable<TransactionEventsTable>;
export type NewTransactionEventRow = Insertable<TransactionEventsTable>;
