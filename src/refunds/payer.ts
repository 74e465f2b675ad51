import { Horizon } from '@stellar/stellar-sdk';

/** Who sent a payment: the `from` of its Horizon operation (where SEP-31 refunds go). */
export type PayerOf = (operationId: string) => Promise<string>;

export function horizonPayerOf(horizonUrl: string): PayerOf {
  const server = new Horizon.Server(horizonUrl, { allowHttp: horizonUrl.startsWith('http://') });
  return async (operationId) => {
    const record = (await server.operations().operation(operationId).call()) as unknown as {
      from?: string;
      source_account?: string;
    };
    const from = record.from ?? record.source_account;
    if (from === undefined) throw new Error(`operation ${operationId} names no sender`);
    return from;
  };
}
