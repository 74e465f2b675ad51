import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { findQuote, type Quote } from '../db/quotes.repository.ts';

export type { Quote };

export interface QuoteQueries {
  /** A firm quote of `account` (SEP-10 base account), or null: another account's quote is not found. */
  quote(id: string, account: string): Promise<Quote | null>;
}

export function quoteQueries(db: Kysely<Database>): QuoteQueries {
  return {
    async quote(id, account) {
      const quote = await findQuote(db, id);
      return quote !== null && quote.account === account ? quote : null;
    },
  };
}
