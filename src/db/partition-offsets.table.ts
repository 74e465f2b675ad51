import type { Selectable } from 'kysely';
import type { Timestamp } from './columns.ts';

/** How far an actor host applied each bus partition, committed with what it applied. */
export interface PartitionOffsetsTable {
  /** The bus stream the positions belong to (`EventBus.stream`). */
  stream: string;
  partition: number;
  /** `EventBus.epoch` when the position was written. */
  epoch: string;
  /** The last applied position (int8, read as a string). */
  position: string | number;
  updated_at: Timestamp;
}

export type PartitionOffsetRow = Selectable<PartitionOffsetsTable>;
