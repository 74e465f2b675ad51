import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/db/connect.ts';
import { getCursor, saveCursor } from '../../../src/db/horizon-cursors.repository.ts';
import { migrateToLatest } from '../../../src/db/migrate.ts';
import { testDatabases } from '../../helpers/database.ts';

describe.each(testDatabases())('values on $name', (database) => {
  it('returns int8 as an exact string and numeric as a string', async () => {
    const t = await database.open();
    try {
      const { rows } = await sql<{ big: unknown; dec: unknown }>`
        select 9007199254740993::int8 as big, 0.1::numeric(30, 7) + 0.2::numeric(30, 7) as dec`.execute(t.db);
      expect(rows[0]).toEqual({ big: '9007199254740993', dec: '0.3000000' });
    } finally {
      await t.close();
    }
  });
});

describe('openDatabase', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps PGlite data on disk under <dataDir>/pglite across reopen', async () => {
    dir = await mkdtemp(join(tmpdir(), 'mooring-db-'));
    const first = await openDatabase({ dataDir: dir });
    expect(first.kind).toBe('pglite');
    await migrateToLatest(first.db);
    await saveCursor(first.db, 'GA', '42-1');
    await first.close();
    expect(existsSync(join(dir, 'pglite', 'PG_VERSION'))).toBe(true);

    const second = await openDatabase({ dataDir: dir });
    try {
      expect(await migrateToLatest(second.db)).toEqual([]);
      expect(await getCursor(second.db, 'GA')).toBe('42-1');
    } finally {
      await second.close();
    }
  });

  it('closes PGlite even if no query ever ran', async () => {
    const handle = await openDatabase({ memory: true });
    await handle.close();
    expect(handle.kind === 'pglite' && handle.pglite.closed).toBe(true);
  });

  it('refuses to guess where PGlite should live', async () => {
    await expect(openDatabase({})).rejects.toThrow(/dataDir/);
  });

  it.skipIf(!process.env.DATABASE_URL)('ends the Postgres pool on close', async () => {
    const handle = await openDatabase({ url: process.env.DATABASE_URL });
    await sql`select 1`.execute(handle.db);
    await handle.close();
    expect(handle.kind === 'postgres' && handle.pool.ended).toBe(true);
  });

  it.skipIf(!process.env.DATABASE_URL)(
    'survives the backend of a checked-out connection dying, and serves the next query',
    async () => {
      const warnings: string[] = [];
      const handle = await openDatabase({
        url: process.env.DATABASE_URL,
        log: { warn: (_obj, msg) => void warnings.push(msg ?? '') },
      });
      if (handle.kind !== 'postgres') throw new Error('expected PostgreSQL');
      const client = await handle.pool.connect();
      try {
        const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
        // The server ends it between two queries: pg emits 'error' on the client nobody is querying with.
        await sql`select pg_terminate_backend(${rows[0]!.pid})`.execute(handle.db);
        await expect.poll(() => warnings).toHaveLength(1);
      } finally {
        client.release(true);
      }
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(handle.db);
      expect(rows).toEqual([{ one: 1 }]);
      await handle.close();
    },
  );
});
