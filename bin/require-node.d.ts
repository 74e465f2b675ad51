/** The line to print when `version` (e.g. `v20.1.0`) is too old to run Mooring, or null. */
export function nodeVersionProblem(version: string): string | null;
/** Prints that line and exits 1 when this Node.js is too old. */
export function requireNode(): void;
