// xstate state values → the state ids the viewer draws. Pure: no machine needed, because xstate's default state
// ids are the key path below the machine's id joined by `.` (none of our machines gives a state its own `id`).

/** xstate's snapshot `value`, e.g. `'pending_sender'` or `{ pending_receiver: 'ready' }`. */
export type StateValue = string | { [state: string]: StateValue };

export interface ActiveStates {
  /**
   * The active leaf states' ids, in value order: one for a machine without parallel states. A compound state
   * whose value names no child (`{}`) is its own leaf.
   */
  leaves: string[];
  /** Every active state's id, each ancestor before its descendants, without duplicates. */
  active: string[];
}

/**
 * The active states of `value` in machine `machineId`.
 *
 * @example
 * activeStates('transaction', { pending_receiver: 'ready' });
 * // { leaves: ['transaction.pending_receiver.ready'],
 * //   active: ['transaction.pending_receiver', 'transaction.pending_receiver.ready'] }
 */
export function activeStates(machineId: string, value: StateValue): ActiveStates {
  const leaves: string[] = [];
  const active: string[] = [];
  const visit = (prefix: string, node: StateValue) => {
    if (typeof node === 'string') {
      const id = `${prefix}.${node}`;
      active.push(id);
      leaves.push(id);
      return;
    }
    const keys = Object.keys(node);
    if (keys.length === 0) {
      // The root with an empty value has no active state at all.
      if (prefix !== machineId) leaves.push(prefix);
      return;
    }
    for (const key of keys) {
      const id = `${prefix}.${key}`;
      active.push(id);
      visit(id, node[key]!);
    }
  };
  visit(machineId, value);
  return { leaves, active: [...new Set(active)] };
}

/** The active leaf state's id (the first, for a parallel state); null for an empty value. */
export function leafStateId(machineId: string, value: StateValue): string | null {
  return activeStates(machineId, value).leaves[0] ?? null;
}

/** A JSON value read from the database as a state value, or null when it is not one. */
export function asStateValue(value: unknown): StateValue | null {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  for (const child of Object.values(value)) if (asStateValue(child) === null) return null;
  return value as StateValue;
}
