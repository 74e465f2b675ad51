import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../helpers/app.ts';

describe('GET /openapi.json', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(() => t.close());

  it('documents every SEP endpoint from the schemas the routes validate with', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const document = response.json() as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(document.openapi).toBe('3.1.0');
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations).toEqual(
      expect.arrayContaining([
        'GET /.well-known/stellar.toml',
        'GET /auth',
        'POST /auth',
        'GET /sep12/customer',
        'PUT /sep12/customer',
        'GET /sep31/info',
        'POST /sep31/transactions',
        'GET /sep31/transactions/{id}',
        'PATCH /sep31/transactions/{id}',
        'PUT /sep31/transactions/{id}/callback',
        'GET /sep38/info',
        'GET /sep38/prices',
        'GET /sep38/price',
        'POST /sep38/quote',
        'GET /sep38/quote/{id}',
      ]),
    );
    const post = document.paths['/sep31/transactions']!.post as { requestBody?: unknown };
    expect(post.requestBody).toBeDefined();
  });
});
