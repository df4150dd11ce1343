/**
 * `whetstone evaluate <run-dir | network.json>`: runs the spiking network in the simulator and
 * prints accuracy, the confusion matrix, per-layer spike statistics, synaptic events against the
 * ANN's MACs and the energy estimate — or, with --json, the same as one JSON object on stdout.
 */
import { evaluateRun } from '../../snn/run.js';
import type { EvaluationResult } from '../../snn/evaluate.js';
import type { CommandContext } from '../context.js';
import type { Status } from '../output.js';
import { fixed as num, int, joules, pct } from '../../util/format.js';

interface EvaluateFlags {
  data?: string;
  limit?: number;
  weightBits?: number;
  json?: boolean;
}


function table(rows: string[][], alignRight: (col: number) => boolean): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (alignRight(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd());
}

/** The human-readable report, one string per line. */
export function evaluationLines(r: EvaluationResult, source: string): string[] {
  const lines: string[] = [];
  lines.push(`network     ${r.network} (${source})`);
  lines.push(
    `            ${r.input_encoding} input, ${r.layers.length} neuron layers, ${int(r.totals.neurons)} neurons, latency ${r.latency_steps} steps, ${int(r.parameter_bytes)} bytes of parameters`,
  );
  lines.push(`dataset     ${r.dataset ?? 'given images'}: ${int(r.images)} test images`);
  if (r.weight_bits !== null) {
    lines.push(`accuracy    ${pct(r.accuracy)} (${int(r.correct)} / ${int(r.images)}) with ${r.weight_bits}-bit weights; ${pct(r.unquantized_accuracy)} with float32 weights`);
  } else {
    lines.push(`accuracy    ${pct(r.accuracy)} (${int(r.correct)} / ${int(r.images)})`);
  }
  lines.push(`ties        ${int(r.tied_decisions)} images (${pct(r.images > 0 ? r.tied_decisions / r.images : Number.NaN)}) had two or more classes with the best output score; the lowest class index won`);
  lines.push(`simulator   ${int(r.images_per_second)} images/s (${num(r.seconds, 2)} s, one thread)`);

  lines.push('', 'confusion matrix (rows: true class, columns: predicted)');
  const names = r.class_names.map((n) => (n.length > 8 ? n.slice(0, 8) : n));
  lines.push(...table([['', ...names], ...r.confusion.map((row, i) => [names[i]!, ...row.map(String)])], (c) => c > 0));

  lines.push('', `spikes per inference (input: ${num(r.input_active_per_inference)} ${r.input_encoding === 'binary' ? 'spikes' : 'non-zero values'})`);
  const layerRows = [
    ['layer', 'type', 'step', 'neurons', 'spikes', 'active', 'syn. events', 'ANN MACs'],
    ...r.layers.map((l) => [
      l.name,
      l.type + (l.input === 'analog' ? ' (analog in)' : ''),
      String(l.step),
      int(l.neurons),
      num(l.spikes_per_inference),
      pct(l.fraction_active),
      int(l.synaptic_events_per_inference),
      int(l.ann_macs_per_inference),
    ]),
    ['total', '', '', int(r.totals.neurons), num(r.totals.spikes_per_inference), '', int(r.totals.synaptic_events_per_inference), int(r.totals.ann_macs_per_inference)],
  ];
  lines.push(...table(layerRows, (c) => c >= 2));
  lines.push(`synaptic events / ANN MACs = ${num(r.totals.events_per_mac, 3)}`);

  lines.push('', `energy per inference — ESTIMATE (${r.energy.note})`);
  lines.push(
    ...table(
      [
        ['platform', 'per op', 'ops/inference', 'energy/inference', 'source'],
        ...r.energy.rows.map((e) => [e.platform, joules(e.joules_per_op), `${int(e.ops_per_inference)} ${e.op === 'MAC' ? 'MACs' : 'events'}`, joules(e.joules_per_inference), e.source]),
      ],
      (c) => c >= 1 && c <= 3,
    ),
  );
  if (r.quantization !== null) {
    lines.push('', `quantization: ${r.weight_bits}-bit signed weights per layer (step = max|W| / ${2 ** ((r.weight_bits ?? 2) - 1) - 1})`);
    lines.push(...table([['layer', 'step', 'bias bits'], ...r.quantization.map((q) => [q.layer, q.step.toPrecision(4), String(q.biasBits)])], (c) => c > 0));
  }
  return lines;
}

export async function run(args: string[], flags: EvaluateFlags, ctx: CommandContext): Promise<void> {
  const { out } = ctx;
  const target = args[0]!;
  // The status line starts with the simulation, so that a bad input yields just its one error line.
  let status: Status | undefined;
  const show = (text: string) => {
    if (status === undefined) status = out.status(text);
    else status.update(text);
  };
  let evaluation;
  try {
    evaluation = await evaluateRun(target, {
      data: flags.data,
      limit: flags.limit,
      weightBits: flags.weightBits,
      cwd: ctx.cwd,
      onConvert: (dir) => show(`no snn/ in the run: converting ${dir} (loads tfjs)`),
      onProgress: (done, total) => show(`simulating: ${int(done)} / ${int(total)} images`),
    });
  } catch (e) {
    if (out.interactive) status?.fail('evaluation stopped');
    throw e;
  }
  const { result, networkSource } = evaluation;
  status?.succeed(`evaluated ${int(result.images)} images`);
  if (flags.json) out.result(JSON.stringify({ source: networkSource, ...result }));
  else for (const line of evaluationLines(result, networkSource)) out.result(line);
}
