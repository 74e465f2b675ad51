/**
 * Part 1: `POST /sep31/transactions` per second through the real app (SEP-10 JWT verified, request
 * validated, transaction actor created with its receiving account and memo, event log and outbox written),
 * against a baseline measured the same way in the same run: a bare Fastify server on the same database
 * doing one single-row INSERT per POST. Both listen on 127.0.0.1 (port 0) and are driven over real HTTP.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { buildApp } from '../../src/http/app.ts';
import { signSep10Token } from '../../src/http/auth.ts';
import type { HorizonAccounts } from '../../src/stellar/horizon-accounts.ts';
import { KEYS, testConfig, testConfigFile } from '../helpers/app.ts';
import type { BenchEnvironment } from './environments.ts';
import { drive, type LoadResult } from './http-load.ts';

export interface PostBenchSettings {
  /** POSTs per measured round. */
  count: number;
  concurrency: number;
  /** POSTs sent to each server before measuring (JIT, connection pools, caches). */
  warmup: number;
  /** Measured rounds, baseline and app alternating; the best round of each is reported. */
  rounds: number;
  /** Sequential (concurrency 1) baseline POSTs: the round trip the watcher figures are compared with. */
  serialCount: number;
}

export interface PostBenchResult {
  app: LoadResult;
  baseline: LoadResult;
  /** Every round, in order, for the raw figures. */
  appRounds: LoadResult[];
  baselineRounds: LoadResult[];
  /** Baseline at concurrency 1. */
  baselineSerial: LoadResult;
}

const BODY = { asset_code: 'USDC', amount: '100', funding_method: 'SEPA' };

export async function benchPostTransactions(
  env: BenchEnvironment,
  settings: PostBenchSettings,
): Promise<PostBenchResult> {
  // No SEP-12 types: the POST needs no sender or receiver customer.
  const { config, cleanup } = await testConfig(testConfigFile({ sep12: { types: {} } }));
  const noHorizon: HorizonAccounts = {
    loadAccount: () => Promise.reject(new Error('no Horizon in the benchmark')),
  };
  const servers: FastifyInstance[] = [];
  try {
    const app = await buildApp({ config, db: env.db, host: env.host, horizon: noHorizon });
    servers.push(app);
    const baseline = await bareInsertServer(env);
    servers.push(baseline);
    const appUrl = `${await listen(app)}/sep31/transactions`;
    const baselineUrl = `${await listen(baseline)}/bench/posts`;

    const token = await signSep10Token(config, {
      sub: KEYS.acme.publicKey(),
      jti: `bench-${randomUUID()}`,
      clientDomain: null,
      issuedAt: new Date(),
      ttlSeconds: 3600,
    });
    const headers = { authorization: `Bearer ${token}` };
    const run = (url: string, expectStatus: number, count: number, concurrency = settings.concurrency) =>
      drive({ url, count, concurrency, body: BODY, headers, expectStatus });

    await run(baselineUrl, 201, settings.warmup);
    await run(appUrl, 201, settings.warmup);
    const appRounds: LoadResult[] = [];
    const baselineRounds: LoadResult[] = [];
    for (let round = 0; round < settings.rounds; round++) {
      baselineRounds.push(await run(baselineUrl, 201, settings.count));
      appRounds.push(await run(appUrl, 201, settings.count));
    }
    const baselineSerial = await run(baselineUrl, 201, settings.serialCount, 1);
    const best = (rounds: LoadResult[]) => rounds.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
    return {
      app: best(appRounds),
      baseline: best(baselineRounds),
      appRounds,
      baselineRounds,
      baselineSerial,
    };
  } finally {
    for (const server of servers.reverse()) await server.close();
    await cleanup();
  }
}

/** The baseline: Fastify, JSON body parsing, one single-row INSERT into a table of its own, 201. */
async function bareInsertServer(env: BenchEnvironment): Promise<FastifyInstance> {
  await sql`create table if not exists bench_posts (
    id uuid primary key,
    body jsonb not null,
    created_at timestamptz not null default now()
  )`.execute(env.db);
  const server = Fastify();
  server.post('/bench/posts', async (request, reply) => {
    const id = randomUUID();
    await sql`insert into bench_posts (id, body) values (${id}, ${JSON.stringify(request.body)}::jsonb)`.execute(
      env.db,
    );
    return reply.status(201).send({ id });
  });
  return server;
}

async function listen(server: FastifyInstance): Promise<string> {
  await server.listen({ host: '127.0.0.1', port: 0 });
  const { port } = server.server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}
