import { of, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { inBatches } from '../../../streams/batches.ts';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('inBatches (work on what has arrived, one batch at a time)', () => {
  it('hands a synchronous burst over as one batch, and a trickle one by one', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const source = cold('(abc)-----d---e|');
      const batches = source.pipe(
        inBatches((batch: string[]) => of(batch.join('')), { max: 10, scheduler: ts }),
      );
      expectObservable(batches).toBe('(x)-------d---e|', { x: 'abc', d: 'd', e: 'e' });
    });
  });

  it('starts the next batch only when the previous one completed, with everything that came meanwhile', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const source = cold('a-b-c-d|');
      const work = (batch: string[]): Observable<string> => cold('---(x|)', { x: batch.join('') });
      // a alone; b came while a ran; c and d while b ran.
      expectObservable(source.pipe(inBatches(work, { max: 10, scheduler: ts }))).toBe('---a--b--(x|)', {
        a: 'a',
        b: 'b',
        x: 'cd',
      });
    });
  });

  it('keeps order and never exceeds max', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const source = cold('(abcdefg|)');
      const batches = source.pipe(
        inBatches((batch: string[]) => of(batch.join('')), { max: 3, scheduler: ts }),
      );
      expectObservable(batches).toBe('(xyz|)', { x: 'abc', y: 'def', z: 'g' });
    });
  });

  it('fails with the work, so the caller can restart from its cursor', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const source = cold('a-b|');
      const work = (batch: string[]) => (batch[0] === 'b' ? cold('#') : of(batch[0]!));
      expectObservable(source.pipe(inBatches(work, { max: 5, scheduler: ts }))).toBe('a-#');
    });
  });
});
