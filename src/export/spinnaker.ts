/**
 * SpiNNaker through sPyNNaker's PyNN 0.10 API: a self-contained script (run_pynn.py) plus NumPy
 * arrays. `--simulator brian2|nest|spiNNaker` picks the PyNN backend (default spiNNaker).
 *
 * Mapping (docs/targets.md): every neuron layer is a population of `IF_curr_delta` neurons made
 * memoryless (tau_m = dt/ln 1000, weights × 1000, bias as i_offset, tau_refrac 0); dense, conv and
 * OR-pool synapses are `FromListConnector` lists (convolutions expanded over their windows) with
 * one step of delay; positive weights on `excitatory`, negative on `inhibitory`; the samples are a
 * `SpikeSourceArray`, one per time window. Neurons are numbered CHW within a map.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { neuronCount, sizeOf, type SpikingNetwork } from '../snn/network.js';
import { connectionList, perNeuron, planLayers, putSampleFiles } from './layout.js';
import { encodeNpy } from './npy.js';
import { pynnScript, type ScriptLayer } from './pynn-script.js';
import type { ExportTarget, TargetContext, TargetReport } from './target.js';

export const PYNN_SCRIPT = 'run_pynn.py';

const isIntegral = (a: ArrayLike<number>) => Array.prototype.every.call(a, (v: number) => Number.isInteger(v));

/**
 * The script's v_thresh for "fires iff z ≥ θ" under PyNN's 'v > v_thresh': with integer weights,
 * biases and thresholds (a --weight-bits export, OR pools) every z is an integer and θ − 0.5 leaves
 * half a unit of margin; otherwise θ − 1e-9·max(1, |θ|), far below float32 resolution.
 */
function strictThreshold(theta: number, integral: boolean): number {
  return integral ? theta - 0.5 : theta - 1e-9 * Math.max(1, Math.abs(theta));
}

function checkNetwork(network: SpikingNetwork): void {
  if (network.input.encoding !== 'binary') {
    throw new InputError(`network ${network.name}: has analog input; a SpikeSourceArray carries spikes only (train with binary input encoding to run on SpiNNaker)`);
  }
}

function readme(ctx: TargetContext, layers: ScriptLayer[], synapses: number): string {
  const n = ctx.samples?.count ?? 0;
  return [
    `A PyNN 0.10 script for the spiking network \`${ctx.network.name}\`: it builds the network from \`IF_curr_delta\` populations, presents ${n} test samples of ${ctx.samples?.dataset ?? 'the dataset'} and prints its accuracy and predictions as JSON.`,
    '',
    '## Run it',
    '',
    '```sh',
    `python3 ${PYNN_SCRIPT}                      # SpiNNaker (sPyNNaker; needs a configured ~/.spynnaker.cfg)`,
    `python3 ${PYNN_SCRIPT} --simulator brian2   # Brian 2 on this machine (Debian: python3-pynn python3-brian)`,
    `python3 ${PYNN_SCRIPT} --simulator nest     # NEST`,
    '```',
    '',
    '`agreement_with_whetstone_simulator` in the output counts the predictions equal to those of Whetstone\'s simulator (`simulator_predictions.npy`).',
    '',
    '## Files',
    '',
    '| file | contents |',
    '|---|---|',
    `| \`${PYNN_SCRIPT}\` | the script (standard library, NumPy, PyNN) |`,
    '| `layerK_connections.npy` | float64 (M, 3): pre index, post index, weight w (the artifact\'s float32 value) — one row per synapse, convolutions and pools expanded |',
    '| `layerK_bias.npy` | float64 per neuron: the bias b, used as `i_offset` (nA) and as the initial and reset voltage (mV) |',
    '| `layerK_v_thresh.npy` | float64 per neuron: `v_thresh` (mV), see below |',
    '| `inputs.npy` | uint8 (samples, pixels): the input spikes of each sample, CHW order |',
    '| `labels.npy`, `simulator_predictions.npy` | uint8 per sample: true class, Whetstone simulator\'s class |',
    '| `key.npy` | uint8 (classes, output neurons): the readout key |',
    '',
    `Layers: ${layers.map((l) => `${l.name} (${l.kind}, ${l.size} neurons)`).join(' → ')}; ${synapses.toLocaleString('en-US')} synapses.`,
    '',
    '## How the memoryless neuron is built',
    '',
    'A Whetstone neuron computes z = W·s + b from the spikes of the previous layer and fires iff z ≥ θ, with no state carried between steps. With dt = 1 ms, `IF_curr_delta` gets:',
    '',
    '- `tau_m` = dt/ln(1000): the membrane forgets 99.9 % of its deviation from rest in one step; `cm` = `tau_m` so that R = 1 MΩ and `i_offset` = b settles at v = b; `v_rest` = 0; `v` starts at b and resets to b; `tau_refrac` = 0.',
    '- A delta synapse\'s jump lands in one step and is tested against the threshold in the next, after one step of decay, so every weight is multiplied by 1000: the neuron sees exactly b + Σ w at the test.',
    '- PyNN fires on v > `v_thresh`; `v_thresh` = θ − 0.5 where every weight, bias and threshold is an integer (pools, `--weight-bits` exports), else θ − 10⁻⁹·max(1, |θ|).',
    '- Positive weights use the `excitatory` receptor, negative ones the `inhibitory` receptor: as magnitudes on sPyNNaker (the receptor carries the sign), negative on Brian 2 and NEST, which add a current-based weight as given.',
    '- Each projection has one step (1 ms) of delay. Samples are presented every few steps with empty steps between them so that the 0.1 % residue dies out; a one-neuron-per-layer clock chain with the same dynamics fires exactly when the output layer answers a sample, and the output spikes of that step are decoded with the key (class = argmax of Σ (2K − 1)(2s − 1), ties to the lowest class).',
    '',
    '## On SpiNNaker hardware',
    '',
    'The Brian 2 run is what the export was verified with. sPyNNaker keeps the membrane in 16.15 fixed point and weights in 16 bits with a power-of-two scale per population, so on the board a float32 network is rounded there; z values within that rounding of θ may fire differently. Export with `--weight-bits N` for integer weights and half a unit of margin at every threshold. This script has not been run on a SpiNNaker board by the export\'s tests.',
    '',
  ].join('\n');
}

export const spinnakerTarget: ExportTarget = {
  name: 'spinnaker',
  description: 'PyNN 0.10 script + NumPy weights for SpiNNaker (sPyNNaker), Brian 2 or NEST',
  needsSamples: true,
  check(network) {
    checkNetwork(network);
  },
  async write(ctx: TargetContext): Promise<TargetReport> {
    checkNetwork(ctx.network);
    const { network, dir } = ctx;
    const samples = ctx.samples;
    if (samples === null || ctx.predictions === null) throw new InputError('the SpiNNaker export embeds test samples: pass --data <dataset or experiment.yaml>');
    const files: string[] = [];
    const put = (name: string, bytes: Uint8Array | string) => {
      writeFileSync(join(dir, name), bytes);
      files.push(name);
    };
    const planned = planLayers(network);
    let synapses = 0;
    const layers: ScriptLayer[] = planned.map((p, k) => {
      const prefix = `layer${k + 1}`;
      const { pre, post, weight } = connectionList(p);
      const rows = new Float64Array(pre.length * 3);
      for (let i = 0; i < pre.length; i++) {
        rows[3 * i] = pre[i]!;
        rows[3 * i + 1] = post[i]!;
        rows[3 * i + 2] = weight[i]!;
      }
      synapses += pre.length;
      put(`${prefix}_connections.npy`, encodeNpy({ dtype: '<f8', data: rows }, [pre.length, 3]));
      const { bias, threshold } = perNeuron(p);
      const integral = p.layer.type === 'or_pool2d' || (isIntegral(weight) && isIntegral(bias) && isIntegral(threshold));
      put(`${prefix}_bias.npy`, encodeNpy({ dtype: '<f8', data: bias }, [bias.length]));
      put(`${prefix}_v_thresh.npy`, encodeNpy({ dtype: '<f8', data: threshold.map((t) => strictThreshold(t, integral)) }, [threshold.length]));
      return { name: p.layer.name, kind: p.layer.type, size: neuronCount(p.layer) };
    });
    const count = Math.min(ctx.scriptSamples, samples.count);
    const pixels = sizeOf(network.input.shape);
    putSampleFiles(put, network, samples, ctx.predictions, count);
    put(PYNN_SCRIPT, pynnScript({ network: network.name, layers, inputSize: pixels, samples: count, classNames: network.output.classNames, defaultSimulator: ctx.simulator }));
    let correct = 0;
    for (let i = 0; i < count; i++) if (ctx.predictions[i] === samples.labels[i]) correct++;
    return {
      files,
      readme: readme({ ...ctx, samples: { ...samples, count } }, layers, synapses),
      lines: [
        `PyNN script: ${layers.length} populations, ${synapses.toLocaleString('en-US')} synapses, ${count} samples of ${samples.dataset} (simulator accuracy on them ${((100 * correct) / Math.max(count, 1)).toFixed(2)}%)`,
        `run: python3 ${PYNN_SCRIPT}${ctx.simulator === 'spiNNaker' ? '' : ` (default backend ${ctx.simulator})`} [--simulator brian2|nest|spiNNaker]`,
      ],
      details: { samples: count, synapses, simulator_accuracy_on_samples: count ? correct / count : null, default_simulator: ctx.simulator },
    };
  },
};
