// Which arrows are drawn as one: twins between the same two states, and arrows meeting at a shared entry.
import type { ViewerEdge } from '../api.ts';
import { LABEL_PREFIX, ROUTE_PREFIX } from './geometry.ts';

/** ViewerEdges that join the same two states in the same direction: ELK routes them as one arrow. */
export interface Route {
  /** `route:` and the first edge's id. */
  id: string;
  from: string;
  to: string;
  /** In machine order; the first draws the arrow, the others (twins) follow the same path. */
  edges: ViewerEdge[];
}

/**
 * The machine's edges grouped into routes: twins (guarded variants of one event, a root event beside a local one,
 * every self-loop of a state) share one arrow and stack their labels, in machine order.
 */
export function routesOf(edges: ViewerEdge[]): Route[] {
  const routes = new Map<string, Route>();
  for (const edge of edges) {
    const key = JSON.stringify([edge.from, edge.to]);
    const route = routes.get(key);
    if (route === undefined) {
      routes.set(key, { id: `${ROUTE_PREFIX}${edge.id}`, from: edge.from, to: edge.to, edges: [edge] });
    } else {
      route.edges.push(edge);
    }
  }
  return [...routes.values()];
}

/**
 * The routes whose labels go at their head, on the target's entry port: those that share an event (and guard) and
 * target with a route from another state (a root event such as `ERROR`, taken in every state). They meet in one
 * arrowhead under one label instead of crossing the drawing side by side, each repeating the same text.
 */
export function sharedEntries(routes: Route[]): Set<string> {
  const sources = new Map<string, Set<string>>();
  const key = (edge: ViewerEdge) => JSON.stringify([edge.event, edge.guard, edge.to]);
  for (const route of routes) {
    if (route.from === route.to) continue;
    for (const edge of route.edges)
      sources.set(key(edge), (sources.get(key(edge)) ?? new Set()).add(route.from));
  }
  return new Set(
    routes
      .filter((r) => r.from !== r.to && r.edges.some((edge) => (sources.get(key(edge))?.size ?? 0) > 1))
      .map((r) => r.id),
  );
}

/** The id of an ELK label naming the given ViewerEdges. */
export function labelId(edgeIds: string[]): string {
  return `${LABEL_PREFIX}${edgeIds.map(encodeURIComponent).join(' ')}`;
}

/** The ViewerEdge ids an ELK label names ([] for a label that is not an arrow's). */
export function labelEdgeIds(id: string | undefined): string[] {
  if (id === undefined || !id.startsWith(LABEL_PREFIX)) return [];
  return id.slice(LABEL_PREFIX.length).split(' ').map(decodeURIComponent);
}
