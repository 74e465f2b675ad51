import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ConfigFile } from '../../../src/config/index.ts';
import type * as MemoModule from '../../../src/http/sep31/memo.ts';
import { buildTestApp, KEYS, testConfigFile, tokenFor, type TestApp } from '../../helpers/app.ts';

// Memos come from a CSPRNG; to provoke a collision the test scripts the draws.
const draws = vi.hoisted(() => ({ queue: [] as string[] }));
vi.mock('../../../src/http/sep31/memo.ts', async (importOriginal) => {
  const original = await importOriginal<typeof MemoModule>();
  return {
    ...original,
    newHashMemo: () => {
      const value = draws.queue.shift();
      return value === undefined ? original.newHashMemo() : { type: 'hash' as const, value };
    },
  };
});

const memo = (byte: number) => Buffer.alloc(32, byte).toString('base64');

describe('SEP-31 memo collisions', () => {
  let t: TestApp;
  let token: string;
  const post = () =>
    t.app.inject({
      method: 'POST',
      url: '/sep31/transactions',
      headers: { authorization: `Bearer ${token}` },
      payload: { asset_code: 'USDC', amount: '10' },
    });

  beforeAll(async () => {
    t = await buildTestApp({ file: { ...testConfigFile(), sep12: { types: {} } } as ConfigFile });
    token = await tokenFor(t.config, KEYS.acme.publicKey());
  });
  afterAll(() => t.close());

  it('draws a new memo when the drawn one is taken', async () => {
    draws.queue.push(memo(1), memo(1), memo(1), memo(2));
    const first = await post();
    expect(first.json().stellar_memo).toBe(memo(1));
    const second = await post();
    expect(second.statusCode, second.body).toBe(201);
    expect(second.json().stellar_memo).toBe(memo(2));
    const rows = await t.db.selectFrom('transactions').select(['id', 'stellar_memo']).execute();
    expect(rows).toHaveLength(2);
    expect(draws.queue).toEqual([]);
  });

  it('gives up after a bounded number of draws with a 409, creating nothing', async () => {
    draws.queue.push(...Array.from({ length: 5 }, () => memo(1)));
    const response = await post();
    expect(response.statusCode).toBe(409);
    expect(response.json()).toEqual({ error: 'could not assign a unique memo; please retry' });
    expect(await t.db.selectFrom('transactions').select('id').execute()).toHaveLength(2);
  });
});
