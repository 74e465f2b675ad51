/**
 * Figure 1: `POST /sep31/transactions` per second through Mooring started by `startMooring` with the
 * `http` and `actors` roles in this process (SEP-10 JWT verified, request validated, the create sent as
 * a bus request to the transaction's actor, applied in a group commit with its receiving account and
 * memo, event log and outbox, answered after the commit), against a baseline measured the same way in
 * the same run on the same database handle: a bare Fastify server doing one single-row INSERT per POST.
 * Both listen on 127.0.0.1 and are driven over real HTTP, warm-up first, then alternating rounds, the
 * best round of each kept. The serial baseline (1 in flight) is the round trip figure 3 is compared with.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import type { Config } from '../../src/config/index.ts';
import type { Database } from '../../src/db/index.ts';
import { signSep10Token } from '../../src/http/auth.ts';
import { KEYS } from '../helpers/app.ts';
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
  /** Sequential (concurrency 1) baseline POSTs: the round trip figure 3 is compared with. */
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
  startSeconds: number;
}

/** A valid SEP-31 POST body for the config file's asset (no KYC types configured: no customers needed). */
export const POST_BODY = { asset_code: 'USDC', amount: '100', funding_method: 'SEPA' };

export async function benchPostTransactions(
  env: BenchEnvironment,
  settings: PostBenchSettings,
): Promise<PostBenchResult> {
  const started = await env.start(['http', 'actors'], 'POST');
  let baseline: FastifyInstance | null = null;
  try {
    baseline = await bareInsertServer(started.db);
    const appUrl = `${started.mooring.url!}/sep31/transactions`;
    const baselineUrl = `${await listen(baseline)}/bench/posts`;
    const headers = { authorization: `Bearer ${await sep10Token(env.config)}` };
    const run = (url: string, count: number, concurrency = settings.concurrency) =>
      drive({ url, count, concurrency, body: POST_BODY, headers, expectStatus: 201 });

    await run(baselineUrl, settings.warmup);
    await run(appUrl, settings.warmup);
    const appRounds: LoadResult[] = [];
    const baselineRounds: LoadResult[] = [];
    for (let round = 0; round < settings.rounds; round++) {
      baselineRounds.push(await run(baselineUrl, settings.count));
      appRounds.push(await run(appUrl, settings.count));
    }
    const baselineSerial = await run(baselineUrl, settings.serialCount, 1);
    return {
      app: best(appRounds),
      baseline: best(baselineRounds),
      appRounds,
      baselineRounds,
      baselineSerial,
      startSeconds: started.startSeconds,
    };
  } finally {
    await baseline?.close();
    await started.stop();
  }
}

export const best = (rounds: LoadResult[]) => rounds.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));

/** A SEP-10 token as Mooring's /auth would issue it to the contracted sending anchor. */
export function sep10Token(config: Config): Promise<string> {
  return signSep10Token(config, {
    sub: KEYS.acme.publicKey(),
    jti: `bench-${randomUUID()}`,
    clientDomain: null,
    issuedAt: new Date(),
    ttlSeconds: 3600,
  });
}

/** The baseline: Fastify, JSON body parsing, one single-row INSERT into a table of its own, 201. */
async function bareInsertServer(db: Kysely<Database>): Promise<FastifyInstance> {
  await sql`create table if not exists bench_posts (
    id uuid primary key,
    body jsonb not null,
    created_at timestamptz not null default now()
  )`.execute(db);
  const server = Fastify();
  server.post('/bench/posts', async (request, reply) => {
    const id = randomUUID();
    await sql`insert into bench_posts (id, body) values (${id}, ${JSON.stringify(request.body)}::jsonb)`.execute(
      db,
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
