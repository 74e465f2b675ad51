import { amounts, type FeeDetails } from '../../machines/index.ts';
import { toJson } from './columns.ts';
import type { Executor } from './database.ts';
import type { QuoteRow } from './quotes.table.ts';

/** A firm quote as Mooring works with it (amounts canonical, dates as Dates). */
export interface Quote {
  id: string;
  account: string;
  memo: string | null;
  context: string;
  sellAsset: string;
  sellAmount: string;
  sellDeliveryMethod: string | null;
  buyAsset: string;
  buyAmount: string;
  buyDeliveryMethod: string | null;
  countryCode: string | null;
  price: string;
  totalPrice: string;
  fee: FeeDetails;
  expiresAt: Date;
  createdAt: Date;
  transactionId: string | null;
}

/** Stores a new quote; false when one with its id exists already (a repeated create). */
export async function insertQuote(db: Executor, quote: Omit<Quote, 'transactionId'>): Promise<boolean> {
  const inserted = await db
    .insertInto('quotes')
    .values({
      id: quote.id,
      account: quote.account,
      memo: quote.memo,
      context: quote.context,
      sell_asset: quote.sellAsset,
      sell_amount: quote.sellAmount,
      sell_delivery_method: quote.sellDeliveryMethod,
      buy_asset: quote.buyAsset,
      buy_amount: quote.buyAmount,
      buy_delivery_method: quote.buyDeliveryMethod,
      country_code: quote.countryCode,
      price: quote.price,
      total_price: quote.totalPrice,
      fee: toJson(quote.fee),
      expires_at: quote.expiresAt,
      created_at: quote.createdAt,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function findQuote(db: Executor, id: string): Promise<Quote | null> {
  const row = await db.selectFrom('quotes').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? quoteOf(row) : null;
}

function quoteOf(row: QuoteRow): Quote {
  return {
    id: row.id,
    account: row.account,
    memo: row.memo,
    context: row.context,
    sellAsset: row.sell_asset,
    sellAmount: amounts.normalizeAmount(row.sell_amount),
    sellDeliveryMethod: row.sell_delivery_method,
    buyAsset: row.buy_asset,
    buyAmount: amounts.normalizeAmount(row.buy_amount),
    buyDeliveryMethod: row.buy_delivery_method,
    countryCode: row.country_code,
    price: amounts.normalizeAmount(row.price),
    totalPrice: amounts.normalizeAmount(row.total_price),
    fee: row.fee,
    expiresAt: new Date(row.expires_at),
    createdAt: new Date(row.created_at),
    transactionId: row.transaction_id,
  };
}

/**
 * Takes an unused quote for a transaction in one statement (the row lock decides between two racing
 * transactions; no check-then-write). False when the quote is gone or another transaction has it. The
 * unique `transaction_id` keeps a transaction to one quote.
 */
export async function claimQuote(db: Executor, quoteId: string, transactionId: string): Promise<boolean> {
  const claimed = await db
    .updateTable('quotes')
    .set({ transaction_id: transactionId })
    .where('id', '=', quoteId)
    .where('transaction_id', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return claimed !== undefined;
}
