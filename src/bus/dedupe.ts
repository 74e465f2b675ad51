/**
 * A set of ids that forgets the least recently seen one once it holds `capacity` ids, so
 * de-duplication costs bounded memory (about 100 bytes per id for UUIDs).
 */
export class RecentIds {
  readonly capacity: number;
  readonly #ids = new Set<string>();

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
  }

  get size(): number {
    return this.#ids.size;
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /** Records `id` as the most recent. Returns false when it was already there (a duplicate). */
  add(id: string): boolean {
    const isNew = !this.#ids.delete(id);
    this.#ids.add(id);
    if (this.#ids.size > this.capacity) {
      // A Set iterates in insertion order, so the first id is the least recently seen.
      const oldest = this.#ids.values().next();
      if (!oldest.done) this.#ids.delete(oldest.value);
    }
    return isNew;
  }
}
