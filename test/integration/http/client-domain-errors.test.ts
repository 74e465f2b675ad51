import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Keypair } from '@stellar/stellar-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_DOMAIN_FAILED } from '../../../src/http/sep10.routes.ts';
import { buildTestApp, testConfigFile, type TestApp } from '../../helpers/app.ts';

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};
const close = (server: Server) => {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(resolve));
};

/**
 * A failed client_domain fetch says nothing about why: in sandbox mode `localhost:<port>` is fetched, and the
 * reason would tell open, closed and silent local ports apart (a port scan).
 */
describe('GET /auth?client_domain= that cannot be read', () => {
  let sandbox: TestApp;
  const servers: Server[] = [];

  beforeAll(async () => {
    sandbox = await buildTestApp({ file: { ...testConfigFile(), jwtSecret: undefined } });
    expect(sandbox.config.sandbox).toBe(true);
  });
  afterAll(async () => {
    await Promise.all(servers.map(close));
    await sandbox?.close();
  });

  async function portThat(kind: 'is closed' | 'never answers' | 'serves a 404' | 'serves bad TOML') {
    const server = createServer((_request, response) => {
      if (kind === 'never answers') return;
      if (kind === 'serves a 404') response.writeHead(404).end();
      else response.writeHead(200, { 'content-type': 'text/plain' }).end('SIGNING_KEY = \n');
    });
    const port = await listen(server);
    if (kind === 'is closed') await close(server);
    else servers.push(server);
    return port;
  }

  it('answers the same 400 {error} for a closed port, a silent one, a 404 and bad TOML', async () => {
    const bodies = new Set<string>();
    for (const kind of ['is closed', 'never answers', 'serves a 404', 'serves bad TOML'] as const) {
      const response = await sandbox.app.inject({
        method: 'GET',
        url: '/auth',
        query: { account: Keypair.random().publicKey(), client_domain: `localhost:${await portThat(kind)}` },
      });
      expect(response.statusCode, kind).toBe(400);
      expect(response.json(), kind).toEqual({ error: CLIENT_DOMAIN_FAILED });
      bodies.add(response.body);
    }
    expect(bodies.size).toBe(1);
  }, 30_000);
});
