// The machine viewer's test world: the real app with OPERATOR_TOKEN set, on one test database.
import type { FastifyInstance } from 'fastify';
import { createTransactionHost, type TransactionHost } from '../../../src/actors/transaction-host.ts';
import type { Config } from '../../../src/config/index.ts';
import { buildApp } from '../../../src/http/app.ts';
import type { TransactionEvent } from '../../../machines/index.ts';
import { accountAssigned, payment, transactionInput } from '../../fixtures/transactions.ts';
import { testConfig, testConfigFile } from '../../helpers/app.ts';
import type { OpenTestDatabase, TestDatabase } from '../../helpers/database.ts';
import { httpPorts } from '../../../src/read-model/index.ts';
import { createTransactionCommands } from '../../../src/actors/commands.ts';
import { createCustomerCommands } from '../../../src/actors/customer-commands.ts';
import { createInProcessBus, silentLogger } from '../../../src/bus/index.ts';

export const OPERATOR_TOKEN = 'operator-token-for-the-viewer-tests';
export const OPERATOR = { authorization: `Bearer ${OPERATOR_TOKEN}` };
export const AT = '2026-11-24T10:10:00.000Z';

export interface ViewerWorld {
  app: FastifyInstance;
  config: Config;
  db: OpenTestDatabase;
  host: TransactionHost;
  /** Moves the app's clock (sessions expire by it). */
  advanceClock(ms: number): void;
  /** Creates a transaction and applies ACCOUNT_ASSIGNED with it: it waits in pending_sender. */
  createWaiting(): Promise<string>;
  apply(transactionId: string, event: TransactionEvent): Promise<void>;
  pay(transactionId: string): Promise<void>;
  close(): Promise<void>;
}

let eventCounter = 0;

export async function viewerWorld(
  database: TestDatabase,
  options: { operatorToken?: string | null } = {},
): Promise<ViewerWorld> {
  const token = options.operatorToken === undefined ? OPERATOR_TOKEN : options.operatorToken;
  const { config, cleanup } = await testConfig(
    // inject() connects from 127.0.0.1: trusted as the TLS-terminating proxy ("behind HTTPS" tests).
    testConfigFile({ http: { trustProxy: ['127.0.0.1'] } }),
    token === null ? {} : { OPERATOR_TOKEN: token },
  );
  const db = await database.open();
  const host = createTransactionHost({ db: db.db });
  let offset = 0;
  const bus = createInProcessBus({ logger: silentLogger });
  const app = await buildApp({
    config,
    ...httpPorts(db.db, config),
    commands: createTransactionCommands(bus),
    customerCommands: createCustomerCommands(bus),
    horizon: { loadAccount: () => Promise.reject(new Error('no Horizon in this test')) },
    clock: () => new Date(Date.now() + offset),
    viewer: { pollIntervalMs: 20 },
  });
  const apply = async (transactionId: string, event: TransactionEvent) => {
    await host.apply({ eventId: `viewer-test-${++eventCounter}`, transactionId, event });
  };
  return {
    app,
    config,
    db,
    host,
    advanceClock: (ms) => void (offset += ms),
    async createWaiting() {
      const input = transactionInput();
      await host.create(input, { eventId: 'create', then: [accountAssigned()] });
      return input.id;
    },
    apply,
    pay: (id) => apply(id, { type: 'PAYMENT_RECEIVED', at: AT, payment: payment() }),
    async close() {
      await app.close();
      await db.close();
      await cleanup();
    },
  };
}
