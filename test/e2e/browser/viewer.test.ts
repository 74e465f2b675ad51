import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Asset, Memo } from '@stellar/stellar-sdk';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transactionMachine } from '../../../machines/index.ts';
import {
  connectSendingAnchor,
  registerExampleCustomers,
  type SendingAnchor,
} from '../../../src/demo/sending-anchor.ts';
import { toJson } from '../../../src/diagrams/index.ts';
import { ACTIONS } from '../../../src/viewer/client/action-table.ts';
import { startFakeHorizon, type FakeHorizon } from '../../fakes/fake-horizon.ts';
import { KEYS, testConfigFile } from '../../helpers/app.ts';
import { freePort, startMooringProcess, waitForHttp, type RunningProcess } from '../../helpers/process.ts';

/**
 * The machine viewer in real headless Chromium (Debian's package; playwright-core downloads nothing), against
 * a `mooring serve` process and the fake Horizon: an operator signs in, sees every state of the transaction
 * machine, watches a transaction made by a sending anchor move live, and opens it to see its path.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) {
  throw new Error(`Chromium is required in CI for the viewer tests and is not at ${CHROMIUM}`);
}
const SCREENSHOTS = join(import.meta.dirname, '..', '..', '..', 'test-output', 'viewer');
const OPERATOR_TOKEN = 'operator-token-for-the-viewer-test-0123456789';
const STATES = toJson(transactionMachine).states.map((s) => s.id);

describe.skipIf(!haveChromium)('the machine viewer in Chromium', { timeout: 90_000 }, () => {
  let dir: string;
  let horizon: FakeHorizon;
  let server: RunningProcess;
  let base: string;
  let browser: Browser;
  let page: Page;
  let anchor: SendingAnchor;
  let transaction: Record<string, string>;
  let underPaid: Record<string, string>;
  let customers: { senderId: string; receiverId: string };
  let paidHash: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mooring-viewer-'));
    horizon = await startFakeHorizon();
    horizon.addAccount(KEYS.acme.publicKey());
    // Refunds are signed by the distribution account's key and applied by the fake Horizon.
    horizon.addAccount(KEYS.distribution.publicKey());
    const port = await freePort();
    base = `http://localhost:${port}`;
    const { jwtSecret: _sandbox, ...file } = testConfigFile({
      homeDomain: `localhost:${port}`,
      horizonUrl: horizon.url,
    });
    await writeFile(join(dir, 'mooring.json'), JSON.stringify(file));
    server = startMooringProcess(['serve'], {
      PORT: `${port}`,
      MOORING_CONFIG: join(dir, 'mooring.json'),
      MOORING_DATA_DIR: join(dir, 'data'),
      OPERATOR_TOKEN,
      REFUND_SIGNER_SECRET: KEYS.distribution.secret(),
      EXECUTE_OUTGOING_INTERVAL: '1',
      POLL_OUTGOING_INTERVAL: '1',
    });
    await waitForHttp(`${base}/ready`, server);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await mkdir(SCREENSHOTS, { recursive: true });
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await horizon?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const state = (id: string) => page.locator(`svg[data-machine="transaction"] g.state[data-state="${id}"]`);
  const count = (id: string) => page.locator(`svg[data-machine="transaction"] [data-count-for="${id}"]`);
  const countOf = async (id: string) => Number((await count(id).textContent())?.trim() || '0');

  it('asks for the operator token, refuses a wrong one, and signs in with the right one', async () => {
    expect(server.output()).toContain(`machine viewer (operator token) at http://`);
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${base}/machines`);
    await page.locator('#operator-token').fill('not-the-token');
    await page.locator('#login-form [type="submit"]').click();
    await expect.poll(() => page.locator('#login-error').textContent()).toMatch(/\S/);
    await expect.poll(() => page.locator('svg[data-machine="transaction"]').count()).toBe(0);

    await page.locator('#operator-token').fill(OPERATOR_TOKEN);
    await page.locator('#login-form [type="submit"]').click();
    await page.locator('svg[data-machine="transaction"]').waitFor({ state: 'visible', timeout: 20_000 });
    expect(errors).toEqual([]);
  });

  it('draws every state of the transaction machine, with its live count', async () => {
    expect(STATES.length).toBeGreaterThan(10);
    for (const id of STATES) {
      await expect(state(id).count(), id).resolves.toBe(1);
      expect(await state(id).isVisible(), id).toBe(true);
    }
    // Leaf states carry a count; a fresh anchor has no transactions.
    await expect.poll(() => page.locator('#live-status').textContent(), { timeout: 15_000 }).toMatch(/live/);
    expect(await countOf('transaction.pending_sender')).toBe(0);
    await expect
      .poll(() => page.locator('svg[data-machine="transaction"] g.edge').count())
      .toBeGreaterThan(30);
    await page.screenshot({ path: join(SCREENSHOTS, 'desktop-empty.png'), fullPage: true });
  });

  it('counts a transaction a sending anchor creates, without a reload', async () => {
    anchor = await connectSendingAnchor(new URL(base).host, KEYS.acme);
    customers = await registerExampleCustomers(anchor);
    const { senderId, receiverId } = customers;
    transaction = await anchor.createTransaction({
      amount: '100',
      asset_code: 'USDC',
      asset_issuer: KEYS.issuer.publicKey(),
      funding_method: 'SEPA',
      sender_id: senderId,
      receiver_id: receiverId,
    });
    await expect.poll(() => countOf('transaction.pending_sender'), { timeout: 15_000 }).toBe(1);
    await expect.poll(() => page.locator('#total-count').textContent()).toMatch(/\b1\b/);
    expect(await state('transaction.pending_sender').getAttribute('class')).toMatch(/\boccupied\b/);
    await expect
      .poll(() => page.locator('#activity').textContent(), { timeout: 15_000 })
      .toContain(transaction.id!.slice(0, 8));
  });

  it('opens the transaction and highlights its path as it is paid and paid out', async () => {
    await page.locator('#transaction-id').fill(transaction.id!);
    await page.locator('#transaction-form [type="submit"]').click();
    await expect.poll(() => page.locator('#transaction-panel').textContent()).toContain(transaction.id!);
    await expect.poll(() => state('transaction.pending_sender').getAttribute('class')).toMatch(/\bcurrent\b/);
    await expect.poll(() => page.locator('#accepts').textContent()).toContain('PAYMENT_RECEIVED');

    // Every arrow the live view lights (`fired`) from now on, as the page sees it.
    await page.evaluate(() => {
      /* eslint-disable @typescript-eslint/no-explicit-any */
      const g = globalThis as any;
      g.firedEdges = [] as string[];
      new g.MutationObserver((records: any[]) => {
        for (const r of records) {
          const el = r.target;
          if (el.classList?.contains('fired') && !(r.oldValue ?? '').includes('fired'))
            g.firedEdges.push(
              `${el.getAttribute('data-event')} #${el.getAttribute('data-edge')} ${el.textContent}`,
            );
        }
      }).observe(g.document.querySelector('svg[data-machine="transaction"]'), {
        attributes: true,
        attributeFilter: ['class'],
        attributeOldValue: true,
        subtree: true,
      });
      /* eslint-enable @typescript-eslint/no-explicit-any */
    });

    const paid = horizon.appendPayment({
      from: KEYS.acme,
      destination: transaction.stellar_account_id!,
      asset: new Asset('USDC', KEYS.issuer.publicKey()),
      amount: '100',
      memo: Memo.hash(Buffer.from(transaction.stellar_memo!, 'base64').toString('hex')),
    });
    paidHash = paid.transaction.hash;

    // The count moves out of pending_sender and into completed, live.
    await expect.poll(() => countOf('transaction.completed'), { timeout: 45_000 }).toBe(1);
    expect(await countOf('transaction.pending_sender')).toBe(0);

    // The open transaction follows: its path through pending_receiver to completed is highlighted.
    const completed = state('transaction.completed');
    await expect.poll(() => completed.getAttribute('class'), { timeout: 15_000 }).toMatch(/\bcurrent\b/);
    for (const id of [
      'transaction.pending_receiver',
      'transaction.pending_receiver.preparing',
      'transaction.pending_sender',
      'transaction.pending_receiver.ready',
      'transaction.pending_receiver.paying_out',
    ]) {
      expect(await state(id).getAttribute('class'), id).toMatch(/\bvisited\b/);
    }
    expect(await state('transaction.expired').getAttribute('class')).not.toMatch(/\bvisited\b/);
    const taken = page.locator('svg[data-machine="transaction"] g.edge.taken');
    expect(await taken.count()).toBeGreaterThanOrEqual(3);
    expect(await taken.evaluateAll((edges) => edges.map((e) => e.getAttribute('data-event')))).toEqual(
      expect.arrayContaining(['PAYMENT_RECEIVED', 'PAYOUT_REQUESTED', 'PAYOUT_COMPLETED']),
    );
    // The exact payment took one of the guarded PAYMENT_RECEIVED twins: only that arrow is lit, on the path and
    // live.
    const paymentArrows = taken.and(page.locator('[data-event="PAYMENT_RECEIVED"]'));
    expect(await paymentArrows.count()).toBe(1);
    expect(await paymentArrows.textContent()).toContain('paidExactly');
    const fired = await page.evaluate(() => (globalThis as unknown as { firedEdges: string[] }).firedEdges);
    // (A transition replayed after a reconnect lights its arrow again: count arrows, not lightings.)
    const firedPayments = [...new Set(fired.filter((f) => f.startsWith('PAYMENT_RECEIVED ')))];
    expect(firedPayments.length, fired.join('\n')).toBe(1);
    expect(firedPayments[0]).toContain('paidExactly');

    // Each event with its time and payload, and a final state accepts nothing.
    const events = page.locator('#transaction-events li.event');
    const types = await events.allTextContents();
    for (const type of ['CREATED', 'ACCOUNT_ASSIGNED', 'PAYMENT_RECEIVED', 'PAYOUT_COMPLETED']) {
      expect(
        types.some((text) => text.includes(type)),
        type,
      ).toBe(true);
    }
    const payment = events.filter({ hasText: 'PAYMENT_RECEIVED' });
    expect(await payment.locator('pre').textContent()).toContain(paid.transaction.hash);
    expect(await page.locator('#accepts li').count()).toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'desktop-completed.png'), fullPage: true });
  });

  it('fits a phone-sized screen', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
    try {
      await phone.context().addCookies(await page.context().cookies());
      await phone.goto(`${base}/machines#tx=${transaction.id}`);
      const svg = phone.locator('svg[data-machine="transaction"]');
      await svg.waitFor({ state: 'visible', timeout: 20_000 });
      await expect
        .poll(() => phone.locator('g.state[data-state="transaction.completed"]').getAttribute('class'))
        .toMatch(/\bcurrent\b/);
      // Nothing sticks out sideways: the page does not scroll horizontally.
      // Runs in the page (the test program has no DOM types).
      const overflow = await phone.evaluate(() => {
        const { documentElement } = (
          globalThis as unknown as {
            document: { documentElement: { scrollWidth: number; clientWidth: number } };
          }
        ).document;
        return documentElement.scrollWidth - documentElement.clientWidth;
      });
      expect(overflow).toBeLessThanOrEqual(0);
      // A page opened later still shows what happened before it: the recent transitions.
      await expect
        .poll(() => phone.locator('#activity').textContent())
        .toContain(transaction.id!.slice(0, 8));
      const box = await svg.boundingBox();
      expect(box!.width).toBeGreaterThan(300);
      // Legible at the default zoom: state names and arrow labels render at a readable size (the pane scrolls).
      const sizes = await phone.evaluate(() => {
        /* eslint-disable @typescript-eslint/no-explicit-any */
        const g = globalThis as any;
        const px = (selector: string) =>
          Math.min(
            ...[...g.document.querySelectorAll(`svg[data-machine="transaction"] ${selector}`)].map(
              (t: any) => t.getScreenCTM().a * parseFloat(g.getComputedStyle(t).fontSize),
            ),
          );
        return { names: px('text.name'), labels: px('g.edge text') };
        /* eslint-enable @typescript-eslint/no-explicit-any */
      });
      expect(sizes.names).toBeGreaterThanOrEqual(11);
      expect(sizes.labels).toBeGreaterThanOrEqual(10.5);
      await phone.screenshot({ path: join(SCREENSHOTS, 'phone.png'), fullPage: true });
    } finally {
      await phone.close();
    }
  });

  it('lists the transactions of a clicked state and shows why one is in error', async () => {
    await page.goto(`${base}/machines`);
    await page.locator('svg[data-machine="transaction"]').waitFor({ state: 'visible', timeout: 20_000 });
    underPaid = await anchor.createTransaction({
      amount: '100',
      asset_code: 'USDC',
      asset_issuer: KEYS.issuer.publicKey(),
      funding_method: 'SEPA',
      sender_id: customers.senderId,
      receiver_id: customers.receiverId,
    });
    horizon.appendPayment({
      from: KEYS.acme,
      destination: underPaid.stellar_account_id!,
      asset: new Asset('USDC', KEYS.issuer.publicKey()),
      amount: '60',
      memo: Memo.hash(Buffer.from(underPaid.stellar_memo!, 'base64').toString('hex')),
    });
    await expect.poll(() => countOf('transaction.error'), { timeout: 45_000 }).toBe(1);

    // The count opens the list of that state's transactions.
    await count('transaction.error').click();
    const list = page.locator('#list-panel');
    await expect.poll(() => list.isVisible()).toBe(true);
    await expect.poll(() => page.locator('#list-items [data-transaction]').count()).toBe(1);
    expect(await page.locator('#list-items').textContent()).toContain('under-paid');
    await count('transaction.completed').click();
    await expect
      .poll(() => page.locator('#list-items [data-transaction]').getAttribute('data-transaction'))
      .toBe(transaction.id);

    // A search by memo finds it, and the panel says what came in and why it is in error.
    await page.locator('#transaction-id').fill(underPaid.stellar_memo!);
    await page.locator('#transaction-form [type="submit"]').click();
    await expect.poll(() => page.locator('#transaction-title').textContent()).toBe(underPaid.id);
    const field = (name: string) => page.locator(`#transaction-summary [data-field="${name}"]`).textContent();
    expect(await field('Reason')).toMatch(/under-paid: received 60(\.0+)?, expected 100/);
    expect(await field('Expected')).toBe('100.00 USDC');
    expect(await field('Received')).toBe('60.00 USDC');
    expect(await field('Sending anchor')).toBe(`acme ${KEYS.acme.publicKey()}`);
    expect(await field('Started')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);

    // A Stellar transaction hash finds the paid one.
    await page.locator('#transaction-id').fill(paidHash);
    await page.locator('#transaction-form [type="submit"]').click();
    await expect.poll(() => page.locator('#transaction-title').textContent()).toBe(transaction.id);
  });

  it('offers exactly the actions the state accepts, and sends one as JSON-RPC only once confirmed', async () => {
    const calls: unknown[] = [];
    await page.route('**/machines/api/rpc', async (route) => {
      const body = route.request().postDataJSON() as { id: string };
      calls.push(body);
      await route.fulfill({ json: { jsonrpc: '2.0', id: body.id, result: { ok: true } } });
    });
    await page.goto(`${base}/machines#tx=${underPaid.id}`);
    await expect
      .poll(() => page.locator('#transaction-title').textContent(), { timeout: 20_000 })
      .toBe(underPaid.id);
    const { accepts } = (await (
      await page.request.get(`${base}/machines/api/transactions/${underPaid.id}`)
    ).json()) as { accepts: string[] };
    expect(accepts).toEqual(expect.arrayContaining(['REFUND_SENT', 'ERROR']));
    const offered = await page
      .locator('#actions button[data-method]')
      .evaluateAll((buttons) => buttons.map((b) => b.getAttribute('data-method')));
    expect(offered).toEqual(ACTIONS.filter((a) => accepts.includes(a.event)).map((a) => a.method));

    // Cancelled: nothing is sent.
    await page.locator('#actions [data-method="notify_transaction_error"]').click();
    await page.locator('#confirm').waitFor({ state: 'visible' });
    await page.locator('#confirm-cancel').click();
    await page.locator('#confirm').waitFor({ state: 'hidden' });
    expect(calls).toEqual([]);

    // Confirmed: one JSON-RPC 2.0 request with the transaction and the amount.
    await page.locator('#actions [data-method="do_refund"]').click();
    await page.locator('#confirm input[name="amount"]').fill('60');
    await page.locator('#confirm [type="submit"]').click();
    await page.locator('#confirm').waitFor({ state: 'hidden' });
    expect(calls).toEqual([
      {
        jsonrpc: '2.0',
        id: expect.any(String),
        method: 'do_refund',
        params: { transaction_id: underPaid.id, amount: '60' },
      },
    ]);

    // A completed transaction offers none.
    await page.goto(`${base}/machines#tx=${transaction.id}`);
    await expect
      .poll(() => page.locator('#transaction-title').textContent(), { timeout: 20_000 })
      .toBe(transaction.id);
    expect(await page.locator('#actions button').count()).toBe(0);
    await page.unroute('**/machines/api/rpc');
  });

  it('lists unmatched payments and refunds one for real through the operator API', async () => {
    const stray = horizon.appendPayment({
      from: KEYS.acme,
      destination: transaction.stellar_account_id!,
      asset: new Asset('USDC', KEYS.issuer.publicKey()),
      amount: '5',
      memo: Memo.text('nobody-has-this-memo'),
    });
    await expect
      .poll(
        async () => {
          await page.locator('#unmatched-refresh').click();
          return page.locator('#unmatched-items li').count();
        },
        { timeout: 30_000 },
      )
      .toBe(1);
    const item = page.locator('#unmatched-items li').first();
    expect(await item.textContent()).toContain(stray.transaction.hash);
    await item.locator('[data-method="refund_unmatched_payment"]').click();
    await page.locator('#confirm [type="submit"]').click();
    await page.locator('#confirm').waitFor({ state: 'hidden' });
    // Mooring signed and submitted the refund; the fake Horizon applied it; the list says refunded.
    await expect
      .poll(
        async () => {
          await page.locator('#unmatched-refresh').click();
          return page.locator('#unmatched-items li [data-method="refund_unmatched_payment"]').count();
        },
        { timeout: 30_000 },
      )
      .toBe(0);
    expect(horizon.submitted).toHaveLength(1);
    const payments = (await (
      await fetch(`${horizon.url}/accounts/${KEYS.acme.publicKey()}/payments?limit=200`)
    ).json()) as {
      _embedded: { records: { from: string; to: string; amount: string; transaction_hash: string }[] };
    };
    expect(payments._embedded.records.filter((p) => p.transaction_hash === horizon.submitted[0])).toEqual([
      expect.objectContaining({
        from: KEYS.distribution.publicKey(),
        to: KEYS.acme.publicKey(),
        amount: '5.0000000',
      }),
    ]);
    await page.screenshot({ path: join(SCREENSHOTS, 'desktop-console.png'), fullPage: true });
  });

  it('answers its API to the operator only', async () => {
    const signedOut = await fetch(`${base}/machines/api/counts`);
    expect(signedOut.status).toBe(401);
  });
});
