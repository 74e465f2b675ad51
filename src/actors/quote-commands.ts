/**
 * The command port of the SEP-38 quote actors: `create` is a bus request to `quote:<id>`, answered once
 * the quote is committed. No answer in time rejects with `CommandUnavailableError` (HTTP answers 503; the
 * quote is either stored under an id nobody was told, or not at all).
 */
import type { EventBus } from '../bus/index.ts';
import { requestActor, type CommandOptions } from './commands.ts';
import { quoteAddress, type QuoteMessageBody, type QuoteReply } from './messages.ts';

export type NewQuote = QuoteMessageBody['quote'];

export interface QuoteCommands {
  create(id: string, quote: NewQuote): Promise<QuoteReply>;
}

export function createQuoteCommands(bus: EventBus, options: CommandOptions = {}): QuoteCommands {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    create: (id, quote) =>
      requestActor(
        bus,
        {
          id: `quote-create:${id}`,
          to: quoteAddress(id),
          body: { type: 'create', quote } satisfies QuoteMessageBody,
        },
        timeoutMs,
        asReply,
      ),
  };
}

function asReply(value: unknown): QuoteReply {
  const outcome = (value as { outcome?: unknown } | null)?.outcome;
  if (outcome === 'applied' || outcome === 'refused') return value as QuoteReply;
  throw new Error(`unexpected answer from a quote actor: ${JSON.stringify(value)}`);
}
