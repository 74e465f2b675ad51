// The side panel of an open transaction: its fields, what it would accept now, and every event with its payload.
import type { ViewerTransaction } from '../api.ts';
import { byId, h, time } from './dom.ts';

/** `stellar:USDC:GA…` → `USDC`, `iso4217:EUR` → `EUR`; anything else as it is. */
function assetCode(asset: string): string {
  const parts = asset.split(':');
  return parts.length >= 2 ? (parts[1] ?? asset) : asset;
}

function amount(value: string, asset: string): HTMLElement {
  return h('span', { title: asset }, `${value} ${assetCode(asset)}`);
}

function payloadText(payload: unknown): string {
  try {
    return JSON.stringify(payload, null, 2) ?? String(payload);
  } catch {
    return String(payload);
  }
}

export class TransactionPanel {
  private readonly panel = byId('transaction-panel');
  private readonly title = byId('transaction-title');
  private readonly summary = byId('transaction-summary');
  private readonly accepts = byId('accepts');
  private readonly acceptsNone = byId('accepts-none');
  private readonly events = byId('transaction-events');

  show(tx: ViewerTransaction): void {
    const open = new Set(
      [...this.events.querySelectorAll('details[open]')].map((d) =>
        d.closest('[data-seq]')?.getAttribute('data-seq'),
      ),
    );
    this.title.textContent = tx.id;
    const rows: [string, Node | string][] = [
      ['Status', h('span', { class: 'status-chip' }, tx.status)],
      ['State', h('span', { title: tx.state }, tx.state.split('.').slice(1).join('.') || tx.state)],
      ['Amount in', amount(tx.amountIn, tx.amountInAsset)],
      ['Amount out', amount(tx.amountOut, tx.amountOutAsset)],
      ['Sending anchor', h('span', { class: 'wrap' }, tx.sendingAnchor)],
      ['Started', time(tx.startedAt)],
      ['Updated', time(tx.updatedAt)],
      ['Completed', time(tx.completedAt)],
      ['Version', String(tx.version)],
    ];
    this.summary.replaceChildren(...rows.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]));

    this.accepts.replaceChildren(...tx.accepts.map((type) => h('li', { class: 'chip' }, type)));
    this.acceptsNone.hidden = tx.accepts.length > 0;

    this.events.replaceChildren(
      ...tx.events.map((event) =>
        h(
          'li',
          { class: 'event', 'data-seq': String(event.seq) },
          h(
            'div',
            { class: 'event-head' },
            h('span', { class: 'seq' }, `#${event.seq}`),
            h('strong', { class: 'type' }, event.eventType),
            time(event.at),
          ),
          h(
            'div',
            { class: 'event-status' },
            event.stateBefore === null ? 'created' : localState(event.stateBefore),
            ' → ',
            h('span', { title: `SEP-31 status: ${event.statusAfter}` }, localState(event.stateAfter)),
          ),
          h(
            'details',
            { open: open.has(String(event.seq)) },
            h('summary', {}, 'Payload'),
            h('pre', {}, payloadText(event.payload)),
          ),
        ),
      ),
    );
    this.panel.hidden = false;
  }

  hide(): void {
    this.panel.hidden = true;
    this.title.textContent = '';
    this.summary.replaceChildren();
    this.accepts.replaceChildren();
    this.events.replaceChildren();
  }
}

/** A state id without the machine's id: `transaction.pending_receiver.ready` → `pending_receiver.ready`. */
function localState(id: string): string {
  return id.slice(id.indexOf('.') + 1);
}
