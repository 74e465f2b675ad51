import type { ColumnType } from 'kysely';

/** timestamptz: read as a Date; written as a Date or an ISO 8601 string. */
export type Timestamp = ColumnType<Date, Date | string, Date | string>;

/** A timestamptz the database fills in (`default now()`) unless given. */
export type DefaultTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;

/**
 * numeric(30, 7): read and written as a decimal string, never a JS number, so no amount is ever rounded
 * through a float.
 */
export type Decimal = string;

/**
 * jsonb: read as `T`; written as JSON text (see `toJson`). Text is the one encoding pg and PGlite agree on:
 * pg sends a JS array as a Postgres array literal, which jsonb rejects.
 */
export type Json<T> = ColumnType<T, string, string>;

/** jsonb with a column default. */
export type DefaultJson<T> = ColumnType<T, string | undefined, string>;

/** bigserial: pg and our PGlite parsers return int8 as a string, so no id is rounded past 2^53. */
export type BigSerial = ColumnType<string, never, never>;

export function toJson(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError('value is not JSON-serialisable');
  return text;
}
