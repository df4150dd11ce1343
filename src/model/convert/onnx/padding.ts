/**
 * ONNX gives a convolution or pool explicit pads per side; tfjs layers know only 'valid' (none) and
 * 'same' (TensorFlow's rule: total = max((⌈in/s⌉ − 1)·s + k − in, 0), ⌊total/2⌋ before, the rest
 * after). Explicit pads are accepted when, on this input size, they touch exactly the same input
 * rows as one of the two: padding that no output window reaches does not count.
 */

export interface AxisWindow {
  readonly size: number;
  readonly kernel: number;
  readonly stride: number;
  readonly dilation: number;
  readonly before: number;
  readonly after: number;
  /** ONNX pools' ceil_mode: the last partial window counts. */
  readonly ceil?: boolean;
}

export interface AxisPadding {
  /** The output size ONNX computes. */
  readonly out: number;
  /** The tfjs padding with the same output, or undefined when neither fits. */
  readonly mode: 'valid' | 'same' | undefined;
  /** What tfjs's 'same' would pad before and after, for the message. */
  readonly same: readonly [number, number];
}

export function axisPadding(a: AxisWindow): AxisPadding {
  const span = (a.kernel - 1) * a.dilation + 1;
  const room = a.size + a.before + a.after - span;
  const out = room < 0 ? 0 : (a.ceil ? Math.ceil(room / a.stride) : Math.floor(room / a.stride)) + 1;
  // Rows after the input that the last window reaches (ONNX: a ceil-mode window must start inside the input or its left padding).
  const usedAfter = Math.max((out - 1) * a.stride + span - a.size - a.before, 0);
  const validOut = a.size >= span ? Math.floor((a.size - span) / a.stride) + 1 : 0;
  const sameOut = Math.ceil(a.size / a.stride);
  const total = Math.max((sameOut - 1) * a.stride + span - a.size, 0);
  const same = [Math.floor(total / 2), total - Math.floor(total / 2)] as const;
  let mode: AxisPadding['mode'];
  if (a.before === 0 && usedAfter === 0 && out === validOut) mode = 'valid';
  else if (out === sameOut && a.before === same[0] && usedAfter === same[1]) mode = 'same';
  return { out, mode, same };
}
