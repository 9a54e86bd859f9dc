/**
 * `queuekit graph`: the app's topology (topics → subscriptions with their filters → queues → consumers, DLQs,
 * producers) as Mermaid text and an SVG, from the cloud assembly alone (nothing is provisioned).
 *
 * @module
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadAppModel } from '../app-model-loader.js';
import { note, runCliAction } from '../cli-target.js';
import { readCloudAssembly } from '../cloud-assembly.js';
import { readCdkApp, synthesize } from '../synth.js';
import { renderSvg, toMermaid } from '../topology-graph.js';

export interface GraphOptions {
  readonly assembly?: string;
  /** Write the SVG here. @default .queuekit/topology.svg */
  readonly svg: string;
  /** Write the Mermaid text here instead of stdout. */
  readonly mermaid?: string;
}

/** Builds the graph; returns the Mermaid text and where the SVG went. */
export async function runGraph(options: GraphOptions): Promise<{ mermaid: string; svgPath: string }> {
  const assembly = options.assembly ?? (await synthesize(readCdkApp())).assembly;
  const model = await loadAppModel(readCloudAssembly(assembly));
  const mermaid = toMermaid(model);
  const svgPath = resolve(options.svg);
  writeFileSync(svgPath, await renderSvg(model));
  if (options.mermaid) writeFileSync(resolve(options.mermaid), `${mermaid}\n`);
  return { mermaid, svgPath };
}

export function registerGraphCommand(program: Command): void {
  program
    .command('graph')
    .description('Draw the app’s topology from its cloud assembly: Mermaid text on stdout and an SVG file.')
    .option('--assembly <dir>', 'use this cloud assembly instead of synthesizing cdk.json’s app')
    .option('--svg <file>', 'where to write the SVG', 'topology.svg')
    .option('--mermaid <file>', 'write the Mermaid text to a file instead of stdout')
    .addHelpText(
      'after',
      `
Examples:
  $ queuekit graph                      # Mermaid on stdout, topology.svg beside cdk.json
  $ queuekit graph --assembly cdk.out --svg docs/topology.svg --mermaid docs/topology.mmd`,
    )
    .action((options: GraphOptions) =>
      runCliAction('graph', async () => {
        const { mermaid, svgPath } = await runGraph(options);
        if (!options.mermaid) console.log(mermaid);
        note(`SVG: ${svgPath}`);
        return 0;
      }),
    );
}
