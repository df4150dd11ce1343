/**
 * Memory-bound wasm kernels written in JavaScript over the wasm heap, replacing tfjs-backend-wasm
 * 4.22 kernels that are scalar C++ loops with a poor access pattern (profile of one training
 * step: bench/profile-step.ts; figures in docs/backends.md):
 *
 * - `Tile`: the batch-norm gradient tiles 1/√(var+ε) from [1,1,1,C] to the whole activation
 *   (tfjs-core FusedBatchNorm_grad); the backend's element-by-element index arithmetic took a
 *   quarter of a batch-norm CNN's step. Here: one copy of the input rows, then doubling
 *   `copyWithin` (memcpy) along each axis.
 * - `MaxPoolGrad`: the backend loops over every input pixel and re-scans every window that covers
 *   it. Here: one pass over the output, scattering dy to each window's first maximum (strict `>`
 *   in window order, exactly the cpu backend's choice, so the two agree even on ties).
 * - `Sum` and `Mean` over leading axes (bias and batch-norm gradients, batch moments reduce
 *   [N,H,W] of NHWC): the backend first transposes the tensor so the reduced axes are innermost.
 *   Here: column sums in row order, accumulated in float64 (as the cpu backend does).
 *
 * Every other case of these kernels goes to the backend's own.
 */
import { tf } from './tf.js';

type TensorInfo = tf.TensorInfo;

/** The parts of tfjs-backend-wasm's BackendWasm used here (public methods, not in its typings here). */
export interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

export type HeapKernel = (args: { inputs: tf.NamedTensorInfoMap; backend: WasmHeapBackend; attrs: Record<string, unknown> }) => TensorInfo | null;

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/**
 * `Tile`: out[i0, …, ik] = x[i0 mod s0, …, ik mod sk]. Built from the innermost axis out: each
 * input row is copied once, then every axis's block is repeated by doubling copies.
 */
export const tile: HeapKernel = ({ inputs, backend, attrs }) => {
  const x = inputs['x']!;
  if (x.dtype === 'string' || x.dtype === 'complex64') return null;
  const reps = attrs['reps'] as number[];
  const shape = x.shape;
  const rank = shape.length;
  const outShape = shape.map((s, i) => s * reps[i]!);
  const out = backend.makeOutput(outShape, x.dtype);
  if (product(outShape) === 0) return out;
  if (rank === 0) {
    backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(x));
    return out;
  }
  // Views taken after the allocation above: growing the heap detaches older ones.
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const inStride: number[] = new Array<number>(rank);
  const outStride: number[] = new Array<number>(rank);
  inStride[rank - 1] = 1;
  outStride[rank - 1] = 1;
  for (let d = rank - 2; d >= 0; d--) {
    inStride[d] = inStride[d + 1]! * shape[d + 1]!;
    outStride[d] = outStride[d + 1]! * outShape[d + 1]!;
  }
  const fill = (d: number, o: number, i: number): void => {
    const s = shape[d]!;
    const stride = outStride[d]!;
    if (d === rank - 1) dst.set(src.subarray(i, i + s), o);
    else for (let j = 0; j < s; j++) fill(d + 1, o + j * stride, i + j * inStride[d]!);
    // Repeat the block [o, o + s·stride) reps[d] times along this axis.
    const block = s * stride;
    const total = block * reps[d]!;
    for (let done = block; done < total; done *= 2) dst.copyWithin(o + done, o, o + Math.min(done, total - done));
  };
  fill(0, 0, 0);
  return out;
};

/** `MaxPoolGrad`: dx[first max of each window] += dy[window]. NHWC, float32. */
export const maxPoolGrad: HeapKernel = ({ inputs, backend, attrs }) => {
  const dy = inputs['dy']!;
  const input = inputs['input']!;
  if (input.dtype !== 'float32' || dy.dtype !== 'float32') return null;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs['filterSize'] as [number, number] | number,
    attrs['strides'] as [number, number] | number,
    1,
    attrs['pad'] as 'valid' | 'same' | number,
    attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
  );
  const dxInfo = backend.makeOutput(input.shape, 'float32');
  const x = backend.typedArrayFromHeap(input) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  const dx = backend.typedArrayFromHeap(dxInfo) as Float32Array;
  dx.fill(0);
  const { batchSize, inHeight, inWidth, inChannels: C, outHeight, outWidth, strideHeight, strideWidth } = info;
  const fh = info.effectiveFilterHeight;
  const fw = info.effectiveFilterWidth;
  const { top, left } = info.padInfo;
  const rowStride = inWidth * C;
  const imageStride = inHeight * rowStride;
  // Per channel of the current window: the largest value so far and where it is. Windows are
  // scanned position by position with the channels innermost, so every read is contiguous.
  const best = new Float32Array(C);
  const at = new Int32Array(C);
  let o = 0; // dy index, in NHWC order
  for (let b = 0; b < batchSize; b++) {
    const base = b * imageStride;
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = oy * strideHeight - top;
      const yMin = Math.max(0, y0);
      const yMax = Math.min(inHeight, y0 + fh);
      for (let ox = 0; ox < outWidth; ox++, o += C) {
        const x0 = ox * strideWidth - left;
        const xMin = Math.max(0, x0);
        const xMax = Math.min(inWidth, x0 + fw);
        if (yMin >= yMax || xMin >= xMax) continue; // a window entirely in the padding
        if (yMax - yMin === 2 && xMax - xMin === 2) {
          // A whole 2×2 window (the common case), unrolled: the same comparisons in the same order.
          const p0 = base + yMin * rowStride + xMin * C;
          const p1 = p0 + C;
          const p2 = p0 + rowStride;
          const p3 = p2 + C;
          for (let c = 0; c < C; c++) {
            let m = Number.NEGATIVE_INFINITY;
            let i = -1;
            const v0 = x[p0 + c]!;
            const v1 = x[p1 + c]!;
            const v2 = x[p2 + c]!;
            const v3 = x[p3 + c]!;
            if (v0 > m) {
              m = v0;
              i = p0 + c;
            }
            if (v1 > m) {
              m = v1;
              i = p1 + c;
            }
            if (v2 > m) {
              m = v2;
              i = p2 + c;
            }
            if (v3 > m) i = p3 + c;
            if (i >= 0) dx[i] = dx[i]! + g[o + c]!;
          }
          continue;
        }
        // Strictly larger replaces, so ties go to the first maximum in window order, as on the
        // cpu backend; as there, a window of NaN or −∞ only passes no gradient on.
        best.fill(Number.NEGATIVE_INFINITY);
        at.fill(-1);
        for (let yy = yMin; yy < yMax; yy++) {
          for (let p = base + yy * rowStride + xMin * C, end = base + yy * rowStride + xMax * C; p < end; p += C) {
            for (let c = 0; c < C; c++) {
              const v = x[p + c]!;
              if (v > best[c]!) {
                best[c] = v;
                at[c] = p + c;
              }
            }
          }
        }
        for (let c = 0; c < C; c++) {
          const i = at[c]!;
          if (i >= 0) dx[i] = dx[i]! + g[o + c]!;
        }
      }
    }
  }
  return dxInfo;
};

/** The reduced axes when they are exactly the leading ones (0…k−1, k < rank), else undefined. */
function leadingAxes(axis: unknown, rank: number): number | undefined {
  if (axis === null || axis === undefined) return undefined; // every axis
  const list = (Array.isArray(axis) ? axis : [axis]).map((a) => (Number(a) < 0 ? Number(a) + rank : Number(a)));
  const sorted = [...new Set(list)].sort((a, b) => a - b);
  if (sorted.length === 0 || sorted.length >= rank) return undefined;
  return sorted.every((a, i) => a === i) ? sorted.length : undefined;
}

function columnReduction(scale: (rows: number) => number): HeapKernel {
  return ({ inputs, backend, attrs }) => {
    const x = inputs['x']!;
    if (x.dtype !== 'float32') return null;
    const k = leadingAxes(attrs['axis'], x.shape.length);
    if (k === undefined) return null;
    const rows = product(x.shape.slice(0, k));
    const cols = product(x.shape.slice(k));
    const outShape = attrs['keepDims'] ? [...x.shape.slice(0, k).map(() => 1), ...x.shape.slice(k)] : x.shape.slice(k);
    const out = backend.makeOutput(outShape, 'float32');
    const src = backend.typedArrayFromHeap(x) as Float32Array;
    const acc = new Float64Array(cols);
    // Four rows at a time: a quarter of the accumulator traffic. Each column is still summed in
    // row order (float64 rounds each four-term partial sum no worse than the running sum).
    let r = 0;
    for (; r + 4 <= rows; r += 4) {
      const p = r * cols;
      for (let c = 0; c < cols; c++) acc[c] = acc[c]! + src[p + c]! + src[p + cols + c]! + src[p + 2 * cols + c]! + src[p + 3 * cols + c]!;
    }
    for (; r < rows; r++) for (let c = 0, p = r * cols; c < cols; c++, p++) acc[c] = acc[c]! + src[p]!;
    const f = scale(rows);
    const dst = backend.typedArrayFromHeap(out) as Float32Array;
    for (let c = 0; c < cols; c++) dst[c] = acc[c]! * f;
    return out;
  };
}

/** `Sum` over leading axes. */
export const sumLeading = columnReduction(() => 1);
/** `Mean` over leading axes. */
export const meanLeading = columnReduction((rows) => 1 / rows);
