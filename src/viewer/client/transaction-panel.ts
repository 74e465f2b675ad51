// The side panel of an open transaction: its fields (amounts expected and received, why it is in its state), the
// actions its state accepts, its unmatched payments, and every event with its payload.
import type { ViewerTransaction, ViewerUnmatchedPayment } from '../api.ts';
import { actionsFor, REFUND_UNMATCHED, type ConfirmDialog } from './actions.ts';
import { byId, h, time } from './dom.ts';
import { assetCode, withDecimals } from './format.ts';

function amount(value: string | null, asset: string | null, decimals: Record<string, number>): Node | string {
  if (value === null || asset === null) return h('span', { class: 'muted' }, '–');
  return h(
    'span',
    { title: asset, class: 'amount' },
    `${withDecimals(value, decimals[asset])} ${assetCode(asset)}`,
  );
}

function payloadText(payload: unknown): string {
  try {
    return JSON.stringify(payload, null, 2) ?? String(payload);
  } catch {
    return String(payload);
  }
}

/** An unmatched payment as a list item, with its refund action when it has not been refunded. */
export function unmatchedItem(
  payment: ViewerUnmatchedPayment,
  dialog: ConfirmDialog,
  done: () => void,
): HTMLElement {
  const refund =
    payment.refundedAt === null
      ? h('button', { type: 'button', class: 'action', 'data-method': REFUND_UNMATCHED }, 'Refund')
      : null;
  refund?.addEventListener('click', () => {
    void dialog
      .ask({
        title: 'Refund an unmatched payment',
        about: `${payment.amount} ${assetCode(payment.asset)} from ${payment.fromAccount ?? 'an unknown account'} (${payment.reason})`,
        method: REFUND_UNMATCHED,
        fields: [],
        params: () => ({ operation_id: payment.operationId }),
      })
      .then((sent) => sent && done());
  });
  return h(
    'li',
    { class: 'unmatched', 'data-unmatched': payment.id },
    h(
      'div',
      { class: 'event-head' },
      h('strong', {}, `${payment.amount} ${assetCode(payment.asset)}`),
      time(payment.at),
    ),
    h('div', { class: 'muted' }, payment.reason),
    h('code', { class: 'wrap', title: 'Stellar transaction hash' }, payment.transactionHash),
    payment.refundedAt === null
      ? refund
      : h('div', { class: 'muted' }, 'refunded ', time(payment.refundedAt)),
  );
}

export class TransactionPanel {
  private readonly panel = byId('transaction-panel');
  private readonly title = byId('transaction-title');
  private readonly summary = byId('transaction-summary');
  private readonly accepts = byId('accepts');
  private readonly acceptsNone = byId('accepts-none');
  private readonly events = byId('transaction-events');
  private readonly actions = byId('actions');
  private readonly actionsNone = byId('actions-none');
  private readonly unmatched = byId('transaction-unmatched');
  private readonly unmatchedBlock = byId('transaction-unmatched-block');

  private readonly dialog: ConfirmDialog;
  /** Something was done to the transaction: read it again. */
  private readonly changed: (id: string) => void;

  constructor(dialog: ConfirmDialog, changed: (id: string) => void) {
    this.dialog = dialog;
    this.changed = changed;
  }

  show(tx: ViewerTransaction): void {
    const open = new Set(
      [...this.events.querySelectorAll('details[open]')].map((d) =>
        d.closest('[data-seq]')?.getAttribute('data-seq'),
      ),
    );
    this.title.textContent = tx.id;
    const d = tx.decimals;
    const rows: [string, Node | string | null][] = [
      ['Status', h('span', { class: 'status-chip' }, tx.status)],
      ['State', h('span', { title: tx.state }, tx.state.split('.').slice(1).join('.') || tx.state)],
      // In `error` the message is why; elsewhere it is only news (e.g. the rails' answer).
      [
        tx.status === 'error' ? 'Reason' : 'Message',
        tx.statusMessage === null
          ? null
          : h('span', { class: tx.status === 'error' ? 'reason' : undefined }, tx.statusMessage),
      ],
      ['Expected', amount(tx.amountExpected, tx.amountInAsset, d)],
      ['Received', amount(tx.amountReceived, tx.amountReceivedAsset, d)],
      ['Excess', tx.excessAmount === null ? null : amount(tx.excessAmount, tx.amountInAsset, d)],
      [
        'Refunded',
        tx.refunds === null
          ? null
          : h(
              'span',
              {},
              amount(tx.refunds.amountRefunded, tx.amountInAsset, d),
              ` in ${tx.refunds.payments.length} (fee `,
              amount(tx.refunds.amountFee, tx.amountInAsset, d),
              ')',
            ),
      ],
      ['Amount out', amount(tx.amountOut, tx.amountOutAsset, d)],
      [
        'Sending anchor',
        h(
          'span',
          { class: 'anchor' },
          tx.sendingAnchorName === null ? null : h('strong', { class: 'anchor-name' }, tx.sendingAnchorName),
          tx.sendingAnchorName === null ? null : ' ',
          h('code', { class: 'wrap anchor-key' }, tx.sendingAnchor),
        ),
      ],
      [
        'Memo',
        tx.stellarMemo === null
          ? null
          : h('code', { class: 'wrap' }, `${tx.stellarMemo} (${tx.stellarMemoType})`),
      ],
      [
        'Stellar tx',
        tx.stellarTransactionId === null ? null : h('code', { class: 'wrap' }, tx.stellarTransactionId),
      ],
      ['Started', time(tx.startedAt)],
      ['Updated', time(tx.updatedAt)],
      ['Expires', tx.expiresAt === null ? null : time(tx.expiresAt)],
      ['Completed', time(tx.completedAt)],
      ['Version', String(tx.version)],
    ];
    this.summary.replaceChildren(
      ...rows.flatMap(([term, value]) =>
        value === null ? [] : [h('dt', {}, term), h('dd', { 'data-field': term }, value)],
      ),
    );

    this.accepts.replaceChildren(...tx.accepts.map((type) => h('li', { class: 'chip' }, type)));
    this.acceptsNone.hidden = tx.accepts.length > 0;

    const actions = actionsFor(tx.accepts);
    this.actions.replaceChildren(
      ...actions.map((action) => {
        const button = h(
          'button',
          { type: 'button', class: 'action', 'data-method': action.method },
          action.label,
        );
        button.addEventListener('click', () => {
          void this.dialog
            .ask({
              title: action.label,
              about: `${action.method} for transaction ${tx.id} (${tx.status})`,
              method: action.method,
              fields: action.fields,
              params: (values) => ({ transaction_id: tx.id, ...action.params(values) }),
            })
            .then((sent) => sent && this.changed(tx.id));
        });
        return button;
      }),
    );
    this.actionsNone.hidden = actions.length > 0;

    this.unmatched.replaceChildren(
      ...tx.unmatchedPayments.map((p) => unmatchedItem(p, this.dialog, () => this.changed(tx.id))),
    );
    this.unmatchedBlock.hidden = tx.unmatchedPayments.length === 0;

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
    this.actions.replaceChildren();
    this.unmatched.replaceChildren();
    this.events.replaceChildren();
  }
}

/** A state id without the machine's id: `transaction.pending_receiver.ready` → `pending_receiver.ready`. */
function localState(id: string): string {
  return id.slice(id.indexOf('.') + 1);
}
