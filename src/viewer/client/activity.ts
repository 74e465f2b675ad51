// The activity list: the latest transitions, newest first, each opening its transaction.
import type { ViewerTransition } from '../api.ts';
import { byId, h, time } from './dom.ts';

const KEEP = 30;

export class Activity {
  private readonly list = byId<HTMLOListElement>('activity');
  private readonly empty = byId('activity-empty');
  private readonly seen = new Set<string>();

  constructor(open: (transactionId: string) => void) {
    this.list.addEventListener('click', (event) => {
      const button = (event.target as Element).closest('[data-transaction]');
      const id = button?.getAttribute('data-transaction');
      if (id) open(id);
    });
  }

  add(transition: ViewerTransition): void {
    if (this.seen.has(transition.id)) return; // a replay after reconnecting
    this.seen.add(transition.id);
    const status =
      transition.statusBefore === null || transition.statusBefore === transition.statusAfter
        ? transition.statusAfter
        : `${transition.statusBefore} → ${transition.statusAfter}`;
    const item = h(
      'li',
      { 'data-event-id': transition.id },
      h(
        'button',
        {
          type: 'button',
          class: 'activity-item',
          'data-transaction': transition.transactionId,
          title: `Open transaction ${transition.transactionId}`,
        },
        h('span', { class: 'when' }, time(transition.at, 'time')),
        h('span', { class: 'what' }, transition.eventType),
        h('code', { class: 'which' }, `${transition.transactionId.slice(0, 8)}…`),
        h('span', { class: 'status' }, status),
      ),
    );
    this.list.prepend(item);
    while (this.list.children.length > KEEP) this.list.lastElementChild?.remove();
    this.empty.hidden = true;
  }

  clear(): void {
    this.list.replaceChildren();
    this.seen.clear();
    this.empty.hidden = false;
  }
}
