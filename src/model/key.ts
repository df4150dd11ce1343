/**
 * Output keys for n-hot decoding (Whetstone's Softmax_Decode): a `classes × width` matrix of 0/1.
 * Each class is represented by the neurons where its row is 1. Framework-free: the spiking
 * artifact and the simulator use the same key and the same readout.
 */
import { InputError } from '../errors.js';
import { SeededRandom } from '../util/random.js';

/** Row-major `classes × width` 0/1 matrix. */
export type OutputKey = number[][];

export interface KeyOptions {
  readonly classes: number;
  /** n: neurons per class. */
  readonly neuronsPerClass: number;
  /** Total neurons in the output layer. Defaults to classes × neuronsPerClass. */
  readonly width?: number;
  /** Classes share neurons: each row is a random n-hot code of `width`, all rows distinct. */
  readonly overlapping: boolean;
  readonly seed: number;
}

/**
 * Non-overlapping: the neurons are shuffled (seeded) and dealt out n per class, so that which
 * neuron belongs to which class carries no structure. Overlapping: each class draws n distinct
 * neurons out of `width`, redrawn if it repeats an earlier class's code.
 */
export function generateKey(opts: KeyOptions): OutputKey {
  const { classes, neuronsPerClass: n, overlapping } = opts;
  const width = opts.width ?? classes * n;
  const rng = new SeededRandom(opts.seed ^ 0x6b6579);
  if (!overlapping) {
    if (width < classes * n) {
      throw new InputError(
        `model.output.width: ${width} neurons cannot give ${classes} classes ${n} neurons each without overlap (need ${classes * n}, or set overlapping: true)`,
      );
    }
    const order = rng.permutation(width);
    return Array.from({ length: classes }, (_, c) => {
      const row = new Array<number>(width).fill(0);
      for (let j = 0; j < n; j++) row[order[c * n + j]!] = 1;
      return row;
    });
  }
  if (n > width) throw new InputError(`model.output.neurons_per_class: ${n} is more than the width ${width}`);
  const seen = new Set<string>();
  const rows: OutputKey = [];
  for (let c = 0; c < classes; c++) {
    for (let attempt = 0; ; attempt++) {
      if (attempt > 1000) {
        throw new InputError(`model.output: cannot draw ${classes} distinct ${n}-hot codes of width ${width}`);
      }
      const row = new Array<number>(width).fill(0);
      const picks = rng.permutation(width);
      for (let j = 0; j < n; j++) row[picks[j]!] = 1;
      const code = row.join('');
      if (!seen.has(code)) {
        seen.add(code);
        rows.push(row);
        break;
      }
    }
  }
  return rows;
}

/**
 * Inference readout on spikes s ∈ {0,1}^width: class = argmax over c of Σ_j (2K[c][j] − 1)(2s_j − 1),
 * ties resolved to the lowest class index (DESIGN.md, "Output decoding").
 */
export function decodeSpikes(key: OutputKey, spikes: ArrayLike<number>): number {
  return readout(key, spikes).predicted;
}

/** The readout of {@link decodeSpikes}, and whether another class had the same best score (a tie). */
export function readout(key: OutputKey, spikes: ArrayLike<number>): { predicted: number; tied: boolean } {
  let best = 0;
  let bestScore = -Infinity;
  let tied = false;
  for (let c = 0; c < key.length; c++) {
    const row = key[c]!;
    let score = 0;
    for (let j = 0; j < row.length; j++) score += (2 * row[j]! - 1) * (2 * (spikes[j]! > 0 ? 1 : 0) - 1);
    if (score > bestScore) {
      bestScore = score;
      best = c;
      tied = false;
    } else if (score === bestScore) tied = true;
  }
  return { predicted: best, tied };
}
