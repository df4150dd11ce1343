/**
 * `whetstone export <run-dir | network.json> --target <nir|spinnaker|loihi|json>`: writes a
 * self-describing folder (files + README.md + export.json) for a neuromorphic platform.
 * Results on stdout (or one JSON object with --json), progress on stderr.
 */
import { exportRun, type ExportOptions, type NirNeuron, type PynnSimulator, type TargetName } from '../../export/index.js';
import type { CommandContext } from '../context.js';

interface ExportFlags {
  target?: TargetName;
  out?: string;
  neuron?: NirNeuron;
  simulator?: PynnSimulator;
  weightBits?: number;
  data?: string;
  limit?: number;
  samples?: number;
  json?: boolean;
}

export async function run(args: string[], flags: ExportFlags, ctx: CommandContext): Promise<void> {
  const { out } = ctx;
  const options: ExportOptions = {
    target: flags.target!, // commander makes --target mandatory
    out: flags.out,
    neuron: flags.neuron,
    simulator: flags.simulator,
    weightBits: flags.weightBits,
    data: flags.data,
    limit: flags.limit,
    samples: flags.samples,
    cwd: ctx.cwd,
  };
  const result = await exportRun(args[0]!, options);
  if (flags.json) {
    out.result(JSON.stringify(result));
    return;
  }
  out.result(`exported ${result.network} (${result.source}) → ${result.outDir}`);
  for (const line of result.lines) out.result(`  ${line}`);
  out.result(`  files: ${result.files.join(', ')}`);
}
