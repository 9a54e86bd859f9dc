/**
 * Synthesizes the CDK app named in cdk.json into its cloud assembly, the way `cdk synth` does (the app command
 * with `CDK_OUTDIR` and `CDK_CONTEXT_JSON`), skipping the work when the assembly is newer than every source file
 * cdk.json's `watch.include` names: `npm start` is then ready in about a second instead of a full synth.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { existsSync, globSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AssemblyError } from './errors.js';

export interface CdkAppConfig {
  readonly directory: string;
  /** The `app` command. */
  readonly app: string;
  /** Absolute path of the output folder. @default cdk.out */
  readonly outdir: string;
  readonly context: Record<string, unknown>;
  /** Globs of the app's sources (cdk.json `watch.include`). @default ['**'] */
  readonly include: readonly string[];
  readonly exclude: readonly string[];
}

/** Reads cdk.json in `directory`. */
export function readCdkApp(directory = '.'): CdkAppConfig {
  const dir = resolve(directory);
  const path = join(dir, 'cdk.json');
  if (!existsSync(path)) {
    throw new AssemblyError(`no cdk.json in ${dir}. Fix: run from a CDK app folder, or pass --assembly <cdk.out>.`);
  }
  const config = JSON.parse(readFileSync(path, 'utf8')) as {
    app?: string;
    output?: string;
    context?: Record<string, unknown>;
    watch?: { include?: string | string[]; exclude?: string | string[] };
  };
  if (!config.app) throw new AssemblyError(`${path} has no "app" command. Fix: add one, e.g. "npx tsx bin/app.ts".`);
  return {
    directory: dir,
    app: config.app,
    outdir: resolve(dir, config.output ?? 'cdk.out'),
    context: config.context ?? {},
    include: [config.watch?.include ?? '**'].flat(),
    exclude: [config.watch?.exclude ?? []].flat(),
  };
}

/** Newest modification time (ms) of the app's sources and its cdk.json / package-lock.json. */
export function newestSourceTime(app: CdkAppConfig): number {
  const files = globSync([...app.include], {
    cwd: app.directory,
    exclude: (name: string) => ['node_modules', 'cdk.out', '.git', '.queuekit', ...app.exclude].includes(name),
  });
  let newest = 0;
  for (const file of [...files, 'cdk.json', 'package-lock.json']) {
    const path = join(app.directory, file);
    if (!existsSync(path)) continue;
    const stat = statSync(path);
    if (stat.isFile() && stat.mtimeMs > newest) newest = stat.mtimeMs;
  }
  return newest;
}

/** Whether the assembly is newer than every source, so synthesizing again would produce the same. */
export function assemblyIsFresh(app: CdkAppConfig): boolean {
  const manifest = join(app.outdir, 'manifest.json');
  return existsSync(manifest) && statSync(manifest).mtimeMs > newestSourceTime(app);
}

/**
 * What the CDK CLI adds to every app's context: without it the templates carry no `aws:cdk:path` and no
 * `aws:asset:path` metadata, and the runner could neither name resources nor find any function's code.
 */
const CLI_CONTEXT = { 'aws:cdk:enable-path-metadata': true, 'aws:cdk:enable-asset-metadata': true } as const;

export interface SynthResult {
  readonly assembly: string;
  /** False when the assembly was fresh and reused. */
  readonly synthesized: boolean;
  readonly durationMs: number;
}

/** Synthesizes unless the assembly is fresh (or `force`). Bundler output goes to `log`. */
export async function synthesize(
  app: CdkAppConfig,
  options: { readonly force?: boolean; readonly log?: (chunk: string) => void } = {},
): Promise<SynthResult> {
  const started = Date.now();
  if (!options.force && assemblyIsFresh(app)) {
    return { assembly: app.outdir, synthesized: false, durationMs: Date.now() - started };
  }
  const output: string[] = [];
  const code = await new Promise<number | null>((resolveExit, reject) => {
    const child = spawn(app.app, {
      cwd: app.directory,
      shell: true,
      env: {
        ...process.env,
        CDK_OUTDIR: app.outdir,
        CDK_CONTEXT_JSON: JSON.stringify({ ...CLI_CONTEXT, ...app.context }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer) => {
      const text = chunk.toString();
      output.push(text);
      options.log?.(text);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', resolveExit);
  });
  if (code !== 0) {
    throw new AssemblyError(
      `synthesis failed (${app.app} exited with ${code}):\n${output.join('').trim().split('\n').slice(-30).join('\n')}\nFix: the lines above name the construct and the fix; 'npx cdk synth' shows the same.`,
    );
  }
  return { assembly: app.outdir, synthesized: true, durationMs: Date.now() - started };
}
