import type { Selectable } from 'kysely';
import type { FeeDetails } from '../../machines/index.ts';
import type { Decimal, Json, Timestamp } from './columns.ts';

/** Firm SEP-38 quotes (indicative prices are never stored). */
export interface QuotesTable {
  id: string;
  /** The SEP-10 base account that asked for it: the only one who may read or use it. */
  account: string;
  memo: string | null;
  context: string;
  sell_asset: string;
  sell_amount: Decimal;
  sell_delivery_method: string | null;
  buy_asset: string;
  buy_amount: Decimal;
  buy_delivery_method: string | null;
  country_code: string | null;
  price: Decimal;
  total_price: Decimal;
  fee: Json<FeeDetails>;
  expires_at: Timestamp;
  created_at: Timestamp;
  /** The one transaction that used the quote (unique); null while unused. */
  transaction_id: string | null;
}

export type QuoteRow = Selectable<QuotesTable>;
