// Imports nothing, so the viewer's browser bundle can share it with the exporters.

/** How an event reads on an arrow: `always` for an eventless transition, `after 500ms`, `done(pay)`. */
export function eventLabel(event: string): string {
  if (event === '') return 'always';
  const after = /^xstate\.after\.(\d+)\./.exec(event);
  if (after) return `after ${after[1]}ms`;
  const actor = /^xstate\.(done|error)\.actor\.(.+)$/.exec(event);
  if (actor) return `${actor[1]}(${actor[2]})`;
  return event;
}
