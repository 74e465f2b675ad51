import { expect } from 'vitest';
import type { Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { Heartbeat, PaymentPage, PaymentSource } from '../../../streams/index.ts';

/** The least a payment record needs for the pipeline: an id and the position it stands at. */
export interface Rec {
  id: string;
  paging_token: string;
}

export const rec = (token: string): Rec => ({ id: token, paging_token: token });
export const page = (...tokens: string[]): PaymentPage<Rec> => ({ records: tokens.map(rec) });

export const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

/**
 * A source whose answers are scripted per call (in call order), recording each call and its virtual time.
 * Each script entry returns a cold Observable for that call; calls beyond the script never answer.
 */
export function scriptedSource(
  ts: TestScheduler,
  script: {
    pages: ((cursor: string) => Observable<PaymentPage<Rec>>)[];
    streams: ((cursor: string) => Observable<Rec | Heartbeat>)[];
  },
) {
  const calls = { page: [] as [string, number][], stream: [] as [string, number][] };
  const source: PaymentSource<Rec> = {
    page(_account, cursor) {
      const next = script.pages[calls.page.length] ?? (() => ts.createColdObservable<PaymentPage<Rec>>('-'));
      calls.page.push([cursor, ts.now()]);
      return next(cursor);
    },
    stream(_account, cursor) {
      const next = script.streams[calls.stream.length] ?? (() => ts.createColdObservable<Rec>('-'));
      calls.stream.push([cursor, ts.now()]);
      return next(cursor);
    },
  };
  return { source, calls };
}
