import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigFile } from '../../../src/config/index.ts';
import { buildTestApp, KEYS, testConfigFile, tokenFor, type TestApp } from '../../helpers/app.ts';

/** Callbacks to this machine's loopback need `callbacks.allowLoopback`; sandbox mode alone is not enough. */
describe.each([
  {
    name: 'sandbox mode without the opt-in',
    file: (() => {
      const { jwtSecret: _generated, ...file } = testConfigFile();
      return file;
    })(),
    sandbox: true,
    answers: [
      { status: 400, body: { error: 'callback url must use https' } },
      { status: 400, body: { error: 'callback url must not point to localhost' } },
    ],
  },
  {
    name: 'callbacks.allowLoopback with configured keys (not a sandbox)',
    file: testConfigFile({ callbacks: { allowLoopback: true } }),
    sandbox: false,
    answers: [
      { status: 200, body: {} },
      { status: 200, body: {} },
    ],
  },
] satisfies { name: string; file: ConfigFile; sandbox: boolean; answers: unknown[] }[])(
  'loopback callback URLs, $name',
  ({ file, sandbox, answers }) => {
    let t: TestApp;
    beforeAll(async () => {
      t = await buildTestApp({ file });
    });
    afterAll(async () => {
      await t?.close();
    });

    it(sandbox ? 'are refused' : 'are accepted', async () => {
      expect(t.config.sandbox).toBe(sandbox);
      const headers = { authorization: `Bearer ${await tokenFor(t.config, KEYS.acme.publicKey())}` };
      const customer = await t.app.inject({
        method: 'PUT',
        url: '/sep12/customer',
        headers,
        payload: { memo: '7', first_name: 'Ada' },
      });
      expect(customer.statusCode, customer.body).toBe(202);
      const got = [];
      for (const url of ['http://127.0.0.1:22/anything', 'https://localhost:6379/']) {
        const response = await t.app.inject({
          method: 'PUT',
          url: '/sep12/customer/callback',
          headers,
          payload: { memo: '7', url },
        });
        got.push({ status: response.statusCode, body: response.json() as unknown });
      }
      expect(got).toEqual(answers);
    });
  },
);
