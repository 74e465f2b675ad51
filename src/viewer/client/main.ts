// The operators' console in the browser: sign-in, the machines drawn with their live counts (a count lists its
// state's transactions), the activity feed, a search, unmatched payments, and a transaction opened (or
// `#tx=<id>`) with its path on the diagram and the actions its state accepts.
import './style.css';
import { VIEWER_PATHS } from '../api.ts';
import type {
  ViewerCounts,
  ViewerMachines,
  ViewerSession,
  ViewerTransaction,
  ViewerTransition,
} from '../api.ts';
import { ConfirmDialog } from './actions.ts';
import { Activity } from './activity.ts';
import { Diagrams } from './diagrams.ts';
import { byId } from './dom.ts';
import { ApiError, Unauthorized, api } from './http.ts';
import { TransactionList, UnmatchedList } from './lists.ts';
import { Live, type LiveStatus } from './live.ts';
import { TransactionPanel } from './transaction-panel.ts';

const login = byId('login');
const loginForm = byId<HTMLFormElement>('login-form');
const tokenInput = byId<HTMLInputElement>('operator-token');
const loginError = byId('login-error');
const app = byId('app');
const signOut = byId<HTMLButtonElement>('sign-out');
const liveBar = byId('live');
const liveStatus = byId('live-status');
const totalCount = byId('total-count');
const transactionForm = byId<HTMLFormElement>('transaction-form');
const transactionInput = byId<HTMLInputElement>('transaction-id');
const transactionError = byId('transaction-error');

const dialog = new ConfirmDialog();
const diagrams = new Diagrams((state) => void list.show({ state }));
const panel = new TransactionPanel(dialog, (id) => void loadTransaction(id));
const list = new TransactionList((id) => openTransaction(id));
const unmatched = new UnmatchedList(dialog);
const activity = new Activity((id) => openTransaction(id));
const live = new Live({
  counts: showCounts,
  transition: onTransition,
  status: showLiveStatus,
  refused: async () => {
    try {
      const session = await api<ViewerSession>(VIEWER_PATHS.session);
      if (!session.signedIn) showLogin();
      return session.signedIn;
    } catch (error) {
      if (error instanceof Unauthorized) showLogin();
      return !(error instanceof Unauthorized);
    }
  },
});

let signedIn = false;
let openId: string | null = null;
let refetch: ReturnType<typeof setTimeout> | null = null;

// ---- session -----------------------------------------------------------------------------------------------

function showLogin(message = ''): void {
  signedIn = false;
  live.stop();
  app.hidden = true;
  liveBar.hidden = true;
  signOut.hidden = true;
  login.hidden = false;
  loginError.textContent = message;
  tokenInput.focus();
}

/** Handles a failed call: a 401 sends the operator back to sign-in; anything else is shown where it belongs. */
function failed(error: unknown, show: (message: string) => void): void {
  if (error instanceof Unauthorized) showLogin('Your session has ended: sign in again.');
  else show(error instanceof Error ? error.message : String(error));
}

async function showApp(): Promise<void> {
  signedIn = true;
  login.hidden = true;
  app.hidden = false;
  liveBar.hidden = false;
  signOut.hidden = false;
  tokenInput.value = '';
  loginError.textContent = '';
  live.start();
  void unmatched.load().catch((error: unknown) => failed(error, () => undefined));
  const status = byId('diagrams-status');
  try {
    if (!diagrams.loaded) {
      const { machines } = await api<ViewerMachines>(VIEWER_PATHS.machines);
      const drawing = diagrams.show(machines);
      void api<ViewerCounts>(VIEWER_PATHS.counts)
        .then(showCounts)
        .catch((error: unknown) => failed(error, () => undefined));
      openFromHash(); // its path is drawn as soon as the diagram is
      await drawing;
    } else {
      openFromHash();
    }
  } catch (error) {
    failed(error, (message) => {
      status.hidden = false;
      status.textContent = `The machines could not be loaded: ${message}`;
    });
  }
}

loginForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const token = tokenInput.value.trim();
  if (token === '') return;
  loginError.textContent = '';
  const submit = loginForm.querySelector<HTMLButtonElement>('[type="submit"]');
  if (submit) submit.disabled = true;
  api<unknown>(VIEWER_PATHS.session, { method: 'POST', body: { token } })
    .then(() => showApp())
    .catch((error: unknown) => {
      loginError.textContent =
        error instanceof Error && error.message !== '' ? error.message : 'The token was not accepted.';
      tokenInput.select();
    })
    .finally(() => {
      if (submit) submit.disabled = false;
    });
});

signOut.addEventListener('click', () => {
  live.stop();
  closeTransaction();
  activity.clear();
  api<unknown>(VIEWER_PATHS.session, { method: 'DELETE' })
    .catch(() => undefined)
    .finally(() => showLogin());
});

// ---- live ------------------------------------------------------------------------------------------------

function showLiveStatus(status: LiveStatus): void {
  liveStatus.textContent = status;
  liveStatus.setAttribute('data-state', status);
}

function showCounts(counts: ViewerCounts): void {
  totalCount.textContent = String(counts.total);
  diagrams.showCounts(counts);
}

function onTransition(transition: ViewerTransition): void {
  activity.add(transition);
  diagrams.flash(transition.edge);
  if (transition.transactionId !== openId) return;
  if (refetch !== null) clearTimeout(refetch);
  refetch = setTimeout(() => {
    refetch = null;
    if (openId === transition.transactionId) void loadTransaction(openId);
  }, 150);
}

// ---- transactions ----------------------------------------------------------------------------------------

function hashId(): string | null {
  const match = /^#tx=(.+)$/.exec(location.hash);
  if (!match?.[1]) return null;
  try {
    return decodeURIComponent(match[1]).trim() || null;
  } catch {
    return null;
  }
}

function openFromHash(): void {
  const id = hashId();
  if (id !== null && signedIn) void loadTransaction(id);
}

/** Opens a transaction: through the hash, so that the address can be shared and reloaded. */
function openTransaction(id: string): void {
  const hash = `#tx=${encodeURIComponent(id)}`;
  if (location.hash === hash) void loadTransaction(id);
  else location.hash = hash; // the hashchange loads it
}

async function loadTransaction(id: string): Promise<void> {
  openId = id;
  transactionInput.value = id;
  transactionError.textContent = '';
  try {
    const tx = await api<ViewerTransaction>(VIEWER_PATHS.transaction + encodeURIComponent(id));
    if (openId !== id) return; // another one was opened meanwhile
    panel.show(tx);
    diagrams.highlight(tx);
  } catch (error) {
    if (openId !== id) return;
    failed(error, (message) => {
      transactionError.textContent =
        error instanceof ApiError && error.status === 404 ? message || 'No such transaction.' : message;
      panel.hide();
      diagrams.clear();
    });
  }
}

function closeTransaction(): void {
  openId = null;
  panel.hide();
  diagrams.clear();
  transactionError.textContent = '';
  if (location.hash !== '') history.replaceState(null, '', location.pathname + location.search);
}

// A search by id, memo or Stellar transaction hash: one hit opens it, several are listed.
transactionForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const q = transactionInput.value.trim();
  if (q === '') return;
  transactionError.textContent = '';
  void list.show({ q }).then((page) => {
    if (page.items.length === 1 && page.next === null) {
      list.hide();
      openTransaction(page.items[0]!.id);
    } else if (page.items.length === 0) {
      list.hide();
      transactionError.textContent = 'No transaction has this id, memo or Stellar transaction hash.';
    }
  });
});
byId('transaction-close').addEventListener('click', closeTransaction);
window.addEventListener('hashchange', openFromHash);

// ---- start -----------------------------------------------------------------------------------------------

api<ViewerSession>(VIEWER_PATHS.session)
  .then((session) => (session.signedIn ? showApp() : showLogin()))
  .catch((error: unknown) => failed(error, (message) => showLogin(`The server cannot tell: ${message}`)));
