/**
 * The POST baseline: the unavoidable part of `POST /sep31/transactions`, on the same database handle as
 * the Mooring under test. A bare Fastify server verifies the SEP-10 JWT with Mooring's own `requireSep10`
 * (the function, not a copy: it gets every optimisation Mooring gets), validates the body against the
 * route's own schema (`PostTransactionBody`), serialises the answer with its response schema, and writes
 * one row with one INSERT. No customer lookups, pricing, actor or event log: those are what Mooring adds.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify from 'fastify';
import { sql, type Kysely } from 'kysely';
import type { Config } from '../../src/config/index.ts';
import type { Database } from '../../src/db/index.ts';
import { requireSep10 } from '../../src/http/auth.ts';
import { PostTransactionBody, PostTransactionResponse } from '../../src/http/sep31.schemas.ts';
import { newHashMemo } from '../../src/http/sep31/memo.ts';
import { benchAsset } from './waiting.ts';

export interface FairBaseline {
  /** e.g. `http://127.0.0.1:43210/bench/transactions` */
  url: string;
  close(): Promise<void>;
}

export async function startFairBaseline(db: Kysely<Database>, config: Config): Promise<FairBaseline> {
  await sql`create table if not exists bench_posts (
    id uuid primary key,
    sending_anchor text not null,
    body jsonb not null,
    created_at timestamptz not null default now()
  )`.execute(db);
  const account = benchAsset(config).distributionAccount;
  // Mooring's app trusts the proxy too; no logger, as Mooring runs with LOG_LEVEL silent here.
  const server = Fastify({ trustProxy: true });
  server.withTypeProvider<TypeBoxTypeProvider>().post(
    '/bench/transactions',
    {
      onRequest: requireSep10(config, { status: 403 }),
      schema: { body: PostTransactionBody, response: { 201: PostTransactionResponse } },
    },
    async (request, reply) => {
      const id = randomUUID();
      const memo = newHashMemo();
      await sql`insert into bench_posts (id, sending_anchor, body)
        values (${id}, ${request.sep10!.sub}, ${JSON.stringify(request.body)}::jsonb)`.execute(db);
      return reply.status(201).send({
        id,
        stellar_account_id: account,
        stellar_memo_type: memo.type,
        stellar_memo: memo.value,
      });
    },
  );
  await server.listen({ host: '127.0.0.1', port: 0 });
  const { port } = server.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/bench/transactions`, close: () => server.close() };
}
