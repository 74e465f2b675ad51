/**
 * The stable partition function both buses share: the same transaction id always lands on the same
 * lane, in every process and every release. Changing it (or the partition count) on a bus that still
 * holds events breaks per-transaction order, so treat it as part of the wire format.
 */

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const utf8 = new TextEncoder();

/** 32-bit FNV-1a of the UTF-8 bytes of `text`, as an unsigned integer. */
export function fnv1a32(text: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (const byte of utf8.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}

/**
 * The lane (0 … `partitions - 1`) of a transaction.
 *
 * @example
 * partitionOf('0b6c2f54-7a55-4a43-9a43-2f2d8f4f8c11', 16); // always the same number in [0, 16)
 */
export function partitionOf(transactionId: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
  }
  return fnv1a32(transactionId) % partitions;
}
