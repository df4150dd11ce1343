/**
 * Loihi 2 through Lava: a lava-dl netx HDF5 file (network.net, read by
 * `lava.lib.dl.netx.hdf5.Network`) and a Lava script (run_lava.py) building the same network from
 * Dense and LIF processes.
 *
 * Loihi weights are integers: the network is quantized per layer to N ≤ 8 bits (default 8; quantize.ts)
 * and stored as even values 2q ∈ [−254, 254] (Loihi's mixed-sign 8-bit synapses drop the lowest bit).
 * Biases and thresholds follow in the same unit: with integer spikes, Σ 2q + 2b ≥ 2t ⟺ Σ 2q + 2b > 2t − 1,
 * and Loihi fires on v > vth. netx has one vThMant per layer, so a neuron whose threshold t differs
 * from the layer's T carries T − t in its bias; T ≥ 1 keeps vth = 2T − 1 positive. The accuracy of
 * the quantized network is simulated by Whetstone's simulator and reported.
 *
 * netx layout (lava-dl src/lava/lib/dl/netx/hdf5.py, utils.py NetDict): `/layer/<i>` with `type`
 * (input | conv | flatten | dense), `shape` (C, H, W; reversed to WHC by netx), conv `weight`
 * (out, in, kh, kw), `stride`, `padding`, `dilation` (H, W), `groups`, dense `weight` (out, in),
 * `bias`, and `neuron/` (`type` CUBA, `iDecay`, `vDecay`, `vThMant`, `refDelay`). netx has no
 * pooling layer: an OR pool becomes a conv with weight 2 from each channel to itself and vth 1.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { neuronCount, sizeOf, type SpikingNetwork } from '../snn/network.js';
import { predictSpiking } from '../snn/evaluate.js';
import { quantizeNetwork, type LayerQuantization } from '../snn/quantize.js';
import { connectionList, convOihw, denseOutIn, exportOrder, planLayers, symmetricPadding, putSampleFiles, type PlannedLayer } from './layout.js';
import { lavaScript, type LavaLayer } from './lava-script.js';
import { encodeNpy } from './npy.js';
import type { ExportTarget, TargetContext, TargetReport } from './target.js';

export const NETX_FILE = 'network.net';
export const LAVA_SCRIPT = 'run_lava.py';
export const LOIHI_MAX_WEIGHT_BITS = 8;
/** Loihi CUBA decays are 12-bit fractions of 4096: 4096 clears the state every step (memoryless). */
const FULL_DECAY = 4096;

/** One netx layer's integer parameters. */
export interface NetxLayer {
  readonly planned: PlannedLayer;
  readonly kind: 'conv' | 'dense';
  /** conv: OIHW; dense: (out, in) — even integers. */
  readonly weight: Int32Array;
  readonly weightShape: number[];
  /** Per output channel (conv) or neuron (dense). */
  readonly bias: Int32Array;
  readonly vThMant: number;
  readonly padding: [number, number] | null;
}

function checkNetwork(network: SpikingNetwork, weightBits: number | null): void {
  if (network.input.encoding !== 'binary') {
    throw new InputError(`network ${network.name}: has analog input; netx's input layer and the Lava script take spikes (train with binary input encoding to export to Loihi)`);
  }
  if (weightBits !== null && weightBits > LOIHI_MAX_WEIGHT_BITS) {
    throw new InputError(`--weight-bits ${weightBits}: Loihi synapses hold at most ${LOIHI_MAX_WEIGHT_BITS}-bit weights`);
  }
  for (const p of planLayers(network)) {
    const l = p.layer;
    if (l.type !== 'dense') symmetricPadding('netx', l.name, l.inputShape, l.outputShape, l.type === 'conv2d' ? l.kernel : l.pool, l.strides, l.padding);
  }
}

/** Integer netx layers of a quantized network (every weight, bias and threshold already an integer). */
export function netxLayers(quantized: SpikingNetwork): NetxLayer[] {
  return planLayers(quantized).map((p): NetxLayer => {
    const l = p.layer;
    if (l.type === 'or_pool2d') {
      const c = l.inputShape[2];
      const [ph, pw] = l.pool;
      const weight = new Int32Array(c * c * ph * pw);
      for (let ch = 0; ch < c; ch++) for (let k = 0; k < ph * pw; k++) weight[(ch * c + ch) * ph * pw + k] = 2;
      return { planned: p, kind: 'conv', weight, weightShape: [c, c, ph, pw], bias: new Int32Array(c), vThMant: 1, padding: symmetricPadding('netx', l.name, l.inputShape, l.outputShape, l.pool, l.strides, l.padding) };
    }
    const t = Array.from(l.threshold);
    const T = Math.max(1, ...t);
    const bias = Int32Array.from(l.bias, (b, i) => 2 * (b + T - t[i]!));
    if (l.type === 'dense') {
      return { planned: p, kind: 'dense', weight: Int32Array.from(denseOutIn(p), (w) => 2 * w), weightShape: [l.units, l.inputSize], bias, vThMant: 2 * T - 1, padding: null };
    }
    const [kh, kw] = l.kernel;
    const inC = l.inputShape[2];
    const outC = l.outputShape[2];
    return {
      planned: p,
      kind: 'conv',
      weight: Int32Array.from(convOihw(kh, kw, inC, outC, l.weights), (w) => 2 * w),
      weightShape: [outC, inC, kh, kw],
      bias,
      vThMant: 2 * T - 1,
      padding: symmetricPadding('netx', l.name, l.inputShape, l.outputShape, l.kernel, l.strides, l.padding),
    };
  });
}

const chw = (shape: readonly number[]) => (shape.length === 3 ? [shape[2]!, shape[0]!, shape[1]!] : [...shape]);

async function writeNetx(path: string, network: SpikingNetwork, layers: NetxLayer[]): Promise<void> {
  const h5wasm = (await import('h5wasm/node')).default;
  await h5wasm.ready;
  const file = new h5wasm.File(path, 'w');
  const i64 = (values: ArrayLike<number>) => BigInt64Array.from(Array.from(values, (v) => BigInt(v)));
  try {
    const root = file.create_group('layer');
    const neuron = (g: ReturnType<typeof root.create_group>, vThMant: number) => {
      const n = g.create_group('neuron');
      n.create_dataset({ name: 'type', data: 'CUBA' });
      n.create_dataset({ name: 'iDecay', data: i64([FULL_DECAY]), shape: [] });
      n.create_dataset({ name: 'vDecay', data: i64([FULL_DECAY]), shape: [] });
      n.create_dataset({ name: 'vThMant', data: i64([vThMant]), shape: [] });
      n.create_dataset({ name: 'refDelay', data: i64([1]), shape: [] });
    };
    let index = 0;
    const next = () => root.create_group(String(index++));
    // Input neurons: netx sets their bias to 2·64·x − 64 (±64, shifted by 6 → ±4096); vThMant 1 (64) passes x = 1 only.
    const input = next();
    input.create_dataset({ name: 'type', data: 'input' });
    input.create_dataset({ name: 'shape', data: i64(chw(network.input.shape)), shape: [3] });
    neuron(input, 1);
    for (const layer of layers) {
      const p = layer.planned;
      if (layer.kind === 'dense' && p.flattenedFrom !== null) {
        const f = next();
        f.create_dataset({ name: 'type', data: 'flatten' });
        f.create_dataset({ name: 'shape', data: i64(chw(p.flattenedFrom)), shape: [3] });
      }
      const g = next();
      g.create_dataset({ name: 'type', data: layer.kind });
      g.create_dataset({ name: 'shape', data: i64(chw(p.outShape)), shape: [p.outShape.length] });
      g.create_dataset({ name: 'weight', data: Float32Array.from(layer.weight), shape: layer.weightShape });
      g.create_dataset({ name: 'bias', data: Float32Array.from(layer.bias), shape: [layer.bias.length] });
      if (layer.kind === 'conv') {
        const l = p.layer as Exclude<typeof p.layer, { type: 'dense' }>;
        g.create_dataset({ name: 'stride', data: i64(l.strides), shape: [2] });
        g.create_dataset({ name: 'padding', data: i64(layer.padding!), shape: [2] });
        g.create_dataset({ name: 'dilation', data: i64([1, 1]), shape: [2] });
        g.create_dataset({ name: 'groups', data: i64([1]), shape: [] });
      }
      neuron(g, layer.vThMant);
    }
  } finally {
    file.close();
  }
}

function accuracy(predictions: Uint8Array, labels: Uint8Array): number {
  let correct = 0;
  for (let i = 0; i < predictions.length; i++) if (predictions[i] === labels[i]) correct++;
  return predictions.length ? correct / predictions.length : Number.NaN;
}

function readme(ctx: TargetContext, bits: number, layers: NetxLayer[], report: LayerQuantization[], acc: { float: number; quantized: number; images: number }): string {
  const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
  return [
    `The spiking network \`${ctx.network.name}\` for Loihi 2: a lava-dl netx file and a Lava script, with ${bits}-bit integer weights.`,
    '',
    `**Accuracy after quantization** (Whetstone's simulator, ${acc.images} test images of ${ctx.samples?.dataset}): ${pct(acc.quantized)} with ${bits}-bit weights; ${pct(acc.float)} with the float32 weights.`,
    '',
    '## Run it',
    '',
    '```python',
    'from lava.lib.dl import netx',
    `net = netx.hdf5.Network(net_config="${NETX_FILE}")`,
    'print(net)',
    '```',
    '',
    '```sh',
    `python3 ${LAVA_SCRIPT}          # Lava (lava-nc), CPU simulation with the bit-accurate models`,
    '```',
    '',
    '## Files',
    '',
    '| file | contents |',
    '|---|---|',
    `| \`${NETX_FILE}\` | netx HDF5: \`layer/0\` input, then conv / flatten / dense layers with \`weight\`, \`bias\` and a CUBA \`neuron\` group |`,
    `| \`${LAVA_SCRIPT}\` | Lava script: RingBuffer → (Dense → LIF)… → RingBuffer sink, decodes the output with the key |`,
    '| `layerK_connections.npy` | int32 (M, 3): pre, post, weight (even integer) — the same weights as the netx file, convolutions and pools expanded |',
    '| `layerK_bias.npy` | int32 per neuron: `bias_mant` (× 2⁶) |',
    '| `inputs.npy`, `labels.npy`, `simulator_predictions.npy`, `key.npy` | samples (CHW spikes), labels, Whetstone simulator\'s predictions of the quantized network, readout key |',
    '',
    '## Mapping',
    '',
    `- Weights: per layer, q = round(W/Δ) with Δ = max|W|/${2 ** (bits - 1) - 1}, stored as 2q (even, within [−254, 254]: Loihi's mixed-sign 8-bit synapses). Biases 2·round(b/Δ). netx re-expresses them with its own weight exponent (\`optimize_weight_bits\`) without changing their value.`,
    '- Threshold: Whetstone fires on Σ 2q + 2b ≥ 2t with integer t = ⌈θ/Δ⌉; Loihi fires on v > vth, so `vThMant` = 2T − 1 with one T per layer (T = max(1, max t)) and T − t added to each neuron\'s bias. Exact for integer spikes.',
    '- Neuron: CUBA with `iDecay` = `vDecay` = 4096 (full decay: memoryless) and `refDelay` 1. netx passes du = iDecay − 1 to Lava\'s LIF, which keeps 1/4096 of the current for a step; the script uses du = dv = 4095 and leaves empty steps between samples, in which that residue clears.',
    '- Input: netx\'s input layer turns x ∈ {0, 1} into a bias of ±64 (× 2⁶); `vThMant` 1 makes exactly the input spikes fire. This adds one step of latency to the netx network.',
    '- OR pooling has no netx layer: it is a conv whose kernel connects each channel to itself with weight 2, `vThMant` 1 (any spike in the window fires). Flatten is CHW, and dense weights after it are permuted to match.',
    '',
    '| layer | kind | vThMant | Δ (weight step) | bias bits |',
    '|---|---|---|---|---|',
    ...layers.map((l) => {
      const q = report.find((r) => r.layer === l.planned.layer.name);
      return `| ${l.planned.layer.name} | ${l.planned.layer.type === 'or_pool2d' ? 'OR pool → conv' : l.kind} | ${l.vThMant} | ${q ? q.step.toPrecision(4) : '—'} | ${q ? q.biasBits + 1 : '—'} |`;
    }),
    '',
    'Verified by Whetstone\'s tests: the netx layout read back with h5py (every field, shape and integer), an integer forward pass over the exported weights reproducing the simulator\'s predictions of the quantized network, and `python3 -m py_compile` on the script. Neither file has been run on Lava or a Loihi chip by those tests.',
    '',
  ].join('\n');
}

export const loihiTarget: ExportTarget = {
  name: 'loihi',
  description: 'Loihi 2: lava-dl netx HDF5 + Lava script, 8-bit integer weights',
  needsSamples: true,
  check(network, { weightBits }) {
    checkNetwork(network, weightBits);
  },
  async write(ctx: TargetContext): Promise<TargetReport> {
    checkNetwork(ctx.network, ctx.weightBits);
    if (ctx.samples === null) throw new InputError('the Loihi export reports the accuracy after 8-bit quantization: pass --data <dataset or experiment.yaml>');
    // Loihi's 8 bits, or fewer with --weight-bits (the same quantization the pipeline applied to ctx.network).
    const bits = ctx.weightBits ?? LOIHI_MAX_WEIGHT_BITS;
    const q = quantizeNetwork(ctx.original, bits);
    const network = q.network;
    const layers = netxLayers(network);
    await writeNetx(join(ctx.dir, NETX_FILE), network, layers);
    const files = [NETX_FILE];
    const put = (name: string, bytes: Uint8Array | string) => {
      writeFileSync(join(ctx.dir, name), bytes);
      files.push(name);
    };
    const lava: LavaLayer[] = [];
    for (const [k, layer] of layers.entries()) {
      const p = layer.planned;
      const prefix = `layer${k + 1}`;
      // Every synapse in export order, with the netx layer's (even) weights.
      const list = connectionList(p);
      const rows = new Int32Array(list.pre.length * 3);
      for (let i = 0; i < list.pre.length; i++) {
        rows[3 * i] = list.pre[i]!;
        rows[3 * i + 1] = list.post[i]!;
        rows[3 * i + 2] = 2 * list.weight[i]!;
      }
      put(`${prefix}_connections.npy`, encodeNpy({ dtype: '<i4', data: rows }, [list.pre.length, 3]));
      const n = neuronCount(p.layer);
      const bias = new Int32Array(n);
      const order = exportOrder(p.outShape);
      for (let i = 0; i < n; i++) bias[order(i)] = layer.bias[i % layer.bias.length]!;
      put(`${prefix}_bias.npy`, encodeNpy({ dtype: '<i4', data: bias }, [n]));
      lava.push({ name: p.layer.name, size: n, inputSize: sizeOf(p.inShape), vth: layer.vThMant });
    }
    const samples = ctx.samples;
    const count = Math.min(ctx.scriptSamples, samples.count);
    const floatPredictions = predictSpiking(ctx.original, samples);
    const quantPredictions = predictSpiking(network, samples);
    const pixels = sizeOf(network.input.shape);
    putSampleFiles(put, network, samples, quantPredictions, count);
    put(LAVA_SCRIPT, lavaScript({ network: network.name, layers: lava, inputSize: pixels, samples: count }));
    const labels = samples.labels.subarray(0, samples.count);
    const acc = { float: accuracy(floatPredictions, labels), quantized: accuracy(quantPredictions, labels), images: samples.count };
    const report = q.layers;
    return {
      files,
      readme: readme(ctx, bits, layers, [...report], acc),
      lines: [
        `netx: ${layers.length} layers (+ input), ${bits}-bit even integer weights; Lava script with ${count} samples`,
        `accuracy after ${bits}-bit quantization: ${(100 * acc.quantized).toFixed(2)}% (float32 ${(100 * acc.float).toFixed(2)}%) on ${acc.images} test images of ${samples.dataset}, Whetstone simulator`,
      ],
      details: { weight_bits: bits, accuracy: acc.quantized, float_accuracy: acc.float, images: acc.images, layers: layers.map((l) => ({ name: l.planned.layer.name, kind: l.kind, vThMant: l.vThMant })) },
    };
  },
};
