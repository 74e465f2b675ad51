/**
 * A transaction on a firm quote takes the quote in the database transaction that creates it (the group
 * commit), set-based: a quote already taken, in an earlier batch, earlier in the same batch or by a
 * concurrent batch on another connection, refuses the create `quote_used`; never two transactions.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessageId, type TransactionReply } from '../../../src/actors/messages.ts';
import { UniquenessError } from '../../../src/actors/errors.ts';
import { applyTransactionBatch } from '../../../src/actors/transaction-batch.ts';
import { createTransactionHost } from '../../../src/actors/transaction-host.ts';
import { openDatabase, type Database, type DatabaseHandle } from '../../../src/db/index.ts';
import { claimQuotes, findQuote, insertQuote } from '../../../src/db/quotes.repository.ts';
import { findTransaction } from '../../../src/db/transactions.repository.ts';
import { accountAssigned, ISSUER, SENDING_ANCHOR, transactionInput } from '../../fixtures/transactions.ts';
import { testDatabases, type OpenTestDatabase } from '../../helpers/database.ts';

const NOW = new Date('2026-11-24T10:00:00.000Z');

async function newQuote(db: Kysely<Database>, expiresAt = new Date(NOW.getTime() + 300_000)) {
  const id = randomUUID();
  await insertQuote(db, {
    id,
    account: SENDING_ANCHOR,
    memo: null,
    context: 'sep31',
    sellAsset: `stellar:USDC:${ISSUER}`,
    sellAmount: '100',
    sellDeliveryMethod: null,
    buyAsset: 'iso4217:BRL',
    buyAmount: '547.22',
    buyDeliveryMethod: 'PIX',
    countryCode: null,
    price: '0.18',
    totalPrice: '0.1827419',
    fee: { total: '1.5', asset: `stellar:USDC:${ISSUER}` },
    expiresAt,
    createdAt: NOW,
  });
  return id;
}

const onQuote = (quoteId: string) =>
  transactionInput({ quoteId, amountOutAsset: 'iso4217:BRL', amountOut: '547.22' });

describe.each(testDatabases())('quote claims in the group commit on $name', (database) => {
  let db: Kysely<Database>;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ db, close } = await database.open());
  });
  afterAll(() => close());

  async function batch(inputs: ReturnType<typeof transactionInput>[], memos: string[] = []) {
    const result = await db.transaction().execute((trx) =>
      applyTransactionBatch(
        trx,
        inputs.map((input, i) => ({
          messageId: createMessageId(input.id),
          transactionId: input.id,
          body: { type: 'create', input, then: [accountAssigned(memos[i])], notAfter: null },
          replyTo: null,
        })),
        { payoutCustomerTypes: null, sep12: { types: {} }, clock: () => NOW },
      ),
    );
    return result.answers;
  }

  it('takes the quote with the transaction it creates', async () => {
    const quoteId = await newQuote(db);
    const input = onQuote(quoteId);
    expect(await batch([input])).toMatchObject([{ outcome: 'applied' }]);
    expect((await findQuote(db, quoteId))?.transactionId).toBe(input.id);
    expect((await findTransaction(db, input.id))?.quote_id).toBe(quoteId);
  });

  it('refuses a second create on the quote, in a later batch or in the same one', async () => {
    const quoteId = await newQuote(db);
    const [first, second, third] = [onQuote(quoteId), onQuote(quoteId), onQuote(quoteId)];
    const answers = await batch([first, second]);
    expect(answers[0]).toMatchObject({ outcome: 'applied' });
    expect(answers[1]).toMatchObject({
      outcome: 'refused',
      code: 'quote_used',
      reason: `quote ${quoteId} has already been used`,
    });
    expect(await batch([third])).toMatchObject([{ outcome: 'refused', code: 'quote_used' }]);
    expect((await findQuote(db, quoteId))?.transactionId).toBe(first.id);
    for (const refused of [second, third]) expect(await findTransaction(db, refused.id)).toBeUndefined();
  });

  it('refuses a create on a quote that is gone or expired, and a refused create takes nothing', async () => {
    const missing = randomUUID();
    const expired = await newQuote(db, NOW);
    const answers: TransactionReply[] = await batch([onQuote(missing), onQuote(expired)]);
    expect(answers).toMatchObject([
      { outcome: 'refused', code: 'quote_invalid', reason: `quote ${missing} not found` },
      { outcome: 'refused', code: 'quote_invalid', reason: `quote ${expired} has expired` },
    ]);
    // Refused for its memo: the quote stays free for the retry with another memo.
    const quoteId = await newQuote(db);
    const holder = transactionInput();
    await batch([holder], ['taken-memo']);
    const input = onQuote(quoteId);
    expect(await batch([input], ['taken-memo'])).toMatchObject([{ code: 'memo_taken' }]);
    expect((await findQuote(db, quoteId))?.transactionId).toBeNull();
    expect(await batch([input])).toMatchObject([{ outcome: 'applied' }]);
  });
});

const postgres = testDatabases().find((d) => d.name === 'postgres');

describe.skipIf(!postgres)('quote claims racing on PostgreSQL', () => {
  let database: OpenTestDatabase;
  const pools: DatabaseHandle[] = [];

  beforeAll(async () => {
    database = await postgres!.open();
    for (let i = 0; i < 2; i++) pools.push(await openDatabase({ url: database.url! }));
  });
  afterAll(async () => {
    for (const pool of pools) await pool.close();
    await database.close();
  });

  it('a claim waits for a concurrent one on the same quote and takes nothing once it committed', async () => {
    const quoteId = await newQuote(database.db);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let claimedFirst!: () => void;
    const first = new Promise<void>((resolve) => (claimedFirst = resolve));
    const holder = pools[0]!.db.transaction().execute(async (trx) => {
      const taken = await claimQuotes(trx, [{ quoteId, transactionId: 'tx-a' }]);
      claimedFirst();
      await held;
      return taken;
    });
    await first;
    const waiter = pools[1]!.db
      .transaction()
      .execute((trx) => claimQuotes(trx, [{ quoteId, transactionId: 'tx-b' }]));
    // The waiter is blocked on the row lock until the holder commits.
    const early = await Promise.race([waiter.then(() => 'done'), pause(300).then(() => 'waiting')]);
    expect(early).toBe('waiting');
    release();
    expect([...(await holder)]).toEqual([quoteId]);
    expect([...(await waiter)]).toEqual([]);
    expect((await findQuote(database.db, quoteId))?.transactionId).toBe('tx-a');
  });

  it('two hosts on their own connections create on one quote at once: one transaction, one refusal', async () => {
    const hosts = pools.map((pool) => createTransactionHost({ db: pool.db, clock: () => NOW }));
    for (let round = 0; round < 10; round++) {
      const quoteId = await newQuote(database.db);
      const inputs = [onQuote(quoteId), onQuote(quoteId)];
      const results = await Promise.allSettled(
        inputs.map((input, i) =>
          hosts[i]!.create(input, { eventId: createMessageId(input.id), then: [accountAssigned()] }),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find((r) => r.status === 'rejected');
      expect(refused?.reason).toBeInstanceOf(UniquenessError);
      expect((refused?.reason as UniquenessError).constraint).toBe('quotes_transaction_id_key');
      const rows = await database.db
        .selectFrom('transactions')
        .select('id')
        .where('quote_id', '=', quoteId)
        .execute();
      expect(rows).toHaveLength(1);
      expect((await findQuote(database.db, quoteId))?.transactionId).toBe(rows[0]!.id);
    }
  });
});

function pause(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
