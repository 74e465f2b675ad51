// The Node.js check of `mooring` and `npm test`, in plain JavaScript so that an old Node can run it.
// Node >= 22.18 runs our TypeScript sources directly (type stripping), so there is no build step.
import { pathToFileURL } from 'node:url';

/** The line to print when `version` (e.g. `v20.1.0`) is too old, or null. */
export function nodeVersionProblem(version) {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 18)) return null;
  return `mooring needs Node.js 22.18 or newer (24 recommended); this is ${version}.`;
}

export function requireNode() {
  const problem = nodeVersionProblem(process.version);
  if (problem !== null) {
    console.error(problem);
    process.exit(1);
  }
}

// `node bin/require-node.js` (npm's pretest) checks and exits.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) requireNode();
