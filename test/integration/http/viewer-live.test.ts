// The machine viewer's live stream (server-sent events) on every test database, over a real socket: the
// initial counts, transitions and new counts as events are applied, Last-Event-ID replay, and shutdown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECENT_LIMIT } from '../../../src/http/viewer.routes.ts';
import { VIEWER_PATHS, type ViewerCounts, type ViewerTransition } from '../../../src/viewer/api.ts';
import { KEYS, tokenFor } from '../../helpers/app.ts';
import { testDatabases } from '../../helpers/database.ts';
import { readSse, type SseEvent, type SseStream } from '../../helpers/sse.ts';
import { OPERATOR, viewerWorld, type ViewerWorld } from './viewer-support.ts';

const data = <T>(event: SseEvent) => JSON.parse(event.data) as T;
const isTransition = (predicate: (t: ViewerTransition) => boolean) => (event: SseEvent) =>
  event.event === 'transition' && predicate(data<ViewerTransition>(event));
const isCounts = (predicate: (c: ViewerCounts) => boolean) => (event: SseEvent) =>
  event.event === 'counts' && predicate(data<ViewerCounts>(event));

describe.each(testDatabases())('machine viewer live stream on $name', (database) => {
  let w: ViewerWorld;
  let base: string;
  const streams: { controller: AbortController; events: SseStream }[] = [];

  async function listen(world: ViewerWorld, headers: Record<string, string> = {}) {
    const url = await world.app.listen({ host: '127.0.0.1', port: 0 });
    return { url, headers };
  }

  async function open(headers: Record<string, string> = {}, at = base) {
    const controller = new AbortController();
    const response = await fetch(`${at}${VIEWER_PATHS.live}`, {
      headers: { ...OPERATOR, accept: 'text/event-stream', ...headers },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = readSse(response);
    streams.push({ controller, events });
    return events;
  }

  const counts = async () =>
    (await w.app.inject({ method: 'GET', url: VIEWER_PATHS.counts, headers: OPERATOR })).json<ViewerCounts>();
  const eventIds = async (transactionId: string) =>
    (
      await w.db.db
        .selectFrom('transaction_events')
        .select(['id', 'seq'])
        .where('transaction_id', '=', transactionId)
        .orderBy('seq')
        .execute()
    ).map((row) => String(row.id));

  beforeAll(async () => {
    w = await viewerWorld(database);
    ({ url: base } = await listen(w));
  });
  afterAll(async () => {
    for (const { controller, events } of streams) {
      await events.close();
      controller.abort();
    }
    await w?.close();
  });

  it('refuses a caller without the operator token, and a sending anchor', async () => {
    const jwt = await tokenFor(w.config, KEYS.acme.publicKey());
    for (const authorization of ['', 'Bearer wrong', `Bearer ${jwt}`]) {
      const response = await fetch(`${base}${VIEWER_PATHS.live}`, {
        headers: { accept: 'text/event-stream', ...(authorization && { authorization }) },
      });
      expect(response.status, authorization).toBe(401);
      expect(await response.json()).toEqual({ error: 'operator token required' });
    }
  });

  it('sends the counts at once, then each transition and the new counts as events are applied', async () => {
    const start = await counts();
    const events = await open();
    const first = await events.next();
    expect(first.event).toBe('counts');
    expect({ ...data<ViewerCounts>(first), at: null }).toEqual({ ...start, at: null });

    const id = await w.createWaiting();
    const [createdId, assignedId] = await eventIds(id);
    const created = await events.next(isTransition((t) => t.transactionId === id && t.seq === 1));
    const assigned = await events.next(isTransition((t) => t.transactionId === id && t.seq === 2));
    expect(created.id).toBe(createdId);
    expect(assigned.id).toBe(assignedId);
    expect(data<ViewerTransition>(assigned)).toMatchObject({
      id: assignedId,
      transactionId: id,
      eventType: 'ACCOUNT_ASSIGNED',
      statusBefore: 'pending_receiver',
      statusAfter: 'pending_sender',
      stateAfter: 'transaction.pending_sender',
    });
    await events.next(
      isCounts(
        (c) => c.counts['transaction.pending_sender'] === start.counts['transaction.pending_sender']! + 1,
      ),
    );

    await w.pay(id);
    const paid = await events.next(
      isTransition((t) => t.transactionId === id && t.eventType === 'PAYMENT_RECEIVED'),
    );
    expect(data<ViewerTransition>(paid)).toMatchObject({
      seq: 3,
      statusBefore: 'pending_sender',
      statusAfter: 'pending_receiver',
      stateAfter: 'transaction.pending_receiver.ready',
    });
    expect(Date.parse(data<ViewerTransition>(paid).at)).not.toBeNaN();
    const ready = 'transaction.pending_receiver.ready';
    const after = data<ViewerCounts>(
      await events.next(isCounts((c) => c.counts[ready] === start.counts[ready]! + 1)),
    );
    expect(after.counts['transaction.pending_receiver']).toBe(
      start.counts['transaction.pending_receiver']! + 1,
    );
    expect(after.total).toBe(start.total + 1);

    // Every transition once, in id order.
    const ids = events.seen.filter((e) => e.event === 'transition').map((e) => BigInt(e.id!));
    expect(ids).toEqual([...ids].sort((a, b) => (a < b ? -1 : 1)));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('every listener gets the same transitions', async () => {
    const [a, b] = [await open(), await open()];
    await a.next((e) => e.event === 'counts');
    await b.next((e) => e.event === 'counts');
    const id = await w.createWaiting();
    const [, assignedId] = await eventIds(id);
    for (const events of [a, b]) {
      const event = await events.next(isTransition((t) => t.transactionId === id && t.seq === 2));
      expect(event.id).toBe(assignedId);
    }
  });

  it('replays the transitions after Last-Event-ID, then goes on live without repeating them', async () => {
    const since = (await counts()).latestEventId;
    const id = await w.createWaiting();
    await w.pay(id);
    const missed = await eventIds(id);
    expect(missed).toHaveLength(3);

    const events = await open({ 'last-event-id': since });
    expect((await events.next()).event).toBe('counts');
    const replayed = [await events.next(), await events.next(), await events.next()];
    expect(replayed.map((e) => [e.event, e.id])).toEqual(missed.map((m) => ['transition', m]));
    expect(replayed.map((e) => data<ViewerTransition>(e).eventType)).toEqual([
      'CREATED',
      'ACCOUNT_ASSIGNED',
      'PAYMENT_RECEIVED',
    ]);

    await w.apply(id, { type: 'PAYOUT_REQUESTED', at: '2026-11-24T10:11:00.000Z' });
    const live = await events.next(
      isTransition((t) => t.transactionId === id && t.eventType === 'PAYOUT_REQUESTED'),
    );
    expect(data<ViewerTransition>(live).stateAfter).toBe('transaction.pending_receiver.paying_out');
    const ids = events.seen.filter((e) => e.event === 'transition').map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);

    // Without Last-Event-ID: the newest RECENT_LIMIT transitions first (oldest first), then the live ones.
    const recent = (
      await w.db.db
        .selectFrom('transaction_events')
        .select('id')
        .orderBy('id', 'desc')
        .limit(RECENT_LIMIT)
        .execute()
    )
      .map((row) => String(row.id))
      .reverse();
    expect(recent.length).toBeGreaterThan(3);
    const fresh = await open();
    await fresh.next((e) => e.event === 'counts');
    const first: string[] = [];
    for (const _ of recent) first.push((await fresh.next()).id!);
    expect(first).toEqual(recent);
    await w.apply(id, { type: 'PAYOUT_COMPLETED', at: '2026-11-24T10:12:00.000Z' });
    const next = await fresh.next((e) => e.event === 'transition');
    expect(data<ViewerTransition>(next)).toMatchObject({ transactionId: id, eventType: 'PAYOUT_COMPLETED' });
  });

  it('a Last-Event-ID that cannot be an event id counts as none, and the stream goes on', async () => {
    for (const last of ['not-a-number', '-1', '9999999999999999999', '1'.repeat(40)]) {
      const { latestEventId } = await counts();
      const events = await open({ 'last-event-id': last });
      expect((await events.next()).event, last).toBe('counts');
      const id = await w.createWaiting();
      const created = await events.next(isTransition((t) => t.transactionId === id && t.seq === 1));
      // Before it, only the recent transitions a new client gets, none of them newer than the counts.
      const before = events.seen.slice(1, events.seen.indexOf(created));
      expect(before.length, last).toBeLessThanOrEqual(RECENT_LIMIT);
      for (const e of before) expect(BigInt(e.id!) <= BigInt(latestEventId), last).toBe(true);
    }
  });

  it('closing the app ends open streams instead of waiting on them', async () => {
    const other = await viewerWorld(database);
    let closed = false;
    try {
      const { url } = await listen(other);
      const events = await open({}, url);
      await events.next((e) => e.event === 'counts');
      await other.close();
      closed = true;
      expect(await events.ended(5_000)).toBe(true);
    } finally {
      if (!closed) await other.close();
    }
  });
});
