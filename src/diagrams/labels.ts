import { and, not, or, stateIn } from 'xstate';

/**
 * Names for the parts of a transition that xstate stores as values: guards, actions and recorded effects.
 * Everything here reads the machine's definition; nothing runs the machine.
 */

interface GuardLike {
  type?: unknown;
  check?: unknown;
  guards?: unknown;
  stateValue?: unknown;
  name?: unknown;
}

// The higher-order guards carry their evaluator as `check`; take the evaluators from xstate itself.
const checkOf = (guard: unknown) => (guard as GuardLike).check;
const AND = checkOf(and([]));
const OR = checkOf(or([]));
const NOT = checkOf(not(() => true));
const STATE_IN = checkOf(stateIn({}));

/** A guard as text: `inTransactionAsset and paidInFull`, `not (a or b)`, `in(#m.s)`. Null when there is none. */
export function guardLabel(guard: unknown): string | null {
  if (guard === undefined || guard === null) return null;
  if (typeof guard === 'string') return guard;
  const g = guard as GuardLike;
  if (typeof guard === 'object') return typeof g.type === 'string' ? g.type : 'guard';
  if (typeof guard !== 'function') return String(guard);
  const nested = Array.isArray(g.guards) ? g.guards.map(nestedGuard) : [];
  if (g.check !== undefined && g.check === AND) return nested.join(' and ');
  if (g.check !== undefined && g.check === OR) return nested.join(' or ');
  if (g.check !== undefined && g.check === NOT) return `not ${nested[0] ?? ''}`.trim();
  if (g.check !== undefined && g.check === STATE_IN) return `in(${JSON.stringify(g.stateValue)})`;
  return typeof g.name === 'string' && g.name !== '' ? g.name : 'inline guard';
}

function nestedGuard(guard: unknown): string {
  const label = guardLabel(guard) ?? '';
  return / (and|or) /.test(label) ? `(${label})` : label;
}

/** The name of an action: its `type` for named and built-in actions, the function name for inline ones. */
export function actionName(action: unknown): string {
  if (typeof action === 'string') return action;
  const a = action as { type?: unknown; name?: unknown };
  if (typeof a.type === 'string') return a.type;
  if (typeof action === 'function' && typeof a.name === 'string' && a.name !== '') return a.name;
  return 'inline action';
}

/**
 * A stand-in for `context`, `event`, `self`… when reading dynamic effect params: every property is itself,
 * and it turns into a placeholder string when used as one (`${context.id}:payout`).
 */
function placeholder(): unknown {
  const target = () => undefined;
  const proxy: unknown = new Proxy(target, {
    get: (_, property) => (property === Symbol.toPrimitive ? () => '…' : proxy),
    apply: () => proxy,
  });
  return proxy;
}

/**
 * The kind of an effect recorded by `effectAction` (e.g. `{ type: 'recordEffect', params: { kind: 'status_changed' } }`),
 * or null when the action records none. Params given as a function are called once with placeholders: they are
 * pure by contract, and only the `kind` they return is used.
 */
export function effectKind(action: unknown, effectAction: string): string | null {
  if (actionName(action) !== effectAction) return null;
  let params =
    typeof action === 'object' && action !== null ? (action as { params?: unknown }).params : undefined;
  if (typeof params === 'function') {
    try {
      params = (params as (args: unknown, params: unknown) => unknown)(
        { context: placeholder(), event: placeholder(), self: placeholder(), system: placeholder() },
        undefined,
      );
    } catch {
      return effectAction;
    }
  }
  const kind = (params as { kind?: unknown } | null | undefined)?.kind;
  return typeof kind === 'string' ? kind : effectAction;
}
