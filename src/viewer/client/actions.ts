// Operator actions from the console: JSON-RPC 2.0 calls to the operator API (the table in action-table.ts),
// each confirmed in a dialog before it is sent.
import type { Field } from './action-table.ts';
import { byId, h } from './dom.ts';

export { ACTIONS, REFUND_UNMATCHED, actionsFor, type Action } from './action-table.ts';

/** The operator API (JSON-RPC 2.0; method names as the Stellar Anchor Platform's), under the viewer's session. */
export const OPERATOR_RPC = '/machines/api/rpc';

const AMOUNT = /^\d{1,15}(\.\d{1,7})?$/;

/** One JSON-RPC request, as sent. */
export interface RpcRequest {
  jsonrpc: '2.0';
  id: string;
  method: string;
  params: Record<string, unknown>;
}

let calls = 0;

/** Sends one JSON-RPC call; resolves with its `result`, throws with the JSON-RPC error's message. */
export async function rpc(method: string, params: Record<string, unknown>): Promise<unknown> {
  const request: RpcRequest = { jsonrpc: '2.0', id: `console-${Date.now()}-${++calls}`, method, params };
  const response = await fetch(OPERATOR_RPC, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(request),
  });
  let body: { result?: unknown; error?: { message?: string; data?: unknown } | string } | undefined;
  try {
    body = (await response.json()) as typeof body;
  } catch {
    body = undefined;
  }
  const error = body?.error;
  if (error !== undefined) throw new Error(typeof error === 'string' ? error : (error.message ?? 'refused'));
  if (!response.ok) throw new Error(`${response.status} ${response.statusText}`.trim());
  return body?.result;
}

/**
 * The confirmation dialog: names the method and what it is about, asks for the fields, and sends only on
 * "Confirm". Resolves true when the call was made and succeeded.
 */
export class ConfirmDialog {
  private readonly dialog = byId<HTMLDialogElement>('confirm');
  private readonly form = byId<HTMLFormElement>('confirm-form');
  private readonly title = byId('confirm-title');
  private readonly about = byId('confirm-about');
  private readonly fields = byId('confirm-fields');
  private readonly error = byId('confirm-error');
  private readonly cancel = byId<HTMLButtonElement>('confirm-cancel');
  private pending: ((done: boolean) => void) | null = null;
  private current: {
    method: string;
    fields: Field[];
    params: (v: Record<string, string>) => unknown;
  } | null = null;

  constructor() {
    this.cancel.addEventListener('click', () => this.finish(false));
    this.dialog.addEventListener('cancel', () => this.finish(false));
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.confirm();
    });
  }

  /** Asks, then sends `method` with the params the fields make. */
  ask(options: {
    title: string;
    about: string;
    method: string;
    fields: Field[];
    params: (values: Record<string, string>) => Record<string, unknown>;
  }): Promise<boolean> {
    this.finish(false);
    this.current = options;
    this.title.textContent = options.title;
    this.about.textContent = options.about;
    this.error.textContent = '';
    this.fields.replaceChildren(
      ...options.fields.map((field) =>
        h(
          'label',
          { class: 'field' },
          h('span', {}, field.optional ? `${field.label} (optional)` : field.label),
          h('input', {
            name: field.name,
            type: 'text',
            inputmode: field.kind === 'amount' ? 'decimal' : undefined,
            required: !field.optional,
            autocomplete: 'off',
            spellcheck: 'false',
          }),
        ),
      ),
    );
    this.dialog.showModal();
    return new Promise((resolve) => (this.pending = resolve));
  }

  private async confirm(): Promise<void> {
    const current = this.current;
    if (current === null) return;
    const values: Record<string, string> = {};
    for (const field of current.fields) {
      const input = this.form.elements.namedItem(field.name) as HTMLInputElement | null;
      const value = input?.value.trim() ?? '';
      if (value === '' && !field.optional)
        return void (this.error.textContent = `${field.label} is required.`);
      if (value !== '' && field.kind === 'amount' && !AMOUNT.test(value)) {
        return void (this.error.textContent = `${field.label}: a decimal amount, at most 7 decimals.`);
      }
      if (value !== '') values[field.name] = value;
    }
    const submit = this.form.querySelector<HTMLButtonElement>('[type="submit"]');
    if (submit) submit.disabled = true;
    try {
      await rpc(current.method, current.params(values) as Record<string, unknown>);
      this.finish(true);
    } catch (error) {
      this.error.textContent = error instanceof Error ? error.message : String(error);
    } finally {
      if (submit) submit.disabled = false;
    }
  }

  private finish(done: boolean): void {
    if (this.dialog.open) this.dialog.close();
    this.current = null;
    const pending = this.pending;
    this.pending = null;
    pending?.(done);
  }
}
