import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readHorizonContacts, recordHorizonContact } from '../../../src/db/horizon-contacts.repository.ts';
import { watcherReadiness } from '../../../src/watcher/index.ts';
import { testDatabases, type OpenTestDatabase } from '../../helpers/database.ts';

const T0 = new Date('2026-12-03T12:00:00Z').getTime();
const at = (seconds: number) => new Date(T0 + seconds * 1000);

describe.each(testDatabases())('watcher readiness on $name', (database) => {
  let t: OpenTestDatabase;
  let now: Date;
  beforeEach(async () => {
    t = await database.open();
    now = at(0);
  });
  afterEach(async () => {
    await t.close();
  });

  const check = (accounts = ['GA', 'GB']) =>
    watcherReadiness({ db: t.db, accounts, unreachableMs: 120_000, clock: () => now });

  it('gives a fresh start time, then fails for an account never reached', async () => {
    const ready = check();
    now = at(120);
    await expect(ready()).resolves.toBeUndefined();
    now = at(121);
    await expect(ready()).rejects.toThrow(/GA/);
  });

  it('fails once an account has not been reached for longer than the limit, wherever the watcher runs', async () => {
    const ready = check();
    await recordHorizonContact(t.db, 'GA', at(100));
    await recordHorizonContact(t.db, 'GB', at(200));
    now = at(220);
    await expect(ready()).resolves.toBeUndefined();
    now = at(221);
    await expect(ready()).rejects.toThrow(/not reached Horizon for GA since 2026-12-03T12:01:40\.000Z/);
    await recordHorizonContact(t.db, 'GA', at(221));
    await expect(ready()).resolves.toBeUndefined();
  });

  it('keeps the latest contact: a late write of an older one does not move it back', async () => {
    await recordHorizonContact(t.db, 'GA', at(50));
    await recordHorizonContact(t.db, 'GA', at(10));
    expect(await readHorizonContacts(t.db, ['GA', 'GB'])).toEqual(new Map([['GA', at(50)]]));
  });
});
