/**
 * ONNX (PyTorch) weight layouts → tfjs layouts. ONNX is NCHW: a convolution kernel is
 * [out, in, kh, kw] (OIHW) and a feature map flattens in (c, h, w) order; tfjs is NHWC: kernels
 * are [kh, kw, in, out] (HWIO) and a map flattens in (h, w, c) order. Dense kernels are [in, out]
 * in tfjs; PyTorch's Linear exports Gemm with transB = 1, its weight [out, in].
 */

/** OIHW → HWIO. */
export function convKernelToHwio(w: Float32Array, [o, i, kh, kw]: readonly number[]): Float32Array {
  const out = new Float32Array(w.length);
  for (let a = 0; a < o!; a++)
    for (let b = 0; b < i!; b++)
      for (let y = 0; y < kh!; y++) for (let x = 0; x < kw!; x++) out[((y * kw! + x) * i! + b) * o! + a] = w[((a * i! + b) * kh! + y) * kw! + x]!;
  return out;
}

/** [rows, cols] → [cols, rows]. */
export function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c]!;
  return out;
}

/**
 * For a (c, h, w) map flattened: perm[i] is the (c, h, w)-order index of tfjs's i-th flattened
 * value (h, w, c order), so a vector v in ONNX order becomes v[perm[i]] in tfjs order.
 */
export function chwToHwcOrder(c: number, h: number, w: number): Int32Array {
  const perm = new Int32Array(c * h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) perm[(y * w + x) * c + k] = (k * h + y) * w + x;
  return perm;
}

/** The rows of a [rows, cols] matrix reordered: row i of the result is row perm[i] of w. */
export function permuteRows(w: Float32Array, cols: number, perm: Int32Array): Float32Array {
  const out = new Float32Array(w.length);
  for (let i = 0; i < perm.length; i++) out.set(w.subarray(perm[i]! * cols, (perm[i]! + 1) * cols), i * cols);
  return out;
}
