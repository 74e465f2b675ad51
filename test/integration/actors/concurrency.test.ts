import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransactionHost, type ApplyOutcome } from '../../../src/actors/transaction-host.ts';
import { openDatabase, type DatabaseHandle } from '../../../src/db/index.ts';
import { findTransaction, listEvents } from '../../../src/db/transactions.repository.ts';
import type { TransactionEventEnvelope } from '../../../machines/index.ts';
import { testDatabases, type OpenTestDatabase } from '../../helpers/database.ts';
import { accountAssigned, payment, transactionInput } from '../../fixtures/transactions.ts';

const postgres = testDatabases().find((d) => d.name === 'postgres');
const HOSTS = 4;
const REFUNDS = 40;
const ERRORS = 60;

/** Many writers with their own connection pools race on one transaction: the version fence must serialise them. */
describe.skipIf(!postgres)('concurrent actor hosts on PostgreSQL', () => {
  let database: OpenTestDatabase;
  const pools: DatabaseHandle[] = [];

  beforeAll(async () => {
    database = await postgres!.open();
    for (let i = 0; i < HOSTS; i++) pools.push(await openDatabase({ url: database.url! }));
  });
  afterAll(async () => {
    for (const pool of pools) await pool.close();
    await database.close();
  });

  it('applies each event exactly once, with no version gaps and no lost update', async () => {
    const input = transactionInput();
    const host = createTransactionHost({ db: database.db });
    await host.create(input, { eventId: 'create', then: [accountAssigned()] });
    const at = '2026-11-24T10:10:00Z';
    await host.apply({
      eventId: 'pay',
      transactionId: input.id,
      event: { type: 'PAYMENT_RECEIVED', at, payment: payment() },
    });
    await host.apply({
      eventId: 'halt',
      transactionId: input.id,
      event: { type: 'ERROR', at, message: 'hold' },
    });

    // Partial refunds are the sharpest probe: a lost update would lose money from the totals.
    const events: TransactionEventEnvelope[] = [
      ...Array.from({ length: REFUNDS }, (_, i) => ({
        eventId: `refund-${i}`,
        transactionId: input.id,
        event: { type: 'REFUND_SENT' as const, at, refund: { id: `hash-${i}`, amount: '0.5', fee: '0.01' } },
      })),
      ...Array.from({ length: ERRORS }, (_, i) => ({
        eventId: `error-${i}`,
        transactionId: input.id,
        event: { type: 'ERROR' as const, at, message: `note ${i}` },
      })),
    ];
    const hosts = pools.map((pool) => createTransactionHost({ db: pool.db }));
    // Every event is sent twice, by two different hosts, all at once.
    const results: ApplyOutcome[] = await Promise.all(
      events.flatMap((envelope, i) => [
        hosts[i % HOSTS]!.apply(envelope),
        hosts[(i + 1) % HOSTS]!.apply(envelope),
      ]),
    );

    expect(results.filter((r) => r.outcome === 'applied')).toHaveLength(events.length);
    expect(results.filter((r) => r.outcome === 'duplicate')).toHaveLength(events.length);
    const log = await listEvents(database.db, input.id);
    expect(log.map((e) => e.seq)).toEqual(Array.from({ length: 4 + events.length }, (_, i) => i + 1));
    expect(new Set(log.map((e) => e.event_id)).size).toBe(log.length);
    const row = await findTransaction(database.db, input.id);
    expect(row?.version).toBe(4 + events.length);
    expect(row?.refunds).toMatchObject({ amountRefunded: '20', amountFee: '0.4' });
    expect(row?.refunds?.payments).toHaveLength(REFUNDS);
    expect(row?.amount_out).toBe('78.1000000');
  });
});
