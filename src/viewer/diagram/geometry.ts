// Sizes, spacing and id prefixes shared by the layout (elk-graph.ts) and the drawing (svg.ts).

/** The size `text` takes when drawn as a state's name (`state`) or an arrow's label (`label`), in SVG units. */
export type Measure = (text: string, kind: 'state' | 'label') => { width: number; height: number };

/** Shapes and spacing shared by the graph (sizes) and the SVG (drawing). */
export const GEOMETRY = {
  /** Padding inside a leaf state's box. */
  padX: 14,
  padY: 10,
  /** A leaf state is at least this wide, so that the boxes read as a set. */
  minStateWidth: 132,
  /** Gap between a state's name and its count badge. */
  badgeGap: 10,
  /** The count badge (room for five digits at the label size). */
  badgeWidth: 44,
  badgeHeight: 20,
  /** Inset of a final state's inner border. */
  finalInset: 4,
  /** A compound state: the gap under its header, and the padding around its children. */
  headerGap: 12,
  compoundPad: 18,
  /** The start marker (a filled dot pointing at the initial state). */
  startSize: 14,
  /** The gap between the lines of an arrow's label. */
  labelLineGap: 2,
  /** Space between a label's text and the edge of its background. */
  labelPad: 2,
  /** An event name longer than this breaks after an underscore. */
  eventWrap: 20,
  /** A guard wraps at spaces beyond this many characters. */
  guardWrap: 22,
  /** An event and its guard share a line when together no longer than this. */
  lineWrap: 28,
  /** A state's name longer than this breaks after an underscore near its middle. */
  nameWrap: 20,
  corner: 8,
} as const;

/** Prefix of the id of a start marker node; the id continues with the state (or machine) whose initial it marks. */
export const START_PREFIX = 'start:';
/** Prefix of the id of the arrow from a start marker to the initial state. */
export const START_EDGE_PREFIX = 'start-edge:';
/** Prefix of the id of the ELK edge that routes a group of parallel ViewerEdges; the first one's id follows. */
export const ROUTE_PREFIX = 'route:';
/** Prefix of the id of an ELK label; the (URI-encoded, space-separated) ids of the ViewerEdges it names follow. */
export const LABEL_PREFIX = 'label:';
/** Prefix of the id of a state's entry port, where the arrows whose labels sit at their head meet. */
export const ENTRY_PREFIX = 'entry:';
