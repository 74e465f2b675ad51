// The console's lists: the transactions of a state (a count clicked) or of a search, and the unmatched payments.
// Each reads one page at a time from the server (newest first) and adds the next page on "More".
import { VIEWER_PATHS } from '../api.ts';
import type { ViewerPage, ViewerTransactionSummary, ViewerUnmatchedPayment } from '../api.ts';
import type { ConfirmDialog } from './actions.ts';
import { byId, h, time } from './dom.ts';
import { assetCode } from './format.ts';
import { api } from './http.ts';
import { unmatchedItem } from './transaction-panel.ts';

/** What a transaction list shows: a state's transactions, or those a search finds. */
export type ListQuery = { state: string } | { q: string };

function url(path: string, params: Record<string, string | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) search.set(name, value);
  return `${path}?${search.toString()}`;
}

export class TransactionList {
  private readonly card = byId('list-panel');
  private readonly title = byId('list-title');
  private readonly list = byId('list-items');
  private readonly empty = byId('list-empty');
  private readonly more = byId<HTMLButtonElement>('list-more');
  private readonly error = byId('list-error');
  private query: ListQuery | null = null;
  private next: string | null = null;

  constructor(open: (id: string) => void) {
    this.list.addEventListener('click', (event) => {
      const id = (event.target as Element).closest('[data-transaction]')?.getAttribute('data-transaction');
      if (id) open(id);
    });
    this.more.addEventListener('click', () => void this.load(false));
    byId('list-close').addEventListener('click', () => this.hide());
  }

  /** Shows the first page of `query`; resolves with it. */
  async show(query: ListQuery): Promise<ViewerPage<ViewerTransactionSummary>> {
    this.query = query;
    this.next = null;
    this.title.textContent = 'state' in query ? query.state.split('.').slice(1).join('.') : `“${query.q}”`;
    this.list.replaceChildren();
    this.card.hidden = false;
    return this.load(true);
  }

  hide(): void {
    this.query = null;
    this.card.hidden = true;
    this.list.replaceChildren();
  }

  private async load(first: boolean): Promise<ViewerPage<ViewerTransactionSummary>> {
    const query = this.query;
    const empty = { items: [], next: null };
    if (query === null) return empty;
    this.error.textContent = '';
    this.more.disabled = true;
    try {
      const page = await api<ViewerPage<ViewerTransactionSummary>>(
        url(VIEWER_PATHS.transactions, { ...query, before: first ? null : this.next }),
      );
      if (this.query !== query) return page;
      this.list.append(...page.items.map(summaryItem));
      this.next = page.next;
      this.more.hidden = page.next === null;
      this.empty.hidden = this.list.children.length > 0;
      return page;
    } catch (error) {
      this.error.textContent = error instanceof Error ? error.message : String(error);
      return empty;
    } finally {
      this.more.disabled = false;
    }
  }
}

function summaryItem(tx: ViewerTransactionSummary): HTMLElement {
  return h(
    'li',
    {},
    h(
      'button',
      { type: 'button', class: 'list-item', 'data-transaction': tx.id, title: `Open transaction ${tx.id}` },
      h('code', { class: 'which' }, tx.id),
      h('span', { class: 'status' }, tx.state.split('.').slice(1).join('.')),
      h('span', { class: 'amount' }, `${tx.amountIn} ${assetCode(tx.amountInAsset)}`),
      time(tx.startedAt),
      tx.statusMessage === null ? null : h('span', { class: 'reason' }, tx.statusMessage),
    ),
  );
}

export class UnmatchedList {
  private readonly list = byId('unmatched-items');
  private readonly empty = byId('unmatched-empty');
  private readonly more = byId<HTMLButtonElement>('unmatched-more');
  private next: string | null = null;
  private readonly dialog: ConfirmDialog;

  constructor(dialog: ConfirmDialog) {
    this.dialog = dialog;
    this.more.addEventListener('click', () => void this.load(false));
    byId('unmatched-refresh').addEventListener('click', () => void this.load(true));
  }

  async load(first = true): Promise<void> {
    const page = await api<ViewerPage<ViewerUnmatchedPayment>>(
      url(VIEWER_PATHS.unmatched, { before: first ? null : this.next }),
    );
    const items = page.items.map((p) => unmatchedItem(p, this.dialog, () => void this.load(true)));
    if (first) this.list.replaceChildren(...items);
    else this.list.append(...items);
    this.next = page.next;
    this.more.hidden = page.next === null;
    this.empty.hidden = this.list.children.length > 0;
  }
}
