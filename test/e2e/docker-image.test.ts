/**
 * The Dockerfile and docker-compose.yml keep their invariants (no Docker daemon needed): a multi-stage build
 * with production dependencies only, a non-root user, `node bin/mooring.js` in exec form so signals reach
 * it, and compose services that run the image instead of `npm ci` on mounted source. The image's file set
 * is also laid out here (the runtime stage's COPY lines) and the CLI run from it, so a file the code needs
 * but the image leaves out fails this test.
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Copy, DockerfileParser, type Dockerfile, type Instruction } from 'dockerfile-ast';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { nodeVersionProblem } from '../../bin/require-node.js';

const ROOT = join(import.meta.dirname, '..', '..');
const ROLE_COMMANDS = [
  'serve',
  'watch-transactions',
  'actors',
  'execute-outgoing',
  'poll-outgoing',
  'migrate',
];

let dockerfile: Dockerfile;
let runtime: Instruction[];
beforeAll(async () => {
  dockerfile = DockerfileParser.parse(await readFile(join(ROOT, 'Dockerfile'), 'utf8'));
  const stages = dockerfile.getFROMs().map((from) => from.getRange().start.line);
  runtime = dockerfile.getInstructions().filter((i) => i.getRange().start.line > stages.at(-1)!);
});

/** The runtime stage's COPY lines: `from` the builder stage, or `local` (from the build context). */
const copies = (from: 'builder' | 'local') =>
  runtime.filter((i): i is Copy => i instanceof Copy && (i.getFromFlag() !== null) === (from === 'builder'));
const args = (instruction: Instruction) => instruction.getArguments().map((a) => a.getValue());
const exec = (instructions: { getJSONStrings(): { getJSONValue(): string }[] }[]) =>
  instructions
    .at(-1)
    ?.getJSONStrings()
    .map((s) => s.getJSONValue());

describe('Dockerfile', () => {
  it('installs production dependencies from the lockfile in a stage of its own', () => {
    const froms = dockerfile.getFROMs();
    expect(froms.length).toBeGreaterThanOrEqual(2);
    const builder = froms[0]!.getBuildStage();
    expect(builder).toBeTruthy();
    const install = dockerfile
      .getInstructions()
      .filter((i) => i.getKeyword() === 'RUN' && i.getRange().start.line < froms[1]!.getRange().start.line);
    expect(install.map((i) => i.getArgumentsContent()).join(' ')).toMatch(/npm ci --omit=dev/);
    const fromBuilder = copies('builder').filter((i) => i.getFromFlag()!.getValue() === builder);
    expect(fromBuilder.map((i) => args(i).at(-1))).toContain('./node_modules');
  });

  it('runs on a Node.js that Mooring accepts', () => {
    const image = dockerfile.getARGs()[0]!.getProperty()!.getValue()!;
    const major = /^node:(\d+)/.exec(image)?.[1];
    expect(nodeVersionProblem(`v${major}.0.0`)).toBeNull();
  });

  it('runs as a user other than root', () => {
    const users = runtime.filter((i) => i.getKeyword() === 'USER').map((i) => args(i)[0]);
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0']).not.toContain(users.at(-1)!.split(':')[0]);
  });

  it('starts `node bin/mooring.js` in exec form (signals reach node), `serve` by default', () => {
    expect(exec(dockerfile.getENTRYPOINTs())).toEqual(['node', 'bin/mooring.js']);
    expect(exec(dockerfile.getCMDs())).toEqual(['serve']);
  });

  it('keeps the data folder (PGlite, sandbox keys) in a volume the user owns', () => {
    const env = runtime
      .filter((i) => i.getKeyword() === 'ENV')
      .map((i) => i.getArgumentsContent())
      .join(' ');
    const dataDir = /MOORING_DATA_DIR=(\S+)/.exec(env)?.[1];
    expect(dataDir).toBeTruthy();
    expect(
      runtime
        .filter((i) => i.getKeyword() === 'VOLUME')
        .map((i) => i.getArgumentsContent())
        .join(' '),
    ).toContain(dataDir!);
  });

  describe('the runtime stage’s files', () => {
    let image: string;
    beforeAll(async () => {
      image = await mkdtemp(join(tmpdir(), 'mooring-image-'));
      for (const copy of copies('local')) {
        const [target, ...sources] = args(copy).reverse();
        for (const source of sources) {
          await cp(join(ROOT, source!), join(image, target!.endsWith('/') ? source! : target!), {
            recursive: true,
          });
        }
      }
      // The builder stage's node_modules: this checkout's stands in for it.
      await symlink(join(ROOT, 'node_modules'), join(image, 'node_modules'));
    });
    afterAll(() => rm(image, { recursive: true, force: true }));

    it('are enough to load every command', () => {
      const run = spawnSync(process.execPath, ['bin/mooring.js', 'machines', 'export', '--format', 'json'], {
        cwd: image,
        encoding: 'utf8',
      });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(JSON.parse(run.stdout)).toHaveProperty('states');
    });

    it('leave the .dockerignore’d clutter out, and nothing the image copies is ignored', async () => {
      const ignored = (await readFile(join(ROOT, '.dockerignore'), 'utf8'))
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '' && !line.startsWith('#'));
      expect(ignored).toEqual(
        expect.arrayContaining(['.git', 'node_modules', '.mooring', 'test-output', '.env']),
      );
      const copied = copies('local').flatMap((i) => args(i).slice(0, -1));
      for (const path of copied) expect(ignored).not.toContain(path);
    });
  });
});

describe('docker-compose.yml', () => {
  let services: Record<
    string,
    {
      image?: string;
      build?: unknown;
      command?: string[];
      volumes?: string[];
      healthcheck?: { test?: string[]; disable?: boolean };
      environment?: Record<string, string>;
    }
  >;
  beforeAll(async () => {
    services = (
      parse(await readFile(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
        services: typeof services;
      }
    ).services;
  });

  const mooringServices = () =>
    Object.entries(services).filter(([name]) => !['postgres', 'nats'].includes(name));

  it('runs every Mooring role from the image the Dockerfile builds, never from mounted source', () => {
    expect(mooringServices().length).toBeGreaterThanOrEqual(7);
    for (const [name, service] of mooringServices()) {
      expect(service.build, name).toBe('.');
      expect(service.image, name).toBe('mooring:local');
      expect(service.command?.join(' '), name).not.toMatch(/npm|node /);
      expect(ROLE_COMMANDS, name).toContain(service.command?.[0]);
      for (const volume of service.volumes ?? []) {
        // Config only, read-only: the code comes from the image.
        expect(volume, name).toMatch(/^\.\/docker\/[^:]+:[^:]+:ro$/);
      }
    }
  });

  it('checks /ready of the http role only (the others have no HTTP port)', () => {
    for (const [name, service] of mooringServices()) {
      const check = service.healthcheck;
      if (name === 'http') expect(check?.test?.join(' ')).toMatch(/\/ready/);
      else expect(check, name).toEqual({ disable: true });
    }
  });

  it('gives every role the real PostgreSQL and NATS', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['postgres', 'nats']));
    for (const [name, service] of mooringServices()) {
      expect(service.environment?.DATABASE_URL, name).toMatch(/^postgres:\/\/.*@postgres:5432\//);
      expect(service.environment?.NATS_URL, name).toBe('nats://nats:4222');
    }
  });
});
