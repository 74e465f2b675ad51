import { expect } from 'vitest';
import { toJson } from '../../../src/db/columns.ts';
import type { NewTransactionRow } from '../../../src/db/transactions.table.ts';

/** A minimal valid transactions row; override what the case is about. */
export function transactionRow(id: string, overrides: Partial<NewTransactionRow> = {}): NewTransactionRow {
  return {
    id,
    sending_anchor: 'GSENDER',
    status: 'pending_sender',
    state_value: toJson('pending_sender'),
    version: 1,
    snapshot: toJson({ status: 'active', value: 'pending_sender', context: { id } }),
    asset_code: 'USDC',
    asset_issuer: 'GISSUER',
    amount_in: '100',
    amount_in_asset: 'stellar:USDC:GISSUER',
    amount_out: '99',
    amount_out_asset: 'iso4217:USD',
    amount_fee: '1',
    amount_fee_asset: 'stellar:USDC:GISSUER',
    fee_details: toJson({ total: '1', asset: 'stellar:USDC:GISSUER' }),
    started_at: '2026-11-24T12:00:00Z',
    updated_at: '2026-11-24T12:00:00Z',
    ...overrides,
  };
}

/** Asserts a unique violation of the named constraint or unique index (SQLSTATE 23505). */
export async function expectUniqueViolation(promise: Promise<unknown>, constraint: string): Promise<void> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected a unique violation of ${constraint}`).toMatchObject({ code: '23505', constraint });
}
