/**
 * Creates with an idempotency key (`POST /transactions` with `Idempotency-Key`) in the group commit: a
 * create whose id exists, in an earlier batch or earlier in the same one, is answered `exists` with the
 * stored request hash and changes nothing; without a key the fast path reads no row.
 */
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessageId, type TransactionReply } from '../../../src/actors/messages.ts';
import { applyTransactionBatch } from '../../../src/actors/transaction-batch.ts';
import type { Database } from '../../../src/db/index.ts';
import { findTransaction, listEvents, type Idempotency } from '../../../src/db/transactions.repository.ts';
import { testDatabases } from '../../helpers/database.ts';
import { SENDING_ANCHOR, accountAssigned, transactionInput } from '../../fixtures/transactions.ts';

const RIVAL = 'GBRPYHIL2CI3FNQ4BXLFMNDLFJUNPU2HY3ZMFSHONUCEOASW7QC7OX2H';

describe.each(testDatabases())('keyed creates on $name', (database) => {
  let db: Kysely<Database>;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ db, close } = await database.open());
  });
  afterAll(() => close());

  type Create = { input: ReturnType<typeof transactionInput>; memo?: string; idempotency?: Idempotency };

  async function batch(creates: Create[]): Promise<TransactionReply[]> {
    const result = await db.transaction().execute((trx) =>
      applyTransactionBatch(
        trx,
        creates.map(({ input, memo, idempotency }) => ({
          messageId: createMessageId(input.id),
          transactionId: input.id,
          body: {
            type: 'create',
            input,
            then: [accountAssigned(memo)],
            notAfter: null,
            ...(idempotency && { idempotency }),
          },
          replyTo: null,
        })),
        { payoutCustomerTypes: null, sep12: { types: {} }, clock: () => new Date() },
      ),
    );
    return result.answers;
  }

  const rowsWithKey = (key: string) =>
    db.selectFrom('transactions').selectAll().where('idempotency_key', '=', key).execute();

  it('stores the key and request hash with the transaction it creates', async () => {
    const input = transactionInput();
    const idempotency = { key: 'store-1', requestHash: 'h1' };
    expect(await batch([{ input, idempotency }])).toMatchObject([{ outcome: 'applied' }]);
    expect(await findTransaction(db, input.id)).toMatchObject({
      idempotency_key: 'store-1',
      request_hash: 'h1',
    });
  });

  it('answers a later keyed create of the id `exists` with the stored hash, changing nothing', async () => {
    const input = transactionInput();
    const idempotency = { key: 'later-1', requestHash: 'first-body' };
    await batch([{ input, idempotency }]);
    const before = await findTransaction(db, input.id);

    // The retry draws another memo; another body under the key comes with another hash.
    const answers = await batch([
      { input, memo: 'retry-memo', idempotency },
      { input, memo: 'other-memo', idempotency: { key: 'later-1', requestHash: 'second-body' } },
    ]);
    expect(answers).toEqual([
      expect.objectContaining({ outcome: 'refused', code: 'exists', requestHash: 'first-body' }),
      expect.objectContaining({ outcome: 'refused', code: 'exists', requestHash: 'first-body' }),
    ]);
    expect(await findTransaction(db, input.id)).toEqual(before);
    expect(await listEvents(db, input.id)).toHaveLength(2);
    expect(await rowsWithKey('later-1')).toHaveLength(1);
  });

  it('applies the first of two keyed twins in one batch and answers the second `exists`', async () => {
    const input = transactionInput();
    const idempotency = { key: 'twins-1', requestHash: 'same-body' };
    const answers = await batch([
      { input, memo: 'twin-a', idempotency },
      { input, memo: 'twin-b', idempotency },
    ]);
    expect(answers[0]).toMatchObject({ outcome: 'applied', status: 'pending_sender' });
    expect(answers[1]).toMatchObject({ outcome: 'refused', code: 'exists', requestHash: 'same-body' });
    const rows = await rowsWithKey('twins-1');
    expect(rows.map((row) => row.stellar_memo)).toEqual(['twin-a']);
  });

  it('gives no hash for an id created by another sending anchor or key', async () => {
    const input = transactionInput();
    await batch([{ input, idempotency: { key: 'scoped-1', requestHash: 'h' } }]);
    const answers = await batch([
      { input: { ...input, sendingAnchor: RIVAL }, idempotency: { key: 'scoped-1', requestHash: 'h' } },
      { input, idempotency: { key: 'scoped-2', requestHash: 'h' } },
    ]);
    expect(answers.map((a) => a.outcome === 'refused' && a.requestHash)).toEqual([null, null]);
  });

  it('keeps the unkeyed path as it was: no columns, a plain `exists` for an id made twice in a batch', async () => {
    const input = transactionInput();
    const answers = await batch([{ input }, { input, memo: 'again' }]);
    expect(answers[0]).toMatchObject({ outcome: 'applied' });
    // The same message id twice: the second is the first's duplicate, as before.
    expect(answers[1]).toMatchObject({ outcome: 'duplicate' });
    expect(answers[1]).not.toHaveProperty('requestHash');
    expect(await findTransaction(db, input.id)).toMatchObject({ idempotency_key: null, request_hash: null });
  });

  it('refuses a second transaction with the same key and sending anchor in the database', async () => {
    const input = transactionInput({ sendingAnchor: SENDING_ANCHOR });
    await batch([{ input, idempotency: { key: 'unique-1', requestHash: 'h' } }]);
    // Another id under the same key (the derivation bypassed): the unique constraint still holds.
    const other = transactionInput({ sendingAnchor: SENDING_ANCHOR });
    await expect(
      batch([{ input: other, idempotency: { key: 'unique-1', requestHash: 'h' } }]),
    ).rejects.toThrow(/transactions_sending_anchor_idempotency_key_key/);
    expect(await rowsWithKey('unique-1')).toHaveLength(1);
  });
});
