/**
 * xstate's pure `transition(machine, snapshot, event)` with one reused actor scope. xstate builds a new
 * actor for every call (most of a step's cost); our machines invoke and spawn nothing, so a scope holds no
 * state between steps and one per machine serves them all. Nothing runs: actions come back as data.
 */
import {
  createActor,
  type AnyActorScope,
  type AnyStateMachine,
  type EventFromLogic,
  type SnapshotFrom,
} from 'xstate';

interface ExecutableAction {
  type: string;
  params?: unknown;
}

export function pureTransitions<M extends AnyStateMachine>(machine: M) {
  let collect: (action: ExecutableAction) => void = () => {};
  const self = createActor(machine);
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
    /** The next snapshot and the actions the transition asks for. */
    transition(snapshot: SnapshotFrom<M>, event: EventFromLogic<M>): [SnapshotFrom<M>, ExecutableAction[]] {
      const actions: ExecutableAction[] = [];
      collect = (action) => actions.push(action);
      try {
        return [machine.transition(snapshot, event, scope) as SnapshotFrom<M>, actions];
      } finally {
        collect = () => {};
      }
    },
  };
}
