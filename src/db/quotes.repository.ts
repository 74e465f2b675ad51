import { sql } from 'kysely';
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
  return (await claimQuotes(db, [{ quoteId, transactionId }])).has(quoteId);
}

/**
 * Takes unused quotes for new transactions, set-based: the ids of the quotes taken. A quote another
 * database transaction took first (committed while this one waited for the row) is left out, so the caller
 * compares. Rows are locked in id order: two batches claiming overlapping quotes never deadlock.
 */
export async function claimQuotes(
  db: Executor,
  claims: readonly { quoteId: string; transactionId: string }[],
): Promise<Set<string>> {
  if (claims.length === 0) return new Set();
  const wanted = sql.join(claims.map((c) => sql`(${c.quoteId}::text, ${c.transactionId}::text)`));
  const { rows } = await sql<{ id: string }>`
    with wanted (quote_id, transaction_id) as (values ${wanted}),
    free as (
      select q.id from quotes q join wanted w on w.quote_id = q.id
      where q.transaction_id is null
      order by q.id
      for update of q
    )
    update quotes set transaction_id = w.transaction_id
    from wanted w join free f on f.id = w.quote_id
    where quotes.id = w.quote_id
    returning quotes.id`.execute(db);
  return new Set(rows.map((row) => row.id));
}

/**
 * What a create on a quote is checked against, for the quotes of a batch's creates (JSON-safe columns,
 * `readTogether`): who holds each, and whether it expired by `now`.
 */
export function findQuoteClaimsQuery(db: Executor, ids: readonly string[], now: Date) {
  if (ids.length === 0) return null;
  return db
    .selectFrom('quotes')
    .select(['id', 'transaction_id', sql<boolean>`expires_at <= ${now}`.as('expired')])
    .where('id', 'in', [...ids]);
}
