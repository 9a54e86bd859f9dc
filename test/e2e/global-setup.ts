/**
 * vitest globalSetup of the end-to-end suites: checks the target (test/support/runner-target.ts), then synthesizes
 * the fixture app (test/e2e/fixture-app) ONCE per run with lib/local/synth.ts, the way `queuekit dev` does, and
 * hands the assembly to the suites (`inject('e2e')`).
 *
 * The assembly is cached under `node_modules/.cache/queuekit-e2e/<hash>`, the hash covering every source the
 * synthesis reads (the fixture, lib/constructs, lib/runtime, the lock file) and the stack name; a rerun with no
 * change reuses it (about 9 s saved). On LocalStack the stack name is unique per run (fresh queue and topic names
 * on a shared server), so each LocalStack run synthesizes, and its resources are deleted again at the end.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { existsSync, globSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { synthesize } from '../../lib/local/synth.js';
import {
  assertTargetReachable,
  deleteAppResources,
  type RunnerTargetKind,
  runnerTarget,
} from '../support/runner-target.js';
import { STACK_CONTEXT_KEY } from './fixture-app/constants.js';

/** What the suites get from `inject('e2e')`. */
export interface E2eContext {
  /** The fixture's cloud assembly. */
  readonly assembly: string;
  readonly stackName: string;
  readonly target: RunnerTargetKind;
  /** Whether this run synthesized (false: cache hit). */
  readonly synthesized: boolean;
}

declare module 'vitest' {
  export interface ProvidedContext {
    e2e: E2eContext;
  }
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CACHE = join(ROOT, 'node_modules/.cache/queuekit-e2e');
/** Cached assemblies kept; older ones are removed. */
const KEEP = 4;
const SOURCES = ['test/e2e/fixture-app/**/*.ts', 'lib/constructs/**/*.ts', 'lib/runtime/**/*.ts', 'package-lock.json'];

function sourceHash(stackName: string): string {
  const hash = createHash('sha256').update(`stack=${stackName}\nnode=${process.versions.node}\n`);
  const files = globSync(SOURCES, { cwd: ROOT }).sort();
  for (const file of files) hash.update(`${file}\n`).update(readFileSync(join(ROOT, file)));
  return hash.digest('hex').slice(0, 16);
}

async function fixtureAssembly(stackName: string): Promise<{ assembly: string; synthesized: boolean }> {
  const dir = join(CACHE, sourceHash(stackName));
  if (existsSync(join(dir, 'manifest.json'))) return { assembly: dir, synthesized: false };
  mkdirSync(CACHE, { recursive: true });
  const staging = `${dir}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  const started = Date.now();
  await synthesize(
    {
      directory: ROOT,
      app: `"${join(ROOT, 'node_modules/.bin/tsx')}" test/e2e/fixture-app/app.ts`,
      outdir: staging,
      context: { [STACK_CONTEXT_KEY]: stackName },
      include: [],
      exclude: [],
    },
    { force: true },
  );
  try {
    renameSync(staging, dir);
  } catch (error) {
    // Another run finished the same assembly first: use theirs.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(join(dir, 'manifest.json'))) throw error;
  }
  console.log(`[e2e] synthesized the fixture app (${stackName}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  prune(dir);
  return { assembly: dir, synthesized: true };
}

function prune(keep: string): void {
  const entries = readdirSync(CACHE)
    .map((name) => join(CACHE, name))
    .filter((path) => path !== keep && !path.endsWith('.tmp'))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  for (const path of entries.slice(KEEP - 1)) rmSync(path, { recursive: true, force: true });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const target = runnerTarget();
  await assertTargetReachable(target);
  const stackName =
    target.kind === 'localstack'
      ? `QueuekitE2e-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
      : 'QueuekitE2e';
  const { assembly, synthesized } = await fixtureAssembly(stackName);
  console.log(
    `[e2e] target ${target.kind}${target.endpoint ? ` at ${target.endpoint}` : ''}; fixture ${relative(ROOT, assembly)}${synthesized ? '' : ' (cached)'}`,
  );
  project.provide('e2e', { assembly: resolve(assembly), stackName, target: target.kind, synthesized });
  return async () => {
    if (target.kind !== 'localstack') return;
    await deleteAppResources(target, assembly);
    // A per-run stack name is never reused: its cached assembly is of no further use.
    rmSync(assembly, { recursive: true, force: true });
  };
}
