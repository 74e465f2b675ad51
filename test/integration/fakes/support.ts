/** Helpers for the fake Horizon's own tests: polling with a deadline, raw SSE reads, SDK stream collection. */
import type { Horizon } from '@stellar/stellar-sdk';
import type { HorizonTransactionRecord } from '../../fakes/horizon-records.ts';

/** Polls `probe` every 5 ms until it returns something truthy; fails after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => T | undefined | null | false,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Reads an SSE response as raw text until `until(text)` holds or the server ends it, then aborts.
 * Returns the text and whether the server ended the stream itself.
 */
export async function readSse(
  url: string,
  headers: Record<string, string> = {},
  until: (text: string) => boolean = () => false,
  timeoutMs = 10_000,
): Promise<{ status: number; contentType: string | null; text: string; ended: boolean }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetch(url, {
      headers: { accept: 'text/event-stream', ...headers },
      signal: controller.signal,
    });
    const contentType = response.headers.get('content-type');
    if (!response.body) return { status: response.status, contentType, text: '', ended: true };
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (value) text += decoder.decode(value, { stream: !done });
      if (done) return { status: response.status, contentType, text, ended: true };
      if (until(text)) {
        controller.abort();
        return { status: response.status, contentType, text, ended: false };
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

/** Parses SSE text into events (fields per event), comments dropped. */
export function parseSse(text: string): { id?: string; event?: string; data?: string; retry?: string }[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '' && !block.startsWith(':'))
    .map((block) => {
      const event: Record<string, string> = {};
      for (const line of block.split('\n')) {
        const at = line.indexOf(': ');
        event[line.slice(0, at)] = line.slice(at + 2);
      }
      return event;
    });
}

/** A streamed or paged payment record as the SDK hands it over (`transaction_attr` is untyped in the SDK). */
export type SdkPayment = Horizon.ServerApi.OperationRecord & {
  amount?: string;
  to?: string;
  transaction_attr?: HorizonTransactionRecord;
};

/** Opens an SDK stream and collects what it delivers. */
export function collect(
  builder: { stream(options: Record<string, unknown>): () => void },
  options: { reconnectTimeout?: number } = {},
): { records: SdkPayment[]; errors: unknown[]; close: () => void } {
  const records: SdkPayment[] = [];
  const errors: unknown[] = [];
  const close = builder.stream({
    onmessage: (record: SdkPayment) => records.push(record),
    onerror: (error: unknown) => errors.push(error),
    ...options,
  });
  return { records, errors, close };
}
