/**
 * The fake Horizon's SSE streams: Horizon's wire format, cursors and Last-Event-ID, and the failure controls,
 * checked both on the raw wire and through the SDK's `.stream()` (eventsource 4) the watcher uses.
 */
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Asset, Horizon, Keypair, Memo, Networks, Transaction } from '@stellar/stellar-sdk';
import { startFakeHorizon, type FakeHorizon } from '../../fakes/fake-horizon.ts';
import type { Stored } from '../../fakes/horizon-history.ts';
import type { BuiltTransaction } from '../../fakes/horizon-records.ts';
import { createSseHub, helloEvent, KEEPALIVE_COMMENT, recordEvent } from '../../fakes/horizon-sse.ts';
import { collect, parseSse, readSse, waitFor } from './support.ts';

const USDC = new Asset('USDC', Keypair.random().publicKey());
const sender = Keypair.random();

let fake: FakeHorizon;
let server: Horizon.Server;
let anchor: string;
const closers: (() => void)[] = [];

beforeEach(async () => {
  // A short reconnection delay keeps drop tests quick; Horizon's own 1000 is checked on the wire below.
  fake = await startFakeHorizon({ sseRetryMs: 20 });
  server = new Horizon.Server(fake.url, { allowHttp: true });
  anchor = Keypair.random().publicKey();
});

afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await fake.close();
});

function pay(i: number, extra: { successful?: boolean } = {}): BuiltTransaction {
  return fake.pay({
    from: sender,
    destination: anchor,
    asset: USDC,
    amount: `${i}`,
    memo: Memo.id(String(i)),
    ...extra,
  });
}

const idsOf = (built: BuiltTransaction[]) => built.map((b) => b.operations[0]!.id);

function stream(cursor: string, options: { reconnectTimeout?: number } = {}) {
  const collected = collect(
    server.payments().forAccount(anchor).cursor(cursor).join('transactions'),
    options,
  );
  closers.push(collected.close);
  return collected;
}

describe("Horizon's wire format", () => {
  it('hello first (retry 1000), then one event per record (id = paging_token), goodbye after `limit`', async () => {
    const fresh = await startFakeHorizon();
    try {
      const built = [1, 2, 3].map((i) =>
        fresh.pay({ from: sender, destination: anchor, asset: USDC, amount: `${i}` }),
      );
      const { status, contentType, text, ended } = await readSse(
        `${fresh.url}/accounts/${anchor}/payments?cursor=0&limit=2`,
      );
      expect([status, contentType, ended]).toEqual([200, 'text/event-stream; charset=utf-8', true]);
      const [first, second] = built.map((b) => b.operations[0]!);
      expect(text).toBe(
        'retry: 1000\nevent: open\ndata: "hello"\n\n' +
          `id: ${first!.paging_token}\ndata: ${JSON.stringify(first)}\n\n` +
          `id: ${second!.paging_token}\ndata: ${JSON.stringify(second)}\n\n` +
          'retry: 10\nevent: close\ndata: "byebye"\n\n',
      );
    } finally {
      await fresh.close();
    }
  });

  it('Last-Event-ID wins over cursor (how eventsource resumes)', async () => {
    const built = [1, 2, 3, 4, 5].map((i) => pay(i));
    const { text } = await readSse(`${fake.url}/accounts/${anchor}/payments?cursor=0&limit=2`, {
      'last-event-id': built[2]!.operations[0]!.id,
    });
    expect(parseSse(text).flatMap((e) => (e.id ? [e.id] : []))).toEqual(idsOf(built.slice(3, 5)));
  });

  it('cursor=now sends only what is appended after the stream opened', async () => {
    [1, 2].map((i) => pay(i));
    const reading = readSse(`${fake.url}/accounts/${anchor}/payments?cursor=now`, {}, (text) =>
      text.includes('id: '),
    );
    await waitFor(() => fake.openStreams().length === 1, 'the stream to open');
    const later = pay(3);
    const { text } = await reading;
    expect(parseSse(text)).toEqual([
      { retry: '20', event: 'open', data: '"hello"' },
      { id: later.operations[0]!.id, data: JSON.stringify(later.operations[0]) },
    ]);
  });

  it('join=transactions embeds the transaction in streamed records; failed ones only with include_failed', async () => {
    const built = [pay(1), pay(2, { successful: false }), pay(3)];
    const read = async (query: string) =>
      parseSse((await readSse(`${fake.url}/accounts/${anchor}/payments?cursor=0&limit=2&${query}`)).text)
        .filter((e) => e.id)
        .map((e) => JSON.parse(e.data!) as { id: string; transaction?: { hash: string; memo: string } });
    const joined = await read('join=transactions');
    expect(joined.map((r) => [r.id, r.transaction?.hash, r.transaction?.memo])).toEqual([
      [built[0]!.operations[0]!.id, built[0]!.transaction.hash, '1'],
      [built[2]!.operations[0]!.id, built[2]!.transaction.hash, '3'],
    ]);
    const withFailed = await read('include_failed=true');
    expect(withFailed.map((r) => r.id)).toEqual(idsOf(built.slice(0, 2)));
  });

  it('transactions stream too; a single transaction does not (406)', async () => {
    const built = [pay(1), pay(2)];
    const { text } = await readSse(`${fake.url}/accounts/${anchor}/transactions?limit=2`);
    expect(parseSse(text).flatMap((e) => (e.id ? [e.id] : []))).toEqual(
      built.map((b) => b.transaction.paging_token),
    );
    const single = await fetch(`${fake.url}/transactions/${built[0]!.transaction.hash}`, {
      headers: { accept: 'text/event-stream' },
    });
    expect(single.status).toBe(406);
  });

  it('keep-alive comments only when asked for (Horizon sends none)', async () => {
    const chatty = await startFakeHorizon({ keepAliveMs: 10 });
    try {
      const { text } = await readSse(`${chatty.url}/accounts/${anchor}/payments`, {}, (t) =>
        t.includes(': keepalive'),
      );
      expect(text.startsWith('retry: 1000\nevent: open\ndata: "hello"\n\n: keepalive\n\n')).toBe(true);
    } finally {
      await chatty.close();
    }
  });
});

describe('through the SDK stream', () => {
  it('delivers the backlog then appended records, in order, across Horizon closing every 10 records', async () => {
    const backlog = Array.from({ length: 12 }, (_, i) => pay(i + 1));
    const { records } = stream('0');
    await waitFor(() => records.length === 12, 'the backlog');
    const later = [pay(13), pay(14), pay(15)];
    await waitFor(() => records.length === 15, 'the appended payments');
    expect(records.map((r) => r.id)).toEqual(idsOf([...backlog, ...later]));
    // Horizon ends a stream after `limit` (default 10) records; the SDK reconnected from its last paging token.
    const streamRequests = fake.requestLog.filter((r) => r.stream);
    expect(streamRequests.length).toBeGreaterThanOrEqual(2);
    expect(new URL(streamRequests[1]!.url, fake.url).searchParams.get('cursor')).toBe(
      backlog[9]!.operations[0]!.id,
    );
  });

  it('memo and memo_type are readable at rec.transaction_attr; the hash is the envelope hash', async () => {
    const built = fake.pay({
      from: sender,
      destination: anchor,
      asset: USDC,
      amount: '10',
      memo: Memo.text('abc'),
    });
    const { records } = stream('0');
    const [record] = await waitFor(() => records.length === 1 && records, 'one record');
    expect(record!.transaction_attr).toMatchObject({
      memo_type: 'text',
      memo: 'abc',
      hash: built.transaction.hash,
    });
    const envelope = new Transaction(record!.transaction_attr!.envelope_xdr, Networks.TESTNET);
    expect(Buffer.from(envelope.hash()).toString('hex')).toBe(record!.transaction_hash);
    expect(record).toMatchObject({ type: 'payment', amount: '10.0000000', to: anchor });
  });

  it('cursor=now: only payments appended after the stream opened', async () => {
    [1, 2, 3].map((i) => pay(i));
    const { records } = stream('now');
    await waitFor(() => fake.openStreams().some((s) => s.answered), 'the stream to open');
    const later = pay(4);
    await waitFor(() => records.length === 1, 'the new payment');
    expect(records.map((r) => r.id)).toEqual(idsOf([later]));
  });

  it('resumes after dropStreams() without loss or duplicate, using Last-Event-ID', async () => {
    const first = [1, 2, 3].map((i) => pay(i));
    const { records, errors } = stream('0');
    await waitFor(() => records.length === 3, 'the first payments');
    const requestsBefore = fake.requestLog.length;

    expect(fake.dropStreams()).toBe(1);
    const during = [4, 5].map((i) => pay(i)); // appended while nobody listens
    await waitFor(() => records.length === 5, 'the payments made during the outage');
    const after = [pay(6)];
    await waitFor(() => records.length === 6, 'a payment after reconnecting');

    expect(records.map((r) => r.id)).toEqual(idsOf([...first, ...during, ...after]));
    expect(errors.length).toBeGreaterThanOrEqual(1);
    const reconnect = fake.requestLog.slice(requestsBefore).find((r) => r.stream);
    expect(reconnect?.lastEventId).toBe(first[2]!.operations[0]!.id);
  });

  it('setSilent(true): connections stay open but nothing is sent, not even to new ones; then it all arrives', async () => {
    const first = [1, 2].map((i) => pay(i));
    const { records } = stream('0');
    await waitFor(() => records.length === 2, 'the backlog');

    fake.setSilent(true);
    const held = [3, 4].map((i) => pay(i));
    // Appends push synchronously to open streams, so had anything been sent it would show already.
    expect(fake.openStreams()).toEqual([expect.objectContaining({ sent: 2, answered: true })]);
    const logged = fake.requestLog.length;
    const late = readSse(`${fake.url}/accounts/${anchor}/payments?cursor=0&limit=4`);
    await waitFor(() => fake.requestLog.length > logged, 'the new stream request');
    expect(fake.openStreams()).toHaveLength(2);
    expect(fake.openStreams()[1]).toMatchObject({ answered: false, sent: 0 });
    expect(fake.requestLog.at(-1)!.status).toBeUndefined();

    fake.setSilent(false);
    await waitFor(() => records.length === 4, 'the held payments');
    expect(records.map((r) => r.id)).toEqual(idsOf([...first, ...held]));
    const { text, ended } = await late;
    expect(ended).toBe(true);
    expect(parseSse(text).flatMap((e) => (e.id ? [e.id] : []))).toEqual(idsOf([...first, ...held]));
  });

  it('a stream request that fails (failNext 503) is rebuilt by the SDK after its reconnectTimeout', async () => {
    const built = [1, 2].map((i) => pay(i));
    fake.failNext(1, 503, (request) => request.stream);
    const { records, errors } = stream('0', { reconnectTimeout: 100 });
    await waitFor(() => records.length === 2, 'the payments after the retry');
    expect(records.map((r) => r.id)).toEqual(idsOf(built));
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(
      fake.requestLog
        .filter((r) => r.stream)
        .map((r) => r.status)
        .slice(0, 2),
    ).toEqual([503, 200]);
  });
});

describe('the SSE hub under virtual time', () => {
  it('silence stops keep-alives too; they resume with the records when silence ends', () => {
    vi.useFakeTimers();
    try {
      const hub = createSseHub({ retryMs: 1000, keepAliveMs: 10 });
      const written: string[] = [];
      const response = Object.assign(new EventEmitter(), {
        destroyed: false,
        writableEnded: false,
        writeHead: () => undefined,
        write: (chunk: string) => written.push(chunk),
        end: (chunk: string) => written.push(chunk),
      });
      const list: Stored[] = [];
      const request = { url: '/accounts/G/payments', socket: { destroy: () => undefined } };
      hub.open(request as never, response as never, {
        list,
        cursor: -1n,
        limit: 10,
        includeFailed: false,
        render: (item) => ({ id: item.pt.toString() }),
      });
      vi.advanceTimersByTime(25);
      expect(written).toEqual([helloEvent(1000), KEEPALIVE_COMMENT, KEEPALIVE_COMMENT]);

      hub.setSilent(true);
      list.push({ pt: 7n, successful: true } as Stored);
      hub.pumpAll();
      vi.advanceTimersByTime(100);
      expect(written).toHaveLength(3);

      hub.setSilent(false);
      expect(written.slice(3)).toEqual([recordEvent('7', { id: '7' })]);
      vi.advanceTimersByTime(10);
      expect(written.slice(4)).toEqual([KEEPALIVE_COMMENT]);
      hub.closeAll();
    } finally {
      vi.useRealTimers();
    }
  });
});
