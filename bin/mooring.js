#!/usr/bin/env node
// Node >= 22.18 runs our TypeScript sources directly (type stripping), so there is no build step.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(`mooring needs Node.js 22.18 or newer (24 recommended); this is ${process.version}.`);
  process.exit(1);
}
await import('../src/cli/main.ts');
