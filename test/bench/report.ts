/**
 * What `npm run bench` prints: one table (a column per environment, each cell `ratio (raw, verdict; load)`)
 * with the issue's targets in the row names, then each section's raw figures and what ran while they
 * were measured.
 */
import type { BenchEnvironment } from './environments.ts';
import type { HostsResult } from './actor-hosts.ts';
import type { Quieted } from './outbox-quiet.ts';
import type { LatencyResult, LatencySettings } from './payout-latency.ts';
import type { Pooled, PostBenchResult, PostBenchSettings, Rounds } from './post-transactions.ts';
import { fixed } from './stats.ts';
import type { CatchUpResult, CatchUpSettings } from './watcher.ts';

export type Outcome<T> =
  { ok: T; seconds: number } | { failed: string; seconds: number } | { skipped: string };

export interface Measured {
  name: BenchEnvironment['name'];
  label: string;
  note: string;
  seconds: number;
  post: Outcome<PostBenchResult>;
  latency: Outcome<LatencyResult>;
  catchUp: Outcome<CatchUpResult>;
  /** The same catch-up with the actors in a separate process (NATS only). */
  catchUpSplit: Outcome<CatchUpResult>;
  hosts: Outcome<HostsResult>;
  trouble: BenchEnvironment['trouble'];
}

export type Section = Measured | { name: BenchEnvironment['name']; label: string; skipped: string };

export interface Settings {
  posts: PostBenchSettings;
  catchUp: CatchUpSettings;
  latency: LatencySettings;
}

/** The issue's targets (issue 10), on this 2-core machine. */
export const TARGETS = {
  /** POST throughput ÷ the fair baseline, at least. */
  postRatio: { embedded: 0.4, 'postgres+nats': 0.6 },
  /** POST p99 at 50 in flight, on PGlite. */
  wideP99Ms: 1_000,
  /** Throughput with the viewer open ÷ without, at least. */
  viewerRatio: 0.9,
  /** Largest event-loop stall under the POST load, on PGlite. */
  stallMs: 50,
  /** Watcher catch-up on PostgreSQL + NATS, payments/s. */
  catchUp: 1_500,
  /** Payment → rails p99. */
  payoutP99Ms: 250,
} as const;

const rate = (perSecond: number, unit: string) => `${Math.round(perSecond).toLocaleString('en-US')} ${unit}`;
const times = (ratio: number) => `${ratio >= 10 ? fixed(ratio, 0) : fixed(ratio, 2)}×`;
const count = (n: number) => n.toLocaleString('en-US');
const verdict = (met: boolean) => (met ? 'target met' : 'target MISSED');
const load = (load1: number) => `load ${fixed(load1, 2)}`;
const embeddedOnly = (s: Measured, met: boolean) => (s.name === 'embedded' ? `, ${verdict(met)}` : '');

function cell<T>(outcome: Outcome<T>, show: (value: T) => string): string {
  if ('ok' in outcome) return show(outcome.ok);
  if ('failed' in outcome) return 'failed (see below)';
  return '—';
}

/** Both outcomes there: the figure against its baseline. */
function pair<A, B>(a: Outcome<A>, b: Outcome<B>, show: (a: A, b: B) => string): string {
  if ('ok' in a && 'ok' in b) return show(a.ok, b.ok);
  if ('failed' in a || 'failed' in b) return 'failed (see below)';
  return '—';
}

/** The largest stall of any Mooring run (without and with the viewer, at both concurrencies). */
const appStallMs = (p: PostBenchResult) =>
  Math.max(p.process.stallMs.app, p.process.stallMs.viewer, p.process.stallMs.wideApp);
const baselineStallMs = (p: PostBenchResult) =>
  Math.max(p.process.stallMs.baseline, p.process.stallMs.wideBaseline);

export function table(sections: Section[], settings: Settings): string {
  const { posts, catchUp } = settings;
  const measured = sections.filter((s): s is Measured => !('skipped' in s));
  const post = (s: Measured, show: (p: PostBenchResult) => string) => cell(s.post, show);
  const rows: [string, (s: Measured) => string][] = [
    [
      `1. POST /sep31/transactions, ${posts.concurrency} in flight ` +
        `(target ≥ ${TARGETS.postRatio['postgres+nats']}× on PG, ≥ ${TARGETS.postRatio.embedded}× on PGlite)`,
      (s) =>
        post(s, (p) => {
          const ratio = p.app.best.perSecond / p.baseline.best.perSecond;
          return (
            `${times(ratio)} (${rate(p.app.best.perSecond, 'req/s')}, ${verdict(ratio >= TARGETS.postRatio[s.name])}; ` +
            `${load(p.app.best.load1)})`
          );
        }),
    ],
    [
      `   baseline: Fastify + same JWT verify + same body schema + 1 INSERT, ${posts.concurrency} in flight`,
      (s) =>
        post(s, (p) => `1× (${rate(p.baseline.best.perSecond, 'req/s')}; ${load(p.baseline.best.load1)})`),
    ],
    [
      `1b. POST p50 / p99 at ${posts.wideConcurrency} in flight (target p99 < ${TARGETS.wideP99Ms / 1000} s on PGlite)`,
      (s) =>
        post(
          s,
          (p) =>
            `${times(p.wide.app.p99 / p.wide.baseline.p99)} (${latencies(p.wide.app)}` +
            `${embeddedOnly(s, p.wide.app.p99 < TARGETS.wideP99Ms)}; ${load(p.wide.app.load1)})`,
        ),
    ],
    [
      `   baseline at ${posts.wideConcurrency} in flight, p50 / p99 (ratio: p99 ÷ p99)`,
      (s) => post(s, (p) => `1× (${latencies(p.wide.baseline)}; ${load(p.wide.baseline.load1)})`),
    ],
    [
      `1c. POST with the machine viewer open, ${posts.concurrency} in flight ` +
        `(target ≥ ${TARGETS.viewerRatio}×: within 10 %)`,
      (s) =>
        post(s, (p) => {
          const ratio = p.viewer.best.perSecond / p.app.best.perSecond;
          return (
            `${times(ratio)} (${rate(p.viewer.best.perSecond, 'req/s')}, ${verdict(ratio >= TARGETS.viewerRatio)}; ` +
            `${load(p.viewer.best.load1)})`
          );
        }),
    ],
    [
      '   baseline: Mooring without the viewer (figure 1)',
      (s) => post(s, (p) => `1× (${rate(p.app.best.perSecond, 'req/s')}; ${load(p.app.best.load1)})`),
    ],
    [
      `1d. Largest event-loop stall in Mooring's POST runs (target < ${TARGETS.stallMs} ms on PGlite)`,
      (s) =>
        post(
          s,
          (p) =>
            `${times(appStallMs(p) / baselineStallMs(p))} (${fixed(appStallMs(p), 0)} ms` +
            `${embeddedOnly(s, appStallMs(p) < TARGETS.stallMs)}; ${load(p.wide.app.load1)})`,
        ),
    ],
    [
      '   baseline: largest stall in the baseline runs',
      (s) => post(s, (p) => `1× (${fixed(baselineStallMs(p), 0)} ms)`),
    ],
    [
      '1e. Peak RSS of the process during the POST runs',
      (s) =>
        post(
          s,
          (p) =>
            `${times(p.process.peakRssMiB / p.process.idleRssMiB)} (${fixed(p.process.peakRssMiB, 0)} MiB; ` +
            `${load(p.wide.app.load1)})`,
        ),
    ],
    [
      '   baseline: RSS idle, after startMooring',
      (s) => post(s, (p) => `1× (${fixed(p.process.idleRssMiB, 0)} MiB)`),
    ],
    [
      `2. Watcher catch-up, ${count(catchUp.backlog)} payments (target ≥ ${count(TARGETS.catchUp)}/s on PG + NATS)`,
      (s) =>
        cell(
          s.catchUp,
          (c) =>
            `${times(c.watcher.perSecond / c.baseline.perSecond)} (${rate(c.watcher.perSecond, 'payments/s')}` +
            `${s.name === 'postgres+nats' ? `, ${verdict(c.watcher.perSecond >= TARGETS.catchUp)}` : ''}; ${load(c.load1)})`,
        ),
    ],
    [
      '   baseline: same Horizon pages, 1 multi-row INSERT per page',
      (s) => cell(s.catchUp, (c) => `1× (${rate(c.baseline.perSecond, 'payments/s')})`),
    ],
    [
      '2b. Catch-up, actors in a second process (as deployed on NATS)',
      (s) =>
        cell(
          s.catchUpSplit,
          (c) =>
            `${times(c.watcher.perSecond / c.baseline.perSecond)} (${rate(c.watcher.perSecond, 'payments/s')}, ` +
            `${verdict(c.watcher.perSecond >= TARGETS.catchUp)}; ${load(c.load1)})`,
        ),
    ],
    [
      '   baseline: same Horizon pages, 1 multi-row INSERT per page',
      (s) => cell(s.catchUpSplit, (c) => `1× (${rate(c.baseline.perSecond, 'payments/s')})`),
    ],
    [
      '3. Payment on the live stream → rails payout call, p50',
      (s) =>
        pair(
          s.latency,
          s.post,
          (l, p) =>
            `${times(l.toRails.p50 / p.baselineSerial.medianMs)} (${fixed(l.toRails.p50)} ms; ${load(l.load1)})`,
        ),
    ],
    [
      `3. Payment on the live stream → rails payout call, p99 (target < ${TARGETS.payoutP99Ms} ms)`,
      (s) =>
        pair(
          s.latency,
          s.post,
          (l, p) =>
            `${times(l.toRails.p99 / p.baselineSerial.p99Ms)} (${fixed(l.toRails.p99)} ms, ` +
            `${verdict(l.toRails.p99 < TARGETS.payoutP99Ms)}; ${load(l.load1)})`,
        ),
    ],
    [
      '   baseline: one baseline POST round trip, 1 in flight, p50 / p99',
      (s) =>
        post(
          s,
          (p) =>
            `1× (${fixed(p.baselineSerial.medianMs, 2)} / ${fixed(p.baselineSerial.p99Ms, 2)} ms; ` +
            `${load(p.baselineSerial.load1)})`,
        ),
    ],
    [
      `4. POST, actors in 2 processes ÷ 1 process (other roles in a third), ${posts.concurrency} in flight`,
      (s) =>
        cell(
          s.hosts,
          (h) =>
            `${times(h.two.best.perSecond / h.one.best.perSecond)} (${rate(h.two.best.perSecond, 'req/s')} ` +
            `vs ${rate(h.one.best.perSecond, 'req/s')}; ${load(h.two.best.load1)})`,
        ),
    ],
  ];
  const header = ['Figure (ratio to baseline, raw)', ...measured.map((s) => s.label)];
  const body = rows.map(([name, show]) => [name, ...measured.map(show)]);
  const widths = header.map((_, i) => Math.max(...[header, ...body].map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((text, i) => text.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** What the relays owed when a wait began, and how it ended. */
function quietText(q: Quieted): string {
  if (q.owed === 0) return 'quiet';
  const done = q.owed - q.parked;
  const pace = q.seconds > 0 ? ` (${fixed(done / q.seconds, 0)}/s)` : '';
  return q.parked === 0
    ? `${count(q.owed)} effects owed, cleared in ${fixed(q.seconds, 1)} s${pace}`
    : `${count(q.owed)} effects owed, ${count(done)} carried out in ${fixed(q.seconds, 0)} s${pace}, ` +
        `${count(q.parked)} still due then and PARKED`;
}

const latencies = (p: Pooled) => `${fixed(p.p50, 1)} / ${fixed(p.p99, 1)} ms`;
const ms = (r: { medianMs: number; p99Ms: number }) =>
  `median ${fixed(r.medianMs, 1)} ms, p99 ${fixed(r.p99Ms, 1)} ms`;
const perRound = (rs: { perSecond: number }[]) => rs.map((r) => Math.round(r.perSecond)).join(', ');
const roundsLine = (r: Rounds) =>
  `rounds ${perRound(r.rounds)} req/s; best ${ms(r.best)}, ${load(r.best.load1)}`;

function figure<T>(title: string, outcome: Outcome<T>, lines: (value: T) => string[]): string[] {
  if ('skipped' in outcome) return [`  ${title}: skipped (${outcome.skipped})`];
  if ('failed' in outcome)
    return [`  ${title}: FAILED after ${fixed(outcome.seconds, 0)} s: ${outcome.failed}`];
  return [`  ${title} (${fixed(outcome.seconds, 0)} s):`, ...lines(outcome.ok).map((l) => `    ${l}`)];
}

function catchUpLines(c: CatchUpResult, running: string): string[] {
  return [
    running,
    `set-up (untimed): ${count(c.setup.transactions)} transactions created through the bus (publishMany of create ` +
      `messages, every role but the watcher) in ${fixed(c.setup.createSeconds, 1)} s ` +
      `(${fixed(c.setup.transactions / c.setup.createSeconds, 0)}/s); outbox: ${quietText(c.setup.quiet)}; ANALYZE; ` +
      `${count(c.watcher.payments)} payments seeded in the fake Horizon in ${fixed(c.setup.seedSeconds, 1)} s after cursor ${c.setup.cursor}`,
    `baseline: ${count(c.baseline.payments)} payments in ${c.baseline.pages} pages in ${fixed(c.baseline.seconds, 2)} s = ${fixed(c.baseline.perSecond, 0)} payments/s`,
    `watcher:  ${count(c.watcher.payments)} payments credited in ${fixed(c.watcher.seconds, 2)} s = ${fixed(c.watcher.perSecond, 0)} payments/s` +
      ` (target ≥ ${count(TARGETS.catchUp)}/s on PG + NATS), ${load(c.load1)}; ${count(c.payoutsRequested)} payouts requested on the way ` +
      '(both customers ACCEPTED)',
    c.watcher.cursorAtEndSeconds === null
      ? 'the watcher cursor was not seen at the last payment before everything was credited'
      : `the watcher's cursor reached the last payment after ${fixed(c.watcher.cursorAtEndSeconds, 2)} s ` +
        '(every credit handed to the bus; the rest is the actors catching up)',
    `afterwards (payouts): ${quietText(c.afterwards)}`,
  ];
}

function postLines(s: Measured, p: PostBenchResult, posts: PostBenchSettings): string[] {
  const stall = p.process.stallMs;
  return [
    `running: every role of mooring serve in this process, started in ${fixed(p.startSeconds, 2)} s; ` +
      'the load driver, the baseline server and the fake Horizon share the process',
    `each POST: SEP-10 JWT, body naming sender and receiver (both ACCEPTED through SEP-12); ` +
      `${posts.rounds} round(s) of ${posts.count} per kind after ${posts.warmup} warm-up, from a quiet outbox`,
    `Mooring,  ${posts.concurrency} in flight: ${roundsLine(p.app)}`,
    `+ viewer, ${posts.concurrency} in flight: ${roundsLine(p.viewer)}; the SSE client received ${count(p.viewer.events)} events`,
    `baseline, ${posts.concurrency} in flight: ${roundsLine(p.baseline)}`,
    `Mooring,  ${posts.wideConcurrency} in flight: ${count(p.wide.app.count)} requests: p50 ${fixed(p.wide.app.p50, 1)} ms, ` +
      `p99 ${fixed(p.wide.app.p99, 1)} ms, max ${fixed(p.wide.app.max, 1)} ms`,
    `baseline, ${posts.wideConcurrency} in flight: ${count(p.wide.baseline.count)} requests: p50 ${fixed(p.wide.baseline.p50, 1)} ms, ` +
      `p99 ${fixed(p.wide.baseline.p99, 1)} ms, max ${fixed(p.wide.baseline.max, 1)} ms`,
    `largest event-loop stall: Mooring ${fixed(stall.app, 0)} ms, + viewer ${fixed(stall.viewer, 0)} ms, ` +
      `at ${posts.wideConcurrency} ${fixed(stall.wideApp, 0)} ms; baseline ${fixed(stall.baseline, 0)} ms, ` +
      `at ${posts.wideConcurrency} ${fixed(stall.wideBaseline, 0)} ms` +
      (s.name === 'embedded' ? ` (target < ${TARGETS.stallMs} ms)` : ''),
    `RSS: ${fixed(p.process.idleRssMiB, 0)} MiB idle after start, ${fixed(p.process.peakRssMiB, 0)} MiB at peak`,
    `relays: the largest outbox backlog a run left: ${quietText(p.relay)}` +
      (p.parked > 0 ? `; ${count(p.parked)} effects PARKED over all runs` : ''),
    `baseline, 1 in flight: ${fixed(p.baselineSerial.perSecond, 0)} req/s over ${p.baselineSerial.count}; ${ms(p.baselineSerial)}`,
  ];
}

export function details(s: Measured, settings: Settings): string {
  const { posts, latency } = settings;
  return [
    `${s.label} (${fixed(s.seconds, 0)} s; ${s.note}):`,
    ...figure('1. POST /sep31/transactions', s.post, (p) => postLines(s, p, posts)),
    ...figure('2. Watcher catch-up', s.catchUp, (c) =>
      catchUpLines(
        c,
        `running: every role of mooring serve in this process, started anew (startMooring took ${fixed(c.watcher.startSeconds, 2)} s, inside the time)`,
      ),
    ),
    ...figure('2b. Watcher catch-up, two processes', s.catchUpSplit, (c) =>
      catchUpLines(
        c,
        `running: every role but actors in this process (started anew, ${fixed(c.watcher.startSeconds, 2)} s inside the time); ` +
          'role actors in a child process (node bin/mooring.js actors), running and owning every partition before the clock starts',
      ),
    ),
    ...figure('3. Payment on the live stream → rails payout call', s.latency, (l) => [
      'running: every role of mooring serve, default intervals (execute-outgoing 10 s, poll-outgoing 60 s; ' +
        'the payout relay wakes on outbox.execute_payout), reference rails, both customers ACCEPTED',
      `set-up ${fixed(l.setupSeconds, 1)} s; outbox before the first payment: ${quietText(l.setupQuiet)}`,
      `${l.samples} payments one at a time after ${latency.warmup} warm-up, polled every 2 ms, ${load(l.load1)}:`,
      `append → rails called:     p50 ${fixed(l.toRails.p50, 1)} ms, p99 ${fixed(l.toRails.p99, 1)} ms, max ${fixed(l.toRails.max, 1)} ms (target p99 < ${TARGETS.payoutP99Ms} ms)`,
      `append → watcher cursor:   p50 ${fixed(l.toCursor.p50, 1)} ms, p99 ${fixed(l.toCursor.p99, 1)} ms, max ${fixed(l.toCursor.max, 1)} ms ` +
        `(the bus held the credit: ${s.name === 'embedded' ? 'in-process, applied' : 'NATS, stored'})`,
      `append → credit committed: p50 ${fixed(l.toCredited.p50, 1)} ms, p99 ${fixed(l.toCredited.p99, 1)} ms, max ${fixed(l.toCredited.max, 1)} ms`,
      `of which the fake's append (build, sign, push): median ${fixed(l.appendMedianMs, 2)} ms`,
      ...(s.name === 'embedded'
        ? [
            'PGlite runs one statement at a time, on this thread: a poll waits behind the watcher, the actors and ' +
              'the relays, so it often sees the three moments at once',
          ]
        : []),
    ]),
    ...figure('4. POST with actors in child processes', s.hosts, (h) => [
      'running: every role but actors in this process (with the load driver), role actors in 1 then 2 child ' +
        'processes (node bin/mooring.js actors)',
      `1 child:  rounds ${perRound(h.one.rounds)} req/s; best ${ms(h.one.best)}, ${load(h.one.best.load1)}; ` +
        `partitions ${h.one.owned.join(' + ')}, owned ${fixed(h.one.ownSeconds, 1)} s after spawning`,
      `2 children: rounds ${perRound(h.two.rounds)} req/s; best ${ms(h.two.best)}, ${load(h.two.best.load1)}; ` +
        `partitions ${h.two.owned.join(' + ')}, shared ${fixed(h.two.ownSeconds, 1)} s after spawning the second`,
      ...(h.one.parked + h.two.parked > 0
        ? [`${count(h.one.parked + h.two.parked)} effects PARKED before rounds (relays behind)`]
        : []),
    ]),
    s.trouble.count === 0
      ? '  Mooring logged no warnings or errors.'
      : `  Mooring logged ${s.trouble.count} warnings/errors; first: ${s.trouble.kept.slice(0, 5).join(' | ')}`,
  ].join('\n');
}
