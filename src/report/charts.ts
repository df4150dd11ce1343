/**
 * The report's charts as Vega-Lite specifications, compiled to Vega and drawn to SVG by Vega's
 * headless renderer (`View.toSVG()`: no browser, no canvas). The SVG is standalone — fonts are
 * generic system families, no scripts, no links — so it embeds in report.html and opens on its own
 * beside report.md.
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { spikingLayerNames } from './figures.js';
import { joules } from '../util/format.js';
import type { RunRecord } from './run.js';
import { runSharpness, type SharpnessTrace } from './sharpness.js';

export interface Chart {
  /** File stem for report.md's SVG files and the HTML figure's data-chart attribute. */
  readonly name: string;
  readonly title: string;
  /** One sentence under the chart: how to read it. */
  readonly caption: string;
  readonly spec: TopLevelSpec;
}

export interface RenderedChart extends Omit<Chart, 'spec'> {
  readonly svg: string;
}

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
const INK = '#1f2933';
const MUTED = '#616e7c';
const WIDTH = 400;
const HEIGHT = 220;
/** Series colours, fixed so that a series keeps its colour in every chart of every report. */
export const COLORS = {
  training: '#9aa5b1',
  validation: '#2563eb',
  spiking: '#e4572e',
  events: '#e4572e',
  macs: '#9aa5b1',
  band: '#fde68a',
} as const;
const LAYER_COLORS = ['#2563eb', '#e4572e', '#16a34a', '#9333ea', '#d97706', '#0891b2', '#db2777', '#4b5563'];

const THEME = {
  font: FONT,
  background: 'white',
  padding: 8,
  view: { stroke: null },
  axis: { labelColor: MUTED, titleColor: INK, titleFontWeight: 600, titleFontSize: 12, labelFontSize: 11, gridColor: '#e5e7eb', domainColor: '#9aa5b1', tickColor: '#9aa5b1' },
  legend: { labelColor: INK, titleColor: INK, labelFontSize: 11, titleFontSize: 11, orient: 'bottom', direction: 'horizontal', labelLimit: 0, symbolStrokeWidth: 2 },
  title: { color: INK, fontSize: 13, anchor: 'start' },
} as const;

/** Epochs during which some layer was sharper than 0 but not every layer at 1 (a shaded band behind curves). */
function sharpeningWindow(trace: SharpnessTrace): { from: number; to: number } | null {
  if (trace.layers === 0) return null;
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  for (let l = 0; l < trace.layers; l++) {
    const series = trace.points.filter((p) => p.layer === l);
    const firstSharp = series.findIndex((p) => p.sharpness > 0);
    if (firstSharp < 0) return null;
    from = Math.min(from, series[Math.max(0, firstSharp - 1)]!.epoch);
    const done = series.find((p) => p.sharpness >= 1);
    to = Math.max(to, done?.epoch ?? series.at(-1)!.epoch);
  }
  return { from, to };
}

/** Powers of ten around the positive values, for a log axis whose bars start at its bottom. */
function logDomain(values: readonly number[]): [number, number] {
  const positive = values.filter((v) => v > 0);
  if (positive.length === 0) return [0.1, 1];
  const lo = 10 ** Math.floor(Math.log10(Math.min(...positive)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...positive)));
  return [lo, hi > lo ? hi : lo * 10];
}

/** 10^k for every k from the domain's low to high end. */
function decades([lo, hi]: [number, number]): number[] {
  const out: number[] = [];
  for (let k = Math.round(Math.log10(lo)); k <= Math.round(Math.log10(hi)); k++) out.push(10 ** k);
  return out;
}

function band(window: { from: number; to: number } | null) {
  return window === null
    ? []
    : [{ data: { values: [window] }, mark: { type: 'rect' as const, color: COLORS.band, opacity: 0.35 }, encoding: { x: { field: 'from', type: 'quantitative' as const }, x2: { field: 'to' } } }];
}

function epochAxis(epochs: number) {
  return { field: 'epoch', type: 'quantitative' as const, title: 'epoch', scale: { domain: [0, Math.max(1, epochs)], nice: false }, axis: { tickMinStep: 1, format: 'd' } };
}

function lossChart(run: RunRecord, window: { from: number; to: number } | null): Chart {
  const values = run.metrics.filter((m) => m.loss !== null).map((m) => ({ epoch: m.epoch, loss: m.loss }));
  return {
    name: 'loss',
    title: 'Training loss',
    caption: 'Mean training loss of each epoch; the shaded band is where layers were being sharpened.',
    spec: {
      width: WIDTH,
      height: HEIGHT,
      layer: [
        ...band(window),
        {
          data: { values },
          mark: { type: 'line', point: true, color: COLORS.validation, strokeWidth: 2 },
          encoding: { x: epochAxis(run.metrics.length), y: { field: 'loss', type: 'quantitative', title: 'loss', scale: { zero: false } } },
        },
      ],
    },
  };
}

function accuracyChart(run: RunRecord, window: { from: number; to: number } | null): Chart {
  const series = [
    { key: 'accuracy', label: 'training' },
    { key: 'val_accuracy', label: 'validation' },
    { key: 'spiking_val_accuracy', label: 'spiking validation' },
  ] as const;
  const values = run.metrics.flatMap((m) => series.filter((s) => m[s.key] !== null).map((s) => ({ epoch: m.epoch, series: s.label, accuracy: m[s.key] })));
  return {
    name: 'accuracy',
    title: 'Accuracy per epoch',
    caption: 'Validation accuracy at the sharpness the network had (non-spiking) beside the same network with every layer a step (spiking); training accuracy for reference. Shaded: epochs in which layers were being sharpened.',
    spec: {
      width: WIDTH,
      height: HEIGHT,
      layer: [
        ...band(window),
        {
          data: { values },
          mark: { type: 'line', point: true, strokeWidth: 2 },
          encoding: {
            x: epochAxis(run.metrics.length),
            y: { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { zero: false }, axis: { format: '.0%' } },
            color: {
              field: 'series',
              type: 'nominal',
              title: null,
              scale: { domain: series.map((s) => s.label), range: [COLORS.training, COLORS.validation, COLORS.spiking] },
            },
            strokeDash: { field: 'series', type: 'nominal', title: null, scale: { domain: series.map((s) => s.label), range: [[4, 3], [1, 0], [1, 0]] } },
          },
        },
      ],
    },
  };
}

function sharpnessChart(run: RunRecord, trace: SharpnessTrace): Chart {
  const names = spikingLayerNames(run, trace.layers);
  const values = trace.points.map((p) => ({ epoch: p.epoch, sharpness: p.sharpness, layer: names[p.layer]! }));
  return {
    name: 'sharpness',
    title: 'Sharpness of each layer',
    caption:
      trace.resolution === 'batches'
        ? 'Per batch: the schedule replayed from config.yaml and each epoch’s loss, matching metrics.jsonl at every epoch end. Bottom-up sharpening climbs as a staircase, input side first.'
        : 'At the end of each epoch, as metrics.jsonl records it. Bottom-up sharpening climbs as a staircase, input side first.',
    spec: {
      width: WIDTH,
      height: HEIGHT,
      data: { values },
      mark: { type: 'line', strokeWidth: 2.5, interpolate: 'linear' },
      encoding: {
        x: epochAxis(run.metrics.length),
        y: { field: 'sharpness', type: 'quantitative', title: 'sharpness', scale: { domain: [0, 1] } },
        color: { field: 'layer', type: 'nominal', title: null, sort: names, scale: { domain: names, range: LAYER_COLORS.slice(0, Math.max(1, names.length)) } },
        order: { field: 'epoch', type: 'quantitative' },
      },
    },
  };
}

function spikesChart(run: RunRecord): Chart | null {
  const e = run.evaluation;
  if (e === null) return null;
  const names = e.layers.map((l) => l.name);
  const values = e.layers.map((l) => ({ layer: l.name, spikes: l.spikes_per_inference }));
  return {
    name: 'spikes',
    title: 'Spikes per layer',
    caption: `Mean spikes per inference in each layer, over ${e.images.toLocaleString('en-US')} test images in the simulator; the input layer's spikes are not counted here.`,
    spec: {
      width: WIDTH,
      height: HEIGHT,
      data: { values },
      encoding: {
        x: { field: 'layer', type: 'nominal', sort: names, title: null, axis: { labelAngle: 0 } },
        y: { field: 'spikes', type: 'quantitative', title: 'spikes per inference' },
      },
      layer: [
        { mark: { type: 'bar', color: COLORS.spiking, cornerRadiusEnd: 2, width: { band: 0.6 } } },
        { mark: { type: 'text', dy: -7, color: INK, fontSize: 11 }, encoding: { text: { field: 'spikes', type: 'quantitative', format: '.1f' } } },
      ],
    },
  };
}

function activeChart(run: RunRecord): Chart | null {
  const e = run.evaluation;
  if (e === null) return null;
  const names = e.layers.map((l) => l.name);
  const values = e.layers.map((l) => ({ layer: l.name, active: l.fraction_active }));
  return {
    name: 'active',
    title: 'Fraction of active neurons',
    caption: 'Mean fraction of each layer’s neurons that fire for one input: the sparser, the fewer synaptic events downstream.',
    spec: {
      width: WIDTH,
      height: HEIGHT,
      data: { values },
      mark: { type: 'bar', color: COLORS.validation, cornerRadiusEnd: 2, width: { band: 0.6 } },
      encoding: {
        x: { field: 'layer', type: 'nominal', sort: names, title: null, axis: { labelAngle: 0 } },
        y: { field: 'active', type: 'quantitative', title: 'neurons active', axis: { format: '.0%' } },
      },
    },
  };
}

function operationsChart(run: RunRecord): Chart | null {
  const e = run.evaluation;
  if (e === null) return null;
  const names = e.layers.map((l) => l.name);
  const kinds = ['synaptic events (spiking network)', 'multiply-accumulates (ANN)'];
  const values = e.layers.flatMap((l) => [
    { layer: l.name, kind: kinds[0], operations: l.synaptic_events_per_inference },
    { layer: l.name, kind: kinds[1], operations: l.ann_macs_per_inference },
  ]);
  return {
    name: 'operations',
    title: 'Synaptic events against the ANN’s multiply-accumulates',
    caption: `Per inference and layer, on a log scale: a spiking layer does work only for the spikes that arrive (${e.totals.synaptic_events_per_inference.toLocaleString('en-US', { maximumFractionDigits: 0 })} events in all), the equivalent ANN for every input (${e.totals.ann_macs_per_inference.toLocaleString('en-US', { maximumFractionDigits: 0 })} MACs).`,
    spec: {
      width: WIDTH,
      height: HEIGHT,
      data: { values },
      mark: { type: 'bar', cornerRadiusEnd: 2 },
      encoding: {
        x: { field: 'layer', type: 'nominal', sort: names, title: null, axis: { labelAngle: 0 } },
        xOffset: { field: 'kind', type: 'nominal', sort: kinds },
        y: { field: 'operations', type: 'quantitative', title: 'operations per inference', scale: { type: 'log', domain: logDomain(values.map((v) => v.operations)) }, axis: { format: '~s', values: decades(logDomain(values.map((v) => v.operations))) } },
        y2: { datum: logDomain(values.map((v) => v.operations))[0] },
        color: { field: 'kind', type: 'nominal', title: null, scale: { domain: kinds, range: [COLORS.events, COLORS.macs] }, legend: { direction: 'vertical' } },
      },
    },
  };
}

function confusionChart(run: RunRecord): Chart | null {
  const e = run.evaluation;
  if (e === null) return null;
  const names = e.class_names;
  const values = e.confusion.flatMap((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((count, p) => ({ truth: names[t]!, predicted: names[p]!, count, share: total > 0 ? count / total : 0 }));
  });
  const side = Math.max(220, Math.min(420, names.length * 36));
  return {
    name: 'confusion',
    title: 'Confusion matrix',
    caption: `Simulator predictions on ${e.images.toLocaleString('en-US')} test images: rows are the true class, columns the predicted one; shade is the share of the row.`,
    spec: {
      width: side,
      height: side,
      data: { values },
      encoding: {
        x: { field: 'predicted', type: 'ordinal', sort: names, title: 'predicted', axis: { orient: 'top', labelAngle: 0 } },
        y: { field: 'truth', type: 'ordinal', sort: names, title: 'true class' },
      },
      layer: [
        {
          mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
          encoding: { color: { field: 'share', type: 'quantitative', title: 'share of row', scale: { type: 'sqrt', domain: [0, 1], range: ['#f8fafc', '#1d4ed8'] }, legend: null } },
        },
        {
          mark: { type: 'text', fontSize: names.length > 12 ? 8 : 10 },
          encoding: {
            text: { field: 'count', type: 'quantitative' },
            color: { condition: { test: 'datum.share > 0.4', value: 'white' }, value: INK },
            opacity: { condition: { test: 'datum.count == 0', value: 0.35 }, value: 1 },
          },
        },
      ],
    },
  };
}

function energyChart(run: RunRecord): Chart | null {
  const e = run.evaluation;
  if (e === null) return null;
  const kinds = ['per synaptic event (neuromorphic)', 'per MAC (ANN accelerator)'];
  const values = e.energy.rows.map((r) => ({ platform: r.platform, joules: r.joules_per_inference, kind: r.op === 'MAC' ? kinds[1] : kinds[0], label: joules(r.joules_per_inference) }));
  return {
    name: 'energy',
    title: 'Energy per inference — estimate',
    caption: 'Operations counted by the simulator × published energy per operation (sources in the table), on a log scale; static power, routing, I/O and memory traffic are not included.',
    spec: {
      width: WIDTH - 200,
      height: 34 * values.length,
      data: { values },
      encoding: {
        y: { field: 'platform', type: 'nominal', sort: values.map((v) => v.platform), title: null, axis: { labelLimit: 0 } },
        x: { field: 'joules', type: 'quantitative', title: 'joules per inference', scale: { type: 'log', domain: logDomain(values.map((v) => v.joules)) }, axis: { format: '~s', values: decades(logDomain(values.map((v) => v.joules))) } },
      },
      layer: [
        { mark: { type: 'bar', cornerRadiusEnd: 2, height: { band: 0.65 } }, encoding: { x2: { datum: logDomain(values.map((v) => v.joules))[0] }, color: { field: 'kind', type: 'nominal', title: null, scale: { domain: kinds, range: [COLORS.events, COLORS.macs] }, legend: { direction: 'vertical' } } } },
        { mark: { type: 'text', align: 'left', dx: 4, color: INK, fontSize: 11 }, encoding: { text: { field: 'label', type: 'nominal' } } },
      ],
    },
  };
}

/** The charts of a run, in report order; those that need evaluation.json are left out without one. */
export function runCharts(run: RunRecord): Chart[] {
  const trace = runSharpness(run);
  const window = sharpeningWindow(trace);
  const charts: (Chart | null)[] = [accuracyChart(run, window), lossChart(run, window), sharpnessChart(run, trace), spikesChart(run), activeChart(run), operationsChart(run), energyChart(run), confusionChart(run)];
  return charts.filter((c): c is Chart => c !== null);
}

/** Compiles a Vega-Lite spec and draws it to an SVG string with Vega's headless renderer. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vega = compile({ ...spec, config: THEME } as TopLevelSpec).spec;
  const view = new View(parse(vega), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function renderCharts(charts: readonly Chart[]): Promise<RenderedChart[]> {
  const rendered: RenderedChart[] = [];
  for (const { spec, ...rest } of charts) rendered.push({ ...rest, svg: await renderSvg(spec) });
  return rendered;
}
