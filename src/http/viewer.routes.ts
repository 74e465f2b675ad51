/**
 * The machine viewer, the operators' console: the page and its assets, sign-in, and a JSON API with the
 * machines, live per-state counts (server-sent events), a state's transactions and searches, unmatched payments
 * and one transaction's path. Read-only itself: the page's actions go to the operator API (`/operator/rpc`).
 * Paths and bodies are the contract in src/viewer/api.ts. Off (every route 404) unless OPERATOR_TOKEN is set.
 * Hidden from OpenAPI.
 *
 * Authentication is the operator token (Bearer) or the session cookie it buys (see operator-auth.ts); the
 * page and assets hold no data and need neither. Cookies and SSE are registered in this scope only.
 */
import compress from '@fastify/compress';
import { fastifySSE } from '@fastify/sse';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { MooringError } from '../errors.ts';
import {
  VIEWER_BASE,
  VIEWER_MAX_PAGE_SIZE,
  VIEWER_PAGE_SIZE,
  VIEWER_PATHS,
  type ViewerCounts,
  type ViewerTransition,
  type ViewerMachines,
  type ViewerSession,
} from '../viewer/api.ts';
import { viewerAssets, type ViewerAsset, type ViewerAssets } from '../viewer/bundle.ts';
import { createLiveFeed, POLL_INTERVAL_MS, sameCounts, type LiveUpdate } from '../viewer/live.ts';
import { viewerMachines } from '../viewer/machines.ts';
import { viewerDirectory } from '../viewer/directory.ts';
import { isCountedState, parseCursor } from '../viewer/lists.ts';
import type { RouteDeps } from './app.ts';
import { operatorAuth, operatorCookiePlugin } from './operator-auth.ts';
import { operatorRpc, rpcBodyAsText, rpcRoute } from './operator.routes.ts';
import { outageLog } from '../outage-log.ts';

export const VIEWER_OFF = 'the machine viewer is off: set OPERATOR_TOKEN to turn it on';
/** Transitions replayed after `Last-Event-ID` at most; a client further behind relies on the counts. */
export const REPLAY_LIMIT = 200;
/** Transitions a new client (no `Last-Event-ID`) gets first, so its activity feed does not start empty. */
export const RECENT_LIMIT = 20;
const SSE_HEARTBEAT_MS = 15_000;
/** Transaction ids are UUIDs; anything outside this is refused before it reaches the database. */
const TRANSACTION_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const EVENT_ID = /^\d{1,19}$/;
const MAX_BIGINT = 2n ** 63n - 1n;
/** A `Last-Event-ID` that can be a transaction_events id (bigint). */
const isEventId = (value: string | null): value is string =>
  value !== null && EVENT_ID.test(value) && BigInt(value) <= MAX_BIGINT;

export const VIEWER_CSP = [
  "default-src 'self'",
  "img-src 'self' data:",
  "style-src 'self'",
  "script-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': VIEWER_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const hidden = { hide: true };
/** What a search may be: ids, memos (text up to 28 bytes, id, base64 or hex hash) and hashes. */
const SEARCH = /^[A-Za-z0-9._:+/=-]{0,128}$/;

/** A query parameter given once as text, or undefined; anything else (repeated) is refused. */
function optionalText(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new MooringError('bad_request', `${name}: give it once`);
  return value;
}

/** `limit`: 1 to VIEWER_MAX_PAGE_SIZE, VIEWER_PAGE_SIZE when absent. */
function pageSize(query: Record<string, unknown>): number {
  const text = optionalText(query, 'limit');
  if (text === undefined) return VIEWER_PAGE_SIZE;
  const n = /^\d{1,3}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= VIEWER_MAX_PAGE_SIZE)) {
    throw new MooringError('bad_request', `limit: a whole number from 1 to ${VIEWER_MAX_PAGE_SIZE}`);
  }
  return n;
}
/** A path of VIEWER_PATHS relative to the plugin's prefix (VIEWER_BASE). */
const local = (path: string) => path.slice(VIEWER_BASE.length) || '/';

export interface ViewerRouteOptions {
  /** How often the live feed polls the event log (default POLL_INTERVAL_MS). */
  pollIntervalMs?: number;
  /** The browser assets (default: built from src/viewer/client/ once per process). */
  assets?: () => Promise<ViewerAssets>;
}

export async function viewerRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(SECURITY_HEADERS);
  });

  const operatorToken = deps.config.operatorToken;
  if (operatorToken === null) {
    const off = async (_request: FastifyRequest, reply: FastifyReply) =>
      reply.status(404).send({ error: VIEWER_OFF });
    app.all('/', { schema: hidden }, off);
    app.all('/*', { schema: hidden }, off);
    return;
  }

  const views = deps.viewerQueries;
  const directory = viewerDirectory(deps.config);
  const now = () => deps.clock?.() ?? new Date();
  const assets = deps.viewer?.assets ?? viewerAssets;
  const auth = operatorAuth({
    operatorToken,
    cookiePath: VIEWER_BASE,
    ...(deps.clock && { clock: deps.clock }),
  });
  await operatorCookiePlugin(app, operatorToken);
  await app.register(fastifySSE, { heartbeatInterval: SSE_HEARTBEAT_MS });

  // One poller for every live connection of this app; stopped before the server closes, so that open
  // streams end and close() does not wait on them.
  const viewerOutage = outageLog(app.log, 'machine viewer');
  const feed = createLiveFeed({
    reader: {
      counts: () => views.counts(now()),
      transitionsSince: (afterId, limit) => views.transitionsSince(afterId, limit),
    },
    pollIntervalMs: deps.viewer?.pollIntervalMs ?? POLL_INTERVAL_MS,
    // One line per database outage, not a stack per tick while a viewer is open.
    onError: (error) => viewerOutage.failed(error, 'live poll failed'),
    onSuccess: () => viewerOutage.succeeded(),
  });
  const streams = new Set<() => void>();
  app.addHook('preClose', async () => {
    feed.stop();
    for (const close of streams) close();
  });
  app.addHook('onClose', async () => feed.stop());

  // The page and its assets: no data in them, so no authentication. Compressed (the script is ~1.5 MB, mostly
  // the layout library), in their own scope so that the live stream is never buffered by a compressor.
  await app.register(async (files) => {
    await files.register(compress, { encodings: ['br', 'gzip'] });
    const serve =
      (pick: (all: ViewerAssets) => ViewerAsset) => async (request: FastifyRequest, reply: FastifyReply) => {
        const asset = pick(await assets());
        reply.header('cache-control', 'no-cache').header('etag', asset.etag).type(asset.contentType);
        if (request.headers['if-none-match'] === asset.etag) return reply.status(304).send();
        return reply.send(asset.body);
      };
    files.get(
      local(VIEWER_PATHS.page),
      { schema: hidden },
      serve((a) => a.html),
    );
    files.get(
      local(VIEWER_PATHS.script),
      { schema: hidden },
      serve((a) => a.script),
    );
    files.get(
      local(VIEWER_PATHS.stylesheet),
      { schema: hidden },
      serve((a) => a.stylesheet),
    );
  });

  // Sign-in: answers whether signed in, never 401.
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const guesses = deps.limits.operatorGuesses;
  const noStore = async (_request: FastifyRequest, reply: FastifyReply) => {
    reply.header('cache-control', 'no-store');
  };
  r.get(
    local(VIEWER_PATHS.session),
    { schema: hidden, onRequest: noStore },
    async (request): Promise<ViewerSession> => ({ signedIn: auth.isOperator(request) }),
  );
  r.post(
    local(VIEWER_PATHS.session),
    {
      schema: { ...hidden, body: Type.Object({ token: Type.String({ minLength: 1, maxLength: 4096 }) }) },
      // Every sign-in is a guess, right or wrong, counted per client address: a guesser elsewhere cannot
      // lock the operator out.
      onRequest: [noStore, guesses.refuseWhenSpent],
    },
    async (request, reply): Promise<ViewerSession> => {
      await guesses.spend(request);
      if (!auth.signIn(request, reply, request.body.token)) {
        throw new MooringError('unauthenticated', 'invalid operator token');
      }
      return { signedIn: true };
    },
  );
  r.delete(
    local(VIEWER_PATHS.session),
    { schema: hidden, onRequest: noStore },
    async (request, reply): Promise<ViewerSession> => {
      auth.signOut(request, reply);
      return { signedIn: false };
    },
  );

  // The API: operator only.
  await app.register(async (api) => {
    // A Bearer token is a guess at the operator token too: wrong ones draw on the sign-in budget.
    api.addHook('onRequest', guesses.refuseWhenSpent);
    api.addHook('onRequest', async (request) => {
      if (request.headers.authorization !== undefined && !auth.isOperator(request))
        await guesses.spend(request);
    });
    api.addHook('onRequest', auth.required);
    api.addHook('onRequest', noStore);

    let machines: ViewerMachines | undefined;
    api.get(local(VIEWER_PATHS.machines), { schema: hidden }, async () => {
      machines ??= { machines: viewerMachines() };
      return machines;
    });

    api.get(local(VIEWER_PATHS.counts), { schema: hidden }, async () => views.counts(now()));

    // A wildcard, not `:id`: the router would answer an over-long parameter 404 before we can say 400.
    api.get(`${local(VIEWER_PATHS.transaction)}*`, { schema: hidden }, async (request) => {
      const id = (request.params as { '*'?: string })['*'] ?? '';
      if (!TRANSACTION_ID.test(id)) {
        throw new MooringError('bad_request', 'not a transaction id: at most 64 letters, digits, . _ : -');
      }
      const transaction = await views.transaction(id);
      if (!transaction) throw new MooringError('not_found', 'transaction not found');
      return directory.describe(transaction);
    });

    // Lists: a state's transactions or a search, and unmatched payments; paged newest first.
    api.get(local(VIEWER_PATHS.transactions), { schema: hidden }, async (request) => {
      const query = request.query as Record<string, unknown>;
      const state = optionalText(query, 'state');
      const q = optionalText(query, 'q')?.trim();
      const before = optionalText(query, 'before');
      if (state !== undefined && !isCountedState(state)) {
        throw new MooringError('bad_request', `not a state of the transaction machine: ${state}`);
      }
      if (q !== undefined && !SEARCH.test(q)) {
        throw new MooringError(
          'bad_request',
          'q: an id, memo or Stellar transaction hash (at most 128 characters)',
        );
      }
      if (state === undefined && (q === undefined || q === '')) {
        throw new MooringError('bad_request', 'give a state or q');
      }
      if (before !== undefined && parseCursor(before) === null) {
        throw new MooringError('bad_request', 'before: the next value of the page before');
      }
      return views.transactions({
        ...(state !== undefined && { state }),
        ...(q !== undefined && q !== '' && { q }),
        ...(before !== undefined && { before }),
        limit: pageSize(query),
      });
    });

    // The operator API for the console: its session cookie is scoped to the viewer, so the console's actions
    // come here rather than to /operator/rpc (Bearer only). Recorded as `console` unless X-Operator names one.
    const { api: operatorApi } = operatorRpc(app, deps);
    await api.register(async (rpc) => {
      rpcBodyAsText(rpc);
      rpc.post(local(VIEWER_PATHS.rpc), { schema: hidden }, rpcRoute(operatorApi, 'console'));
    });

    api.get(local(VIEWER_PATHS.unmatched), { schema: hidden }, async (request) => {
      const query = request.query as Record<string, unknown>;
      const before = optionalText(query, 'before');
      if (before !== undefined && !isEventId(before)) {
        throw new MooringError('bad_request', 'before: the id of the last payment seen');
      }
      return views.unmatchedPayments({ ...(before !== undefined && { before }), limit: pageSize(query) });
    });

    api.get(
      local(VIEWER_PATHS.live),
      { schema: hidden, sse: 'only', exposeHeadRoute: false },
      async (request, reply) => {
        const stream = reply.sse;
        /** The highest transition id this client has: nothing at or below it is sent again. */
        let floor = 0n;
        let ready = false;
        let committed = false;
        const early: LiveUpdate[] = [];
        let chain = Promise.resolve();

        /** The counts this client has: the same counts again are not sent. */
        let shown: ViewerCounts | undefined;
        const sendCounts = async (counts: ViewerCounts) => {
          if (sameCounts(counts, shown)) return;
          await stream.send({ event: 'counts', data: counts });
          shown = counts;
        };
        // What happened first, then the totals it led to.
        const send = async (update: LiveUpdate) => {
          // The shared poller may have begun after rows this client has not had (its cursor starts where
          // its first counts said): when the counts are ahead of what reaches this client, read the gap.
          const newest = update.counts ? BigInt(update.counts.latestEventId) : 0n;
          const next = update.transitions.find((transition) => BigInt(transition.id) > floor);
          if (newest > floor && (next === undefined || BigInt(next.id) > floor + 1n)) {
            await sendTransitions(await views.transitionsSince(String(floor), REPLAY_LIMIT));
          }
          await sendTransitions(update.transitions);
          if (update.counts && stream.isConnected) await sendCounts(update.counts);
        };
        const sendTransitions = async (transitions: readonly ViewerTransition[]) => {
          for (const transition of transitions) {
            const id = BigInt(transition.id);
            if (id <= floor || !stream.isConnected) continue;
            await stream.send({ id: transition.id, event: 'transition', data: transition });
            floor = id;
          }
        };
        const enqueue = (work: () => Promise<void> | void) => {
          chain = chain.then(work).catch((error: unknown) => {
            request.log.debug({ err: error }, 'machine viewer: live stream write failed');
            stream.close();
          });
        };
        // On shutdown at once, even behind a write a slow client holds up.
        const close = () => stream.close();

        // Subscribe first and hold what arrives until the initial counts and the replay are out.
        const subscription = feed.updates.subscribe({
          next: (update) => (ready ? enqueue(() => send(update)) : early.push(update)),
          complete: () => enqueue(close),
        });
        streams.add(close);
        stream.onClose(() => {
          streams.delete(close);
          subscription.unsubscribe();
        });

        try {
          const counts = await views.counts(now());
          await sendCounts(counts);
          committed = true;
          floor = BigInt(counts.latestEventId);
          const last = stream.lastEventId;
          const missed = isEventId(last)
            ? await views.transitionsSince(last, REPLAY_LIMIT)
            : await views.recentTransitions(RECENT_LIMIT);
          for (const transition of missed) {
            await stream.send({ id: transition.id, event: 'transition', data: transition });
            if (BigInt(transition.id) > floor) floor = BigInt(transition.id);
          }
        } catch (error) {
          subscription.unsubscribe();
          streams.delete(close);
          if (!committed && stream.isConnected) throw error;
          request.log.warn({ err: error }, 'machine viewer: live stream failed');
          stream.close();
          return;
        }
        stream.keepAlive();
        ready = true;
        for (const update of early.splice(0)) enqueue(() => send(update));
      },
    );
  });
}
