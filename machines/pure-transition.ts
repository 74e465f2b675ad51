/**
 * xstate's pure `transition(machine, snapshot, event)` with one reused actor scope. xstate builds a new
 * actor for every call (most of a step's cost); our machines invoke and spawn nothing, so a scope holds no
 * state between steps and one per machine serves them all. Nothing runs: actions come back as data.
 */
import {
  createActor,
  type AnyActorScope,
  type AnyStateMachine,
  type AnyTransitionDefinition,
  type EventFromLogic,
  type InspectionEvent,
  type SnapshotFrom,
} from 'xstate';

interface ExecutableAction {
  type: string;
  params?: unknown;
}

/**
 * A transition's name within its machine: `<source state id>:<event>:<index among the source's transitions for
 * that event>`. Guarded twins (same ends, same event) get different names, so the one taken can be told.
 */
export function transitionKey(t: AnyTransitionDefinition): string {
  const siblings =
    t.eventType === '' ? (t.source.always ?? []) : (t.source.transitions.get(t.eventType) ?? []);
  return `${t.source.id}:${t.eventType}:${siblings.indexOf(t)}`;
}

export function pureTransitions<M extends AnyStateMachine>(machine: M) {
  let collect: (action: ExecutableAction) => void = () => {};
  const seen: { taken: AnyTransitionDefinition[] | null } = { taken: null };
  // xstate reports each microstep's transitions to inspectors: the first microstep is the event's own.
  const inspect = (event: InspectionEvent) => {
    if (event.type === '@xstate.microstep') seen.taken ??= event._transitions;
  };
  const self = createActor(machine as AnyStateMachine, { inspect });
  const scope = {
    self,
    defer: () => {},
    id: '',
    logger: () => {},
    sessionId: '',
    stopChild: () => {},
    system: self.system,
    emit: () => {},
    actionExecutor: (action: ExecutableAction) => collect(action),
  } as unknown as AnyActorScope;
  return {
    /**
     * The next snapshot, the actions the transition asks for, and the keys (`transitionKey`) of the transitions
     * the event took (none when it was not handled).
     */
    transition(
      snapshot: SnapshotFrom<M>,
      event: EventFromLogic<M>,
    ): [SnapshotFrom<M>, ExecutableAction[], string[]] {
      const actions: ExecutableAction[] = [];
      collect = (action) => actions.push(action);
      seen.taken = null;
      try {
        const next = machine.transition(snapshot, event, scope) as SnapshotFrom<M>;
        return [next, actions, (seen.taken ?? []).map(transitionKey)];
      } finally {
        collect = () => {};
        seen.taken = null;
      }
    },
  };
}
