/**
 * Firm SEP-38 quotes as actors of the actor host, one per quote at `quote:<id>`. `POST /quote` prices the
 * quote (the rates integration, exact decimals) and sends it here; the actor stores it inside the host's
 * database transaction, like every other write. A create repeated on the bus (redelivery) finds the quote
 * stored and answers `applied` again; the same id with other terms is refused (`exists`), never overwritten.
 *
 * Using a quote (`transaction_id`, unique) is done by the transaction actor that is created on it, in the
 * same database transaction (`transaction-batch.ts`).
 */
import type { Transaction } from 'kysely';
import type { Delivery } from '../bus/index.ts';
import type { Database } from '../db/database.ts';
import { insertEffects, type NewOutboxEffect } from '../db/outbox.repository.ts';
import { findQuote, insertQuote, type Quote } from '../db/quotes.repository.ts';
import { businessEventEffects, quoteEvent, type BusinessEventKind } from '../effects/business-events.ts';
import { quoteView } from '../views/sep38-quote.ts';
import { recordRefusedMessages, type RefusedMessage } from '../db/refused-messages.repository.ts';
import type { ActorKind } from './actor-host.ts';
import { isQuoteMessage, parseAddress, type QuoteMessageBody, type QuoteReply } from './messages.ts';

export interface QuoteActorsOptions {
  /** Outbox kinds of business events (`businessEventKinds(config)`): a `quote_created` per new quote. */
  eventKinds?: readonly BusinessEventKind[];
  clock?: () => Date;
}

export function createQuoteActors(options: QuoteActorsOptions = {}): ActorKind {
  const clock = options.clock ?? (() => new Date());
  return { apply };

  async function apply(
    trx: Transaction<Database>,
    items: readonly { delivery: Delivery; address: string }[],
  ): Promise<{ answers: QuoteReply[]; effectKinds: ReadonlySet<string> }> {
    const refusals: RefusedMessage[] = [];
    const answers: QuoteReply[] = [];
    const effects: NewOutboxEffect[] = [];
    for (const { delivery, address } of items) {
      const parsed = parseAddress(address);
      const body = delivery.message.body;
      if (parsed?.kind !== 'quote' || !isQuoteMessage(body)) {
        const reason = parsed?.kind !== 'quote' ? `not a quote address: ${address}` : 'not a quote message';
        refusals.push(refusal(delivery, address, 'malformed', reason));
        answers.push({ outcome: 'refused', code: 'malformed', reason });
        continue;
      }
      const quote = quoteRecord(parsed.id, body);
      const answer = await create(trx, quote);
      if (answer.outcome === 'applied' && answer.created && options.eventKinds?.length) {
        effects.push(...businessEventEffects(quoteEvent(quoteView(quote), clock()), options.eventKinds));
      }
      if (answer.outcome === 'refused') refusals.push(refusal(delivery, address, answer.code, answer.reason));
      answers.push(answer);
    }
    await recordRefusedMessages(trx, refusals);
    await insertEffects(trx, effects);
    return { answers, effectKinds: new Set(effects.map((e) => e.kind)) };
  }
}

function quoteRecord(id: string, body: QuoteMessageBody): Omit<Quote, 'transactionId'> {
  const { quote } = body;
  return { ...quote, id, expiresAt: new Date(quote.expiresAt), createdAt: new Date(quote.createdAt) };
}

async function create(trx: Transaction<Database>, quote: Omit<Quote, 'transactionId'>): Promise<QuoteReply> {
  const { id } = quote;
  const created = await insertQuote(trx, quote);
  if (created) return { outcome: 'applied', quoteId: id, created: true };
  const stored = await findQuote(trx, id);
  const same =
    stored !== null &&
    stored.account === quote.account &&
    stored.sellAmount === quote.sellAmount &&
    stored.buyAmount === quote.buyAmount &&
    stored.expiresAt.getTime() === quote.expiresAt.getTime();
  return same
    ? { outcome: 'applied', quoteId: id, created: false }
    : { outcome: 'refused', code: 'exists', reason: `another quote has the id ${id}` };
}

function refusal(delivery: Delivery, address: string, code: string, reason: string): RefusedMessage {
  return {
    actor: address,
    messageId: delivery.message.id,
    kind: 'quote',
    code,
    reason,
    payload: delivery.message.body,
  };
}
