/**
 * A firm SEP-38 quote as `POST /quote` and `GET /quote/:id` show it, and as its business event carries it.
 * Pure: shared by HTTP and the quote actors.
 * @see https://github.com/stellar/stellar-protocol/blob/master/ecosystem/sep-0038.md#post-quote
 */
import type { FeeDetails } from '../../machines/index.ts';
import type { Quote } from '../db/quotes.repository.ts';

export interface Sep38Quote {
  id: string;
  expires_at: string;
  total_price: string;
  price: string;
  sell_asset: string;
  sell_amount: string;
  sell_delivery_method?: string;
  buy_asset: string;
  buy_amount: string;
  buy_delivery_method?: string;
  fee: FeeDetails;
}

/** The same body for POST and GET (retrievable after expiry). */
export function quoteView(quote: Omit<Quote, 'transactionId'>): Sep38Quote {
  return {
    id: quote.id,
    expires_at: quote.expiresAt.toISOString(),
    total_price: quote.totalPrice,
    price: quote.price,
    sell_asset: quote.sellAsset,
    sell_amount: quote.sellAmount,
    ...(quote.sellDeliveryMethod !== null && { sell_delivery_method: quote.sellDeliveryMethod }),
    buy_asset: quote.buyAsset,
    buy_amount: quote.buyAmount,
    ...(quote.buyDeliveryMethod !== null && { buy_delivery_method: quote.buyDeliveryMethod }),
    fee: quote.fee,
  };
}
