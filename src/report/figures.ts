/**
 * The report's tables, derived from a run's files: final accuracies, layers, energy, key figures
 * and environment. One model feeds report.html, report.md and `whetstone compare`, so the three
 * never disagree about a number.
 */
import { duration, fixed, int, joules, pct, pp } from '../util/format.js';
import type { RunRecord } from './run.js';
import type { SharpnessTrace } from './sharpness.js';

export interface AccuracyRow {
  readonly what: string;
  readonly accuracy: number | null;
  /** Images it was measured on; null when not measured. */
  readonly images: number | null;
  readonly how: string;
}

export interface Table {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Columns whose cells are numbers (right-aligned). */
  readonly numeric: readonly number[];
}

/** A headline number for the top of the report. */
export interface KeyFigure {
  readonly label: string;
  readonly value: string;
  readonly detail: string;
}

export function accuracyRows(run: RunRecord): AccuracyRow[] {
  const s = run.summary;
  const e = run.evaluation;
  const last = run.metrics.at(-1);
  const validation = (run.config.dataset.validation ?? 0) > 0;
  const rows: AccuracyRow[] = [];
  if (s !== null) {
    rows.push({
      what: 'non-spiking (before sharpening)',
      accuracy: s.unsharpened_accuracy,
      images: s.unsharpened_accuracy === null ? null : s.test_images,
      how: s.unsharpened_accuracy === null ? 'not measured: sharpening began in the first epoch' : 'test split, tfjs, unsharpened/ (the network at the end of pre-sharpening training)',
    });
    rows.push({ what: 'spiking (tfjs)', accuracy: s.spiking_accuracy, images: s.test_images, how: 'test split, tfjs, model/: every layer a step, batch norm folded' });
  }
  if (e !== null) {
    const agreement =
      (e.reference_agreement === null ? '' : `; the same class as tfjs for ${int(e.reference_agreement)} of ${int(e.images)} images`) +
      (e.tied_decisions === undefined ? '' : `; ${int(e.tied_decisions)} readout ties (resolved to the lowest class)`);
    if (e.weight_bits === null) {
      rows.push({ what: 'spiking (simulator)', accuracy: e.accuracy, images: e.images, how: `test split, event-driven simulator, snn/, float32 weights${agreement}` });
      const q = s?.snn?.quantized_accuracy;
      const bits = s?.snn?.quantized_weight_bits;
      if (q !== undefined && q !== null && bits !== undefined) {
        rows.push({ what: `spiking, ${bits}-bit weights`, accuracy: q, images: e.images, how: `test split, event-driven simulator, weights quantized to ${bits}-bit signed levels per layer` });
      } else {
        rows.push({ what: 'spiking, quantized weights', accuracy: null, images: null, how: "not measured in this run (whetstone evaluate <run-dir> --weight-bits 8 measures it)" });
      }
    } else {
      rows.push({ what: 'spiking (simulator)', accuracy: e.unquantized_accuracy, images: e.images, how: 'test split, event-driven simulator, snn/, float32 weights' });
      rows.push({ what: `spiking, ${e.weight_bits}-bit weights`, accuracy: e.accuracy, images: e.images, how: `test split, event-driven simulator, weights quantized to ${e.weight_bits}-bit signed levels per layer${agreement}` });
    }
  }
  if (last !== undefined && validation) {
    rows.push({ what: 'validation, last epoch', accuracy: last.val_accuracy, images: null, how: `epoch ${last.epoch}, at the sharpness the network had then` });
    rows.push({ what: 'spiking validation, last epoch', accuracy: last.spiking_val_accuracy, images: null, how: `epoch ${last.epoch}, every layer a step` });
  }
  return rows;
}

export function accuracyTable(run: RunRecord): Table {
  return {
    header: ['accuracy', 'value', 'images', 'how it was measured'],
    rows: accuracyRows(run).map((r) => [r.what, pct(r.accuracy), r.images === null ? '' : int(r.images), r.how]),
    numeric: [1, 2],
  };
}

export function layerTable(run: RunRecord): Table | null {
  const e = run.evaluation;
  if (e === null) return null;
  const rows = e.layers.map((l) => [
    l.name,
    l.type + (l.input === 'analog' ? ' (analog in)' : ''),
    String(l.step),
    int(l.neurons),
    fixed(l.spikes_per_inference),
    pct(l.fraction_active, 1),
    int(l.synaptic_events_per_inference),
    int(l.ann_macs_per_inference),
    l.ann_macs_per_inference > 0 ? fixed(l.synaptic_events_per_inference / l.ann_macs_per_inference, 3) : '',
  ]);
  const t = e.totals;
  rows.push(['total', '', String(e.latency_steps), int(t.neurons), fixed(t.spikes_per_inference), '', int(t.synaptic_events_per_inference), int(t.ann_macs_per_inference), t.events_per_mac === null ? '' : fixed(t.events_per_mac, 3)]);
  return {
    header: ['layer', 'type', 'step', 'neurons', 'spikes / inference', 'active', 'synaptic events', 'ANN MACs', 'events / MAC'],
    rows,
    numeric: [2, 3, 4, 5, 6, 7, 8],
  };
}

export function energyTable(run: RunRecord): Table | null {
  const e = run.evaluation;
  if (e === null) return null;
  return {
    header: ['platform', 'energy / op', 'ops / inference', 'energy / inference', 'source'],
    rows: e.energy.rows.map((r) => [r.platform, joules(r.joules_per_op), `${int(r.ops_per_inference)} ${r.op === 'MAC' ? 'MACs' : 'events'}`, joules(r.joules_per_inference), r.source]),
    numeric: [1, 2, 3],
  };
}

export function environmentTable(run: RunRecord): Table {
  const m = run.metadata;
  const b = m.backend;
  const backendDetail = [b.simd === undefined ? '' : b.simd ? 'SIMD' : 'no SIMD', b.threads === undefined ? '' : `${b.threads} thread${b.threads === 1 ? '' : 's'}`, b.fallbackReason ?? '']
    .filter((x) => x !== '')
    .join(', ');
  const rows: string[][] = [
    ['backend', `${b.name}${b.requested !== undefined && b.requested !== b.name ? ` (requested: ${b.requested})` : ''}${backendDetail === '' ? '' : ` — ${backendDetail}`}`],
    ['versions', `whetstone ${m.whetstone_version}, tfjs ${m.tfjs_version}, Node.js ${m.node_version}`],
    ['machine', `${m.machine.cpu}, ${m.machine.cores} cores, ${m.machine.memory_gb} GiB, ${m.machine.platform} ${m.machine.release} ${m.machine.arch}`],
    ['command', `whetstone ${m.command.join(' ')}`],
    ['seed', String(m.seed)],
    ['started', m.started_at],
    ['ended', m.ended_at ?? 'not ended (interrupted, or still running)'],
  ];
  if (m.resumed_at !== undefined && m.resumed_at.length > 0) rows.push(['resumed', m.resumed_at.join(', ')]);
  return { header: ['', ''], rows, numeric: [] };
}

/** The per-epoch record as a table (report.md; the HTML shows it as charts). */
export function epochTable(run: RunRecord): Table {
  // Runs made before training.learning_rate_schedule existed have no rate per epoch.
  const rates = run.metrics.some((m) => m.learning_rate !== undefined);
  return {
    header: ['epoch', 'loss', 'accuracy', 'validation', 'spiking validation', 'sharpness', 'phase', ...(rates ? ['learning rate'] : []), 'seconds'],
    rows: run.metrics.map((m) => [
      String(m.epoch),
      m.loss === null ? 'n/a' : m.loss.toFixed(4),
      pct(m.accuracy),
      pct(m.val_accuracy),
      pct(m.spiking_val_accuracy),
      m.sharpness.map((v) => v.toFixed(2)).join(' '),
      m.phase,
      ...(rates ? [m.learning_rate === undefined ? 'n/a' : String(Number(m.learning_rate.toPrecision(3)))] : []),
      fixed(m.seconds),
    ]),
    numeric: rates ? [0, 1, 2, 3, 4, 7, 8] : [0, 1, 2, 3, 4, 7],
  };
}

export function confusionTable(run: RunRecord): Table | null {
  const e = run.evaluation;
  if (e === null) return null;
  return {
    header: ['true \\ predicted', ...e.class_names],
    rows: e.confusion.map((row, i) => [e.class_names[i]!, ...row.map((v) => String(v))]),
    numeric: e.class_names.map((_, i) => i + 1),
  };
}

/** Names of the sharpened layers: the simulator's neuron layers except OR-pooling (pooling is not sharpened). */
export function spikingLayerNames(run: RunRecord, count: number): string[] {
  const named = run.evaluation?.layers.filter((l) => l.type !== 'or_pool2d').map((l) => l.name) ?? [];
  return named.length === count ? named : Array.from({ length: count }, (_, i) => `spiking layer ${i + 1}`);
}

/** When each layer began sharpening and when it became a step, in epochs of training progress. */
export function sharpeningTable(run: RunRecord, trace: SharpnessTrace): Table {
  const names = spikingLayerNames(run, trace.layers);
  const at = (x: number | undefined) => (x === undefined ? 'not yet' : x.toFixed(trace.resolution === 'batches' ? 2 : 0));
  const rows = names.map((name, l) => {
    const series = trace.points.filter((p) => p.layer === l);
    const first = series.findIndex((p) => p.sharpness > 0);
    const began = first < 0 ? undefined : series[Math.max(0, first - 1)]!.epoch;
    const done = series.find((p) => p.sharpness >= 1)?.epoch;
    return [name, at(began), at(done), began === undefined || done === undefined ? '' : (done - began).toFixed(trace.resolution === 'batches' ? 2 : 0)];
  });
  return { header: ['layer', 'began at epoch', 'a step at epoch', 'epochs'], rows, numeric: [1, 2, 3] };
}

export function keyFigures(run: RunRecord): KeyFigure[] {
  const s = run.summary;
  const e = run.evaluation;
  const figures: KeyFigure[] = [];
  if (s !== null) {
    figures.push({ label: 'spiking accuracy', value: pct(s.spiking_accuracy), detail: `${int(s.test_images)} test images` });
    figures.push({ label: 'cost of spiking', value: pp(s.accuracy_drop), detail: `from ${pct(s.unsharpened_accuracy)} before sharpening` });
  }
  if (e !== null) {
    figures.push({ label: 'synaptic events / ANN MACs', value: e.totals.events_per_mac === null ? 'n/a' : fixed(e.totals.events_per_mac, 3), detail: `${int(e.totals.synaptic_events_per_inference)} events vs ${int(e.totals.ann_macs_per_inference)} MACs` });
    figures.push({ label: 'spikes per inference', value: fixed(e.totals.spikes_per_inference), detail: `${int(e.totals.neurons)} neurons, ${e.latency_steps} time steps` });
  }
  const last = run.metrics.at(-1);
  if (s !== null) {
    figures.push({ label: 'epochs', value: `${s.epochs}`, detail: s.sharpening_finished ? `of ${s.max_epochs}; sharpening finished` : `of ${s.max_epochs}; sharpening DID NOT finish` });
    figures.push({ label: 'training time', value: duration(s.train_seconds), detail: `of ${duration(s.wall_seconds)} for the whole run; ${int(s.images_per_second)} images/s on ${s.backend}` });
  } else if (last !== undefined) {
    figures.push({ label: 'epochs', value: `${last.epoch}`, detail: 'run not finished: no summary.json yet' });
  }
  return figures;
}

/** One line saying what ran. */
export function headline(run: RunRecord): string {
  const c = run.config;
  const spiking = run.metrics[0]?.sharpness.length ?? 0;
  const sizes = run.summary === null ? '' : `, ${int(run.summary.train_images)} training / ${int(run.summary.test_images)} test images`;
  return `${c.name ?? 'experiment'} on ${c.dataset.name}${sizes}; ${spiking} spiking layers, ${c.model.input_encoding} input, ${c.sharpening.schedule} sharpening (${c.sharpening.order.replace('_', '-')})`;
}
