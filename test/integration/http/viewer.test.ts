// The machine viewer's HTTP side on every test database: off without OPERATOR_TOKEN, the page and its assets,
// operator authentication (Bearer and session cookie), the machines, the counts and one transaction's path.
// The live stream (server-sent events) is in viewer-live.test.ts.
import { randomUUID } from 'node:crypto';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { transform } from 'esbuild';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptedEventTypes, restore, type PersistedTransaction } from '../../../machines/index.ts';
import { findTransaction } from '../../../src/db/transactions.repository.ts';
import { drawnEdges, MACHINES, toJson } from '../../../src/diagrams/index.ts';
import { VIEWER_CSP, VIEWER_OFF } from '../../../src/http/viewer.routes.ts';
import {
  VIEWER_PATHS,
  type ViewerCounts,
  type ViewerMachine,
  type ViewerMachines,
  type ViewerTransaction,
} from '../../../src/viewer/api.ts';
import { KEYS, tokenFor } from '../../helpers/app.ts';
import { testDatabases } from '../../helpers/database.ts';
import { AT, OPERATOR, OPERATOR_TOKEN, viewerWorld, type ViewerWorld } from './viewer-support.ts';

const API = [
  VIEWER_PATHS.machines,
  VIEWER_PATHS.counts,
  `${VIEWER_PATHS.transaction}${randomUUID()}`,
  VIEWER_PATHS.live,
];
const TWELVE_HOURS = 12 * 60 * 60 * 1000;

describe('machine viewer without OPERATOR_TOKEN', () => {
  let w: ViewerWorld;
  beforeAll(async () => {
    w = await viewerWorld(testDatabases()[0]!, { operatorToken: null });
  });
  afterAll(() => w?.close());

  it('answers 404 on the page, the assets and the API, saying how to turn it on', async () => {
    const requests = [
      { method: 'GET' as const, url: VIEWER_PATHS.page },
      { method: 'GET' as const, url: `${VIEWER_PATHS.page}/` },
      { method: 'GET' as const, url: VIEWER_PATHS.script },
      { method: 'GET' as const, url: VIEWER_PATHS.stylesheet },
      { method: 'GET' as const, url: VIEWER_PATHS.session },
      { method: 'POST' as const, url: VIEWER_PATHS.session, payload: { token: 'anything' } },
      ...API.map((url) => ({ method: 'GET' as const, url, headers: { authorization: 'Bearer anything' } })),
    ];
    for (const request of requests) {
      const response = await w.app.inject(request);
      expect(response.statusCode, request.url).toBe(404);
      expect(response.json(), request.url).toEqual({ error: VIEWER_OFF });
    }
  });
});

describe.each(testDatabases())('machine viewer on $name', (database) => {
  let w: ViewerWorld;
  let machines: ViewerMachine[];
  const get = (url: string, headers: Record<string, string> = OPERATOR) =>
    w.app.inject({ method: 'GET', url, headers });
  const counts = async () => {
    const response = await get(VIEWER_PATHS.counts);
    expect(response.statusCode, response.body).toBe(200);
    return response.json<ViewerCounts>();
  };
  const transaction = async (id: string) => {
    const response = await get(`${VIEWER_PATHS.transaction}${encodeURIComponent(id)}`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json<ViewerTransaction>();
  };
  const signIn = async (headers: Record<string, string> = {}) => {
    const response = await w.app.inject({
      method: 'POST',
      url: VIEWER_PATHS.session,
      payload: { token: OPERATOR_TOKEN },
      headers,
    });
    expect(response.statusCode, response.body).toBe(200);
    return response;
  };
  /** `name=value` of the session cookie a response sets. */
  const cookieOf = (setCookie: string | string[] | undefined) => {
    const header = [setCookie ?? []].flat().find((c) => c.startsWith('mooring_operator='));
    if (!header) throw new Error(`no session cookie in ${JSON.stringify(setCookie)}`);
    return header.split(';')[0]!;
  };

  beforeAll(async () => {
    w = await viewerWorld(database);
    machines = (await get(VIEWER_PATHS.machines)).json<ViewerMachines>().machines;
  });
  afterAll(() => w?.close());

  describe('the page and its assets', () => {
    it('serves the page without authentication, with a strict content security policy', async () => {
      const response = await get(VIEWER_PATHS.page, {});
      expect(response.statusCode, response.body).toBe(200);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.headers['content-security-policy']).toBe(
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; " +
          "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
      );
      expect(VIEWER_CSP).toBe(response.headers['content-security-policy']);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['referrer-policy']).toBe('no-referrer');
      expect(response.body).toMatch(/<html/i);
      expect(response.body).toContain('viewer.js');
    });

    it('serves the script (valid JavaScript) and the stylesheet, revalidated by ETag', async () => {
      const script = await get(VIEWER_PATHS.script, {});
      expect(script.statusCode).toBe(200);
      expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect(script.headers['cache-control']).toBe('no-cache');
      expect(script.headers['x-content-type-options']).toBe('nosniff');
      expect(script.body.length).toBeGreaterThan(100);
      await expect(transform(script.body, { loader: 'js', format: 'esm' })).resolves.toBeDefined();

      const stylesheet = await get(VIEWER_PATHS.stylesheet, {});
      expect(stylesheet.statusCode).toBe(200);
      expect(stylesheet.headers['content-type']).toBe('text/css; charset=utf-8');

      const etag = String(script.headers.etag);
      expect(etag).toMatch(/^"[\w-]+"$/);
      const again = await get(VIEWER_PATHS.script, { 'if-none-match': etag });
      expect(again.statusCode).toBe(304);
      expect(again.body).toBe('');
    });

    it('compresses the assets for a browser that accepts it', async () => {
      const plain = await get(VIEWER_PATHS.script, {});
      for (const [encoding, decode] of [
        ['br', brotliDecompressSync],
        ['gzip', gunzipSync],
      ] as const) {
        const response = await w.app.inject({
          method: 'GET',
          url: VIEWER_PATHS.script,
          headers: { 'accept-encoding': encoding },
        });
        expect(response.statusCode).toBe(200);
        expect(response.headers['content-encoding']).toBe(encoding);
        expect(String(response.headers.vary)).toMatch(/accept-encoding/i);
        expect(response.rawPayload.length).toBeLessThan(plain.rawPayload.length / 2);
        expect(decode(response.rawPayload).toString('utf8')).toBe(plain.body);
      }
    });

    it('keeps every viewer route out of the OpenAPI document', async () => {
      const document = (await get('/openapi.json', {})).json<{ paths: Record<string, unknown> }>();
      expect(Object.keys(document.paths).filter((path) => path.startsWith(VIEWER_PATHS.page))).toEqual([]);
      expect(Object.keys(document.paths).length).toBeGreaterThan(0);
    });
  });

  describe('operator authentication', () => {
    it('refuses the API without a token, with a wrong one, or with a sending anchor SEP-10 token', async () => {
      const jwt = await tokenFor(w.config, KEYS.acme.publicKey());
      // The JWT is a good one: SEP-31 takes it (an unknown transaction is a 404, not a 403).
      const sep31 = await get(`/sep31/transactions/${randomUUID()}`, { authorization: `Bearer ${jwt}` });
      expect(sep31.statusCode, sep31.body).toBe(404);

      const refusals: Record<string, string>[] = [
        {},
        { authorization: 'Bearer not-the-operator-token' },
        { authorization: `Bearer ${OPERATOR_TOKEN}x` },
        { authorization: `Basic ${OPERATOR_TOKEN}` },
        { authorization: OPERATOR_TOKEN },
        { authorization: `Bearer ${jwt}` },
      ];
      for (const url of API) {
        for (const headers of refusals) {
          const response = await get(url, headers);
          expect(response.statusCode, `${url} ${JSON.stringify(headers)}`).toBe(401);
          expect(response.json()).toEqual({ error: 'operator token required' });
          expect(response.headers['www-authenticate']).toBe('Bearer');
        }
      }
    });

    it('takes the operator token as a Bearer token; API answers are never cached', async () => {
      for (const url of API.slice(0, 2)) {
        const response = await get(url);
        expect(response.statusCode, response.body).toBe(200);
        expect(response.headers['cache-control']).toBe('no-store');
      }
      expect((await get(API[2]!)).statusCode).toBe(404);
    });

    it('a session: the cookie signs the browser in, and nothing else does', async () => {
      expect((await get(VIEWER_PATHS.session, {})).json()).toEqual({ signedIn: false });

      const wrong = await w.app.inject({
        method: 'POST',
        url: VIEWER_PATHS.session,
        payload: { token: 'not-the-operator-token' },
      });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json()).toHaveProperty('error');
      expect(wrong.headers['set-cookie']).toBeUndefined();
      for (const payload of [{}, { token: '' }, { token: { a: 1 } }]) {
        const bad = await w.app.inject({ method: 'POST', url: VIEWER_PATHS.session, payload });
        expect(bad.statusCode, JSON.stringify(payload)).toBe(400);
        expect(bad.headers['set-cookie']).toBeUndefined();
      }
      // A form or text body (what a cross-site form could send) is refused too.
      for (const contentType of ['text/plain', 'application/x-www-form-urlencoded']) {
        const bad = await w.app.inject({
          method: 'POST',
          url: VIEWER_PATHS.session,
          payload: `token=${OPERATOR_TOKEN}`,
          headers: { 'content-type': contentType },
        });
        expect(bad.statusCode, contentType).toBeGreaterThanOrEqual(400);
        expect(bad.statusCode, contentType).toBeLessThan(500);
        expect(bad.headers['set-cookie']).toBeUndefined();
      }

      const response = await signIn();
      expect(response.json()).toEqual({ signedIn: true });
      const header = [response.headers['set-cookie']].flat().find((c) => c?.startsWith('mooring_operator='))!;
      expect(header).toMatch(/; HttpOnly/);
      expect(header).toMatch(/; SameSite=Strict/);
      expect(header).toMatch(/; Path=\/machines(;|$)/);
      expect(header).toMatch(/; Max-Age=43200/);
      expect(header).not.toMatch(/Secure/);
      expect(header).not.toContain(OPERATOR_TOKEN);
      const cookie = cookieOf(response.headers['set-cookie']);

      expect((await get(VIEWER_PATHS.counts, { cookie })).statusCode).toBe(200);
      expect((await get(VIEWER_PATHS.machines, { cookie })).statusCode).toBe(200);
      expect((await get(VIEWER_PATHS.session, { cookie })).json()).toEqual({ signedIn: true });
      // An Authorization header decides alone: a wrong token is not rescued by the cookie.
      expect((await get(VIEWER_PATHS.counts, { cookie, authorization: 'Bearer wrong' })).statusCode).toBe(
        401,
      );

      // Tampered: a later expiry under the old signature.
      const [name, value] = cookie.split('=') as [string, string];
      const [expiry, signature] = value.split('.') as [string, string];
      const forged = `${name}=${Number(expiry) + 1}.${signature}`;
      expect((await get(VIEWER_PATHS.counts, { cookie: forged })).statusCode).toBe(401);
      expect((await get(VIEWER_PATHS.counts, { cookie: `${name}=${expiry}` })).statusCode).toBe(401);

      const out = await w.app.inject({ method: 'DELETE', url: VIEWER_PATHS.session, headers: { cookie } });
      expect(out.statusCode).toBe(200);
      expect(out.json()).toEqual({ signedIn: false });
      const cleared = [out.headers['set-cookie']].flat().find((c) => c?.startsWith('mooring_operator='))!;
      expect(cleared).toMatch(/^mooring_operator=;/);
      expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970/);
      expect(cleared).toMatch(/; Path=\/machines(;|$)/);
    });

    it('sessions end after 12 hours', async () => {
      const cookie = cookieOf((await signIn()).headers['set-cookie']);
      w.advanceClock(TWELVE_HOURS - 60_000);
      try {
        expect((await get(VIEWER_PATHS.counts, { cookie })).statusCode).toBe(200);
        w.advanceClock(2 * 60_000);
        expect((await get(VIEWER_PATHS.counts, { cookie })).statusCode).toBe(401);
        expect((await get(VIEWER_PATHS.session, { cookie })).json()).toEqual({ signedIn: false });
      } finally {
        w.advanceClock(-(TWELVE_HOURS + 60_000));
      }
    });

    it('marks the cookie Secure behind HTTPS', async () => {
      const response = await signIn({ 'x-forwarded-proto': 'https' });
      expect(cookieOf(response.headers['set-cookie'])).toMatch(/^mooring_operator=/);
      expect([response.headers['set-cookie']].flat().join('\n')).toMatch(/; Secure/);
    });
  });

  describe('GET machines', () => {
    it('has both machines with every state and one edge per drawn arrow', () => {
      expect(machines.map((m) => m.name)).toEqual(Object.keys(MACHINES));
      for (const machine of machines) {
        const graph = toJson(MACHINES[machine.name]!);
        expect(machine.id).toBe(graph.id);
        expect(machine.states.map((s) => s.id)).toEqual(graph.states.map((s) => s.id));
        expect(machine.edges).toHaveLength(drawnEdges(graph).length);
        expect(new Set(machine.edges.map((e) => e.id)).size).toBe(machine.edges.length);
        const ids = new Set(machine.states.map((s) => s.id));
        for (const edge of machine.edges) {
          expect(ids).toContain(edge.from);
          expect(ids).toContain(edge.to);
        }
        expect(machine.counted).toBe(machine.name === 'transaction');
      }
      expect(machines.find((m) => m.name === 'transaction')!.states.map((s) => s.id)).toEqual(
        expect.arrayContaining(['transaction.pending_receiver.ready', 'transaction.pending_sender']),
      );
    });
  });

  describe('GET counts', () => {
    const transactionMachine = () => machines.find((m) => m.name === 'transaction')!;
    const latestEventId = async () => {
      const { rows } = await sql<{
        id: string | null;
      }>`select max(id)::text as id from transaction_events`.execute(w.db.db);
      return rows[0]?.id ?? '0';
    };
    const expectConsistent = (c: ViewerCounts) => {
      const machine = transactionMachine();
      expect(c.machine).toBe('transaction');
      expect(Object.keys(c.counts).sort()).toEqual(machine.states.map((s) => s.id).sort());
      for (const state of machine.states.filter((s) => s.type === 'compound')) {
        const children = machine.states.filter((s) => s.parent === state.id);
        expect(c.counts[state.id], state.id).toBe(children.reduce((sum, s) => sum + c.counts[s.id]!, 0));
      }
      const topLevel = machine.states.filter((s) => s.parent === null);
      expect(topLevel.reduce((sum, s) => sum + c.counts[s.id]!, 0)).toBe(c.total);
      expect(Date.parse(c.at)).not.toBeNaN();
    };
    const delta = (after: ViewerCounts, before: ViewerCounts) =>
      Object.fromEntries(
        Object.keys(after.counts)
          .map((id) => [id, after.counts[id]! - before.counts[id]!] as const)
          .filter(([, n]) => n !== 0),
      );

    it('move as transactions are created and events applied; a compound state sums its children', async () => {
      const start = await counts();
      expectConsistent(start);
      expect(start.latestEventId).toBe(await latestEventId());

      const id = await w.createWaiting();
      const waiting = await counts();
      expectConsistent(waiting);
      expect(waiting.total).toBe(start.total + 1);
      expect(delta(waiting, start)).toEqual({ 'transaction.pending_sender': 1 });
      expect(BigInt(waiting.latestEventId)).toBeGreaterThan(BigInt(start.latestEventId));
      expect(waiting.latestEventId).toBe(await latestEventId());

      await w.pay(id);
      const ready = await counts();
      expectConsistent(ready);
      expect(delta(ready, start)).toEqual({
        'transaction.pending_receiver': 1,
        'transaction.pending_receiver.ready': 1,
      });

      const other = await w.createWaiting();
      await w.pay(other);
      await w.apply(other, { type: 'PAYOUT_REQUESTED', at: AT });
      await w.apply(id, { type: 'ERROR', at: AT, message: 'stuck' });
      const later = await counts();
      expectConsistent(later);
      expect(delta(later, start)).toEqual({
        'transaction.pending_receiver': 1,
        'transaction.pending_receiver.paying_out': 1,
        'transaction.error': 1,
      });
      expect(later.total).toBe(start.total + 2);
    });

    it('counts rows written before state values were stored by their snapshot', async () => {
      const start = await counts();
      const id = await w.createWaiting();
      await w.pay(id);
      await w.db.db.updateTable('transactions').set({ state_value: null }).where('id', '=', id).execute();
      const after = await counts();
      expectConsistent(after);
      expect(delta(after, start)).toEqual({
        'transaction.pending_receiver': 1,
        'transaction.pending_receiver.ready': 1,
      });
    });
  });

  describe('GET transactions/:id', () => {
    it('shows the events in order, the path through the machine and what it accepts now', async () => {
      const id = await w.createWaiting();
      await w.pay(id);
      await w.apply(id, { type: 'ERROR', at: AT, message: 'rails down' });
      await w.apply(id, { type: 'RECOVER', at: AT, message: 'rails back' });
      const t = await transaction(id);

      expect(t).toMatchObject({
        id,
        status: 'pending_receiver',
        state: 'transaction.pending_receiver.ready',
        version: 5,
        startedAt: '2026-11-24T10:00:00.000Z',
        updatedAt: AT,
        completedAt: null,
      });
      expect(Number(t.amountIn)).toBe(100);
      expect(Number(t.amountOut)).toBe(98.5);
      expect(t.amountIn).toMatch(/^\d+(\.\d+)?$/);
      expect(t.amountInAsset).toBe(
        `stellar:USDC:${'GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVN'}`,
      );
      expect(t.sendingAnchor).toMatch(/^G[A-Z2-7]{55}$/);

      expect(t.events.map((e) => [e.seq, e.eventType])).toEqual([
        [1, 'CREATED'],
        [2, 'ACCOUNT_ASSIGNED'],
        [3, 'PAYMENT_RECEIVED'],
        [4, 'ERROR'],
        [5, 'RECOVER'],
      ]);
      expect(t.events.map((e) => [e.stateBefore, e.stateAfter])).toEqual([
        [null, 'transaction.pending_receiver.preparing'],
        ['transaction.pending_receiver.preparing', 'transaction.pending_sender'],
        ['transaction.pending_sender', 'transaction.pending_receiver.ready'],
        ['transaction.pending_receiver.ready', 'transaction.error'],
        ['transaction.error', 'transaction.pending_receiver.ready'],
      ]);
      expect(t.events.map((e) => e.statusAfter)).toEqual([
        'pending_receiver',
        'pending_sender',
        'pending_receiver',
        'error',
        'pending_receiver',
      ]);
      expect(t.events[0]!.statusBefore).toBeNull();
      expect(t.events[0]!.eventId).toBe('create');
      expect(t.events[3]!.payload).toEqual({ type: 'ERROR', at: AT, message: 'rails down' });
      expect(t.events[2]!.payload).toMatchObject({ type: 'PAYMENT_RECEIVED', payment: { amount: '100' } });
      expect(t.events[0]!.payload).toMatchObject({ type: 'CREATED', id });
      const times = t.events.map((e) => Date.parse(e.at));
      for (const [i, time] of times.entries()) {
        expect(new Date(time).toISOString()).toBe(t.events[i]!.at);
        if (i > 0) expect(time).toBeGreaterThanOrEqual(times[i - 1]!);
      }

      expect(t.path.states).toEqual(
        expect.arrayContaining([
          'transaction.pending_receiver',
          'transaction.pending_receiver.preparing',
          'transaction.pending_sender',
          'transaction.pending_receiver.ready',
          'transaction.error',
        ]),
      );
      expect(t.path.states).toHaveLength(5);

      // The arrows, found here from the drawing: each event's from the state before (or an ancestor) to the
      // state after. ERROR is a root transition, drawn from the top-level state pending_receiver.
      const edges = machines.find((m) => m.name === 'transaction')!.edges;
      const arrows = (event: string, from: string, to: string) =>
        edges.filter((e) => e.event === event && e.from === from && e.to === to).map((e) => e.id);
      const expected = [
        ...arrows('ACCOUNT_ASSIGNED', 'transaction.pending_receiver.preparing', 'transaction.pending_sender'),
        ...arrows('PAYMENT_RECEIVED', 'transaction.pending_sender', 'transaction.pending_receiver.ready'),
        ...arrows('ERROR', 'transaction.pending_receiver', 'transaction.error'),
        ...arrows('RECOVER', 'transaction.error', 'transaction.pending_receiver.ready'),
      ];
      // Exact payment and over-payment are guarded twins, both drawn; the path has the one the payment took.
      expect(expected).toHaveLength(5);
      const exact = edges.find((e) => expected.includes(e.id) && e.guard?.includes('paidExactly'));
      const over = edges.find((e) => expected.includes(e.id) && e.guard?.includes('overpaid'));
      expect(t.path.edges).toEqual(expected.filter((id) => id !== over!.id));
      expect(t.path.edges).toContain(exact!.id);

      const row = await findTransaction(w.db.db, id);
      const accepts = acceptedEventTypes(restore(row!.snapshot as unknown as PersistedTransaction));
      expect(t.accepts).toEqual(accepts);
      expect(t.accepts).toContain('PAYOUT_REQUESTED');
      expect(t.accepts).not.toContain('PAYMENT_RECEIVED');
    });

    it('a finished transaction accepts nothing', async () => {
      const id = await w.createWaiting();
      await w.apply(id, { type: 'EXPIRE', at: '2026-11-26T00:00:00.000Z' });
      const t = await transaction(id);
      expect(t.state).toBe('transaction.expired');
      expect(t.accepts).toEqual([]);
      const edges = machines.find((m) => m.name === 'transaction')!.edges;
      const expire = edges.find((e) => e.id === t.path.edges.at(-1));
      expect(expire).toMatchObject({
        event: 'EXPIRE',
        from: 'transaction.pending_sender',
        to: 'transaction.expired',
      });
    });

    it('on events recorded without their transition (older rows), draws every arrow that fits', async () => {
      const id = await w.createWaiting();
      await w.pay(id);
      await w.db.db
        .updateTable('transaction_events')
        .set({ transition: null })
        .where('transaction_id', '=', id)
        .execute();
      const t = await transaction(id);
      const edges = machines.find((m) => m.name === 'transaction')!.edges;
      const payments = t.path.edges.filter((e) => edges[Number(e)]!.event === 'PAYMENT_RECEIVED');
      expect(payments).toHaveLength(2);
    });

    it('falls back to the status on events written before their state was stored', async () => {
      const id = await w.createWaiting();
      await w.db.db
        .updateTable('transaction_events')
        .set({ state_after: null })
        .where('transaction_id', '=', id)
        .execute();
      const t = await transaction(id);
      expect(t.events.map((e) => e.stateAfter)).toEqual([
        'transaction.pending_receiver',
        'transaction.pending_sender',
      ]);
      expect(t.state).toBe('transaction.pending_sender');
      expect(t.path.edges).toHaveLength(1);
    });

    it('404 for an unknown id; 400, never 500, for an id that cannot be one', async () => {
      const unknown = await get(`${VIEWER_PATHS.transaction}${randomUUID()}`);
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json()).toEqual({ error: 'transaction not found' });
      for (const bad of [
        'a'.repeat(65),
        'a'.repeat(500),
        'a b',
        "x';drop table transactions;--",
        'a/b',
        '%00',
        'é',
      ]) {
        const response = await get(`${VIEWER_PATHS.transaction}${encodeURIComponent(bad)}`);
        expect(response.statusCode, bad).toBe(400);
        expect(response.json(), bad).toEqual({ error: expect.any(String) });
      }
      for (const bad of ['', '/']) {
        const response = await get(`${VIEWER_PATHS.transaction}${bad}`);
        expect(response.statusCode, bad).toBeLessThan(500);
        expect(response.statusCode, bad).toBeGreaterThanOrEqual(400);
      }
      expect((await get(`${VIEWER_PATHS.transaction}${'a'.repeat(64)}`)).statusCode).toBe(404);
    });
  });
});
