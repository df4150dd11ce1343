/**
 * From one model-wide sharpness to the sharpness of each spiking layer.
 *
 * Mirrors `set_model_sharpness(model, value, bottom_up)` of the original Whetstone
 * (Severa et al., Sandia, `whetstone/utils/layer_utils.py`): uniform gives every layer the
 * model's value; bottom-up spreads it over the layers, input side first, so that layer i
 * sharpens while the model value sweeps [i/L, (i+1)/L].
 */

/** How sharpness is spread over the layers: one at a time from the input side, or all together. */
export type SharpeningOrder = 'bottom_up' | 'uniform';

/**
 * Values this close to 0 or 1 are snapped there. A model sharpness such as k/(steps·L) times L
 * can land one ulp short of an integer; a layer at 0.9999999999 is not a step function, and
 * "finished" means every layer is exactly 1.
 */
const SNAP = 1e-9;

function clip01(x: number): number {
  if (x <= SNAP) return 0;
  if (x >= 1 - SNAP) return 1;
  return x;
}

/**
 * Sharpness of each of `layers` spiking layers, input side first, for model sharpness `model`.
 * - uniform: every layer gets `model`.
 * - bottom_up: layer i gets clip(model·layers − i, 0, 1), so layer 0 reaches 1 before layer 1 starts.
 * `model` is clipped to [0, 1]; results within 1e-9 of 0 or 1 are snapped to exactly 0 or 1.
 */
export function layerSharpness(model: number, layers: number, order: SharpeningOrder): number[] {
  if (!Number.isInteger(layers) || layers < 1) {
    throw new RangeError(`layerSharpness: layers must be a positive integer, got ${layers}`);
  }
  const v = clip01(model);
  const out: number[] = [];
  for (let i = 0; i < layers; i++) {
    out.push(order === 'uniform' ? v : clip01(v * layers - i));
  }
  return out;
}

/** True when every value is exactly 1.0 (not 0.9999): the model is a spiking network. */
export function allSharp(sharpness: readonly number[]): boolean {
  return sharpness.every((s) => s === 1);
}
