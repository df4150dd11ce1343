/**
 * Training kernels for the wasm backend, built from the fast XNNPACK Conv2D and fully-connected
 * operators it already has (the memory-bound ones written in JavaScript are in wasm-heap-kernels.ts).
 *
 * - `Conv2DBackpropFilter` (filter gradient of conv2d) is missing from tfjs-backend-wasm 4.22;
 *   a small CNN cannot train without it. Still missing, and unused by our layers:
 *   DepthwiseConv2dNativeBackprop{Filter,Input} and UnsortedSegmentSum (gather's gradient).
 * - `Conv2DBackpropInput` exists, but as a plain loop that took ~40% of an MNIST-sized CNN's
 *   training step. It is a convolution of dy with the flipped filter, which XNNPACK does ~9x
 *   faster: directly for stride 1, and for strides > 1 after dilating dy (inserting s−1 zeros
 *   between its rows and columns). NCHW goes to the original kernel.
 * - `BatchMatMul` runs XNNPACK only without transposes; a dense layer's two gradients
 *   (dy·Wᵀ and xᵀ·dy) fell to a naive triple loop. We transpose the operand explicitly and
 *   hand the plain product to XNNPACK.
 *
 * Dilated convolutions: tfjs-core's Conv2D gradient refuses dilations ≠ 1 on every backend
 * ("dilation rates greater than 1 are not yet supported in gradients") before any kernel here
 * runs; neither backprop kernel has a dilation attribute.
 */
import { tf } from './tf.js';
import { maxPoolGrad, meanLeading, sumLeading, tile, type HeapKernel, type WasmHeapBackend } from './wasm-heap-kernels.js';

type TensorInfo = tf.TensorInfo;
type KernelBackend = tf.KernelBackend;
type Shape4 = [number, number, number, number];
type Pads = [[number, number], [number, number], [number, number], [number, number]];

/**
 * Runs kernels registered for one backend directly, the way tfjs's own kernels compose (e.g.
 * wasm's Transpose calling Identity): no engine scope, no tape, no Tensor wrappers. Every
 * output except the one handed back via `keep` is freed by `dispose()`.
 */
class KernelRunner {
  private readonly temps: TensorInfo[] = [];
  constructor(
    private readonly backendName: string,
    private readonly backend: KernelBackend,
  ) {}

  run(kernelName: string, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown>): TensorInfo {
    const kernel = tf.getKernel(kernelName, this.backendName);
    if (kernel === undefined) throw new Error(`kernel ${kernelName} is not registered for '${this.backendName}'`);
    const out = kernel.kernelFunc({ inputs, backend: this.backend, attrs: attrs as tf.NamedAttrMap });
    if (Array.isArray(out)) throw new Error(`kernel ${kernelName} returned several outputs`);
    this.temps.push(out);
    return out;
  }

  /** Removes `t` from the temporaries: it is the kernel's result. */
  keep(t: TensorInfo): TensorInfo {
    this.temps.splice(this.temps.indexOf(t), 1);
    return t;
  }

  /** `x` [N,H,W,C] with rows [top, top+h) and cols [left, left+w), or `x` itself if that is all. */
  crop(x: TensorInfo, top: number, left: number, h: number, w: number): TensorInfo {
    if (top === 0 && left === 0 && h === x.shape[1] && w === x.shape[2]) return x;
    return this.run('Slice', { x }, { begin: [0, top, left, 0], size: [-1, h, w, -1] });
  }

  /** `x` with another shape of the same size (no copy). */
  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  /** NHWC `x` with sH−1 zero rows between its rows and sW−1 zero columns between its columns. */
  dilate(x: TensorInfo, sH: number, sW: number): TensorInfo {
    const [n, h, w, c] = x.shape as Shape4;
    const out = this.output([n, (h - 1) * sH + 1, (w - 1) * sW + 1, c]);
    const heap = this.backend as unknown as WasmHeapBackend;
    const src = heap.typedArrayFromHeap(x) as Float32Array;
    const dst = heap.typedArrayFromHeap(out) as Float32Array;
    dst.fill(0);
    const [oh, ow] = [out.shape[1]!, out.shape[2]!];
    for (let b = 0, p = 0; b < n; b++) {
      for (let y = 0; y < h; y++) {
        for (let xx = 0; xx < w; xx++, p += c) {
          dst.set(src.subarray(p, p + c), ((b * oh + y * sH) * ow + xx * sW) * c);
        }
      }
    }
    return out;
  }

  /**
   * Patch matrix of NHWC `x` for a stride-1 'valid' kh×kw window: row (n, y, x) holds
   * x[n, y + i, x + j, c] for every (i, j, c), in that order: [N·oh·ow, kh·kw·C].
   */
  patches(x: TensorInfo, kh: number, kw: number): TensorInfo {
    const [n, h, w, c] = x.shape as Shape4;
    const [oh, ow] = [h - kh + 1, w - kw + 1];
    const out = this.output([n * oh * ow, kh * kw * c]);
    const heap = this.backend as unknown as WasmHeapBackend;
    const src = heap.typedArrayFromHeap(x) as Float32Array;
    const dst = heap.typedArrayFromHeap(out) as Float32Array;
    const rowLen = kw * c; // one window row is contiguous in x
    let q = 0;
    for (let b = 0; b < n; b++) {
      for (let y = 0; y < oh; y++) {
        for (let xx = 0; xx < ow; xx++) {
          for (let i = 0; i < kh; i++) {
            const p = ((b * h + y + i) * w + xx) * c;
            for (let k = 0; k < rowLen; k++) dst[q++] = src[p + k]!;
          }
        }
      }
    }
    return out;
  }

  /** A new float32 tensor on the wasm heap, freed with the other temporaries. */
  private output(shape: number[]): TensorInfo {
    const out = (this.backend as unknown as WasmHeapBackend).makeOutput(shape, 'float32');
    this.temps.push(out);
    return out;
  }

  /** Stride-1 'valid' NHWC convolution with explicit (non-negative) spatial pads. */
  conv(x: TensorInfo, filter: TensorInfo, pads: Pads, dilations: [number, number]): TensorInfo {
    // XNNPACK pads inside the convolution; no padded copy of x is made.
    return this.run('Conv2D', { x, filter }, { strides: 1, pad: pads, dataFormat: 'NHWC', dilations, dimRoundingMode: undefined });
  }

  dispose(): void {
    for (const t of this.temps) this.backend.disposeData(t.dataId);
    this.temps.length = 0;
  }
}

/** The forward pass's geometry, from the same helper every tfjs backend uses. */
function convInfo(inShape: number[], filterShape: number[], attrs: tf.Conv2DBackpropFilterAttrs | tf.Conv2DBackpropInputAttrs) {
  return tf.backend_util.computeConv2DInfo(
    inShape as Shape4,
    filterShape as Shape4,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(attrs.dataFormat),
  );
}

/**
 * Largest kh·kw·Cin for which the filter gradient is computed from x's patch matrix rather than
 * as a convolution. Measured with bench/filter-grad.ts (batch 64, 32 filters): 3×3×1 on 28×28
 * 7.1 vs 11.8 ms, 3×3×2 on 32×32 15.1 vs 18.6 ms; at 5×5×1 and 3×3×3 the two are even.
 */
export const PATCH_ROWS_MAX = 18;
let patchRowsMax = PATCH_ROWS_MAX;

/** For benchmarks: route filter gradients with kh·kw·Cin ≤ `rows` through the patch matrix (0: never). */
export function setPatchRowsMax(rows: number): void {
  patchRowsMax = rows;
}

/**
 * Filter gradient of conv2d as another convolution:
 *
 *   dW[i,j,c,o] = Σ_{n,y,x} xpad[n, y·s + i, x·s + j, c] · dy[n, y, x, o]
 *
 * i.e. a stride-1 convolution of x viewed as [Cin, H, W, N] (batch ↔ channels) with dy viewed as
 * a filter [oh, ow, N, Cout], dilated by the forward stride s. x gets exactly the forward pass's
 * pads (asymmetric 'same' and explicit pads included) and is cropped to the (oh-1)·s + kh rows
 * the forward pass read, so the output is exactly [Cin, kh, kw, Cout] and needs no slicing.
 */
function backpropFilter(r: KernelRunner, xIn: TensorInfo, dyIn: TensorInfo, attrs: tf.Conv2DBackpropFilterAttrs): TensorInfo {
  const info = convInfo(xIn.shape, attrs.filterShape, attrs);
  let x = xIn;
  let dy = dyIn;
  if (attrs.dataFormat === 'NCHW') {
    // The wasm Conv2D kernel is NHWC-only.
    x = r.run('Transpose', { x }, { perm: [0, 2, 3, 1] });
    dy = r.run('Transpose', { x: dy }, { perm: [0, 2, 3, 1] });
  }
  const { inHeight: inH, inWidth: inW, outHeight: outH, outWidth: outW, filterHeight: kh, filterWidth: kw } = info;
  const { top, left } = info.padInfo;
  const [sH, sW] = [info.strideHeight, info.strideWidth];
  if (dy.shape[1] !== outH || dy.shape[2] !== outW) {
    throw new Error(`Conv2DBackpropFilter: dy is ${dy.shape}, expected ${outH}x${outW} outputs`);
  }
  // Rows/cols of the padded input the forward pass read, and how many of them are real input.
  const needH = (outH - 1) * sH + kh;
  const needW = (outW - 1) * sW + kw;
  const keepH = Math.min(inH, needH - top);
  const keepW = Math.min(inW, needW - left);
  if (keepH <= 0 || keepW <= 0) {
    // Pads so large that the forward pass read only zeros: the gradient is zero.
    return r.keep(r.run('Fill', {}, { shape: attrs.filterShape, value: 0, dtype: 'float32' }));
  }
  x = r.crop(x, 0, 0, keepH, keepW);
  const cin = x.shape[3]!;
  if (sH === 1 && sW === 1 && top === 0 && left === 0 && keepH === needH && keepW === needW && kh * kw * cin <= patchRowsMax) {
    // Few input channels (a first layer): dW = (dyᵀ·P)ᵀ, P being x's patch matrix. The
    // convolution below would transpose all of dy and pack it as a filter to produce only
    // kh·kw·Cin output pixels; here dy is transposed once and only the small P is packed.
    const cout = dy.shape[3]!;
    const dwT = r.run('BatchMatMul', { a: r.reshape(dy, [dy.shape[0]! * outH * outW, cout]), b: r.patches(x, kh, kw) }, { transposeA: true, transposeB: false });
    return r.keep(r.run('Transpose', { x: r.reshape(dwT, [cout, kh, kw, cin]) }, { perm: [1, 2, 3, 0] }));
  }
  const xT = r.run('Transpose', { x }, { perm: [3, 1, 2, 0] }); // [Cin, keepH, keepW, N]
  const dyT = r.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }); // [oh, ow, N, Cout]
  const pads: Pads = [[0, 0], [top, needH - top - keepH], [left, needW - left - keepW], [0, 0]];
  const dw = r.conv(xT, dyT, pads, [sH, sW]); // [Cin, kh, kw, Cout]
  return r.keep(r.run('Transpose', { x: dw }, { perm: [1, 2, 0, 3] }));
}

/**
 * Input gradient of a stride-1 NHWC conv2d as a convolution of dy with the spatially flipped,
 * in/out-swapped filter:  dx[n,r,c,ci] = Σ dyPad[n, r+i', c+j', co] · W[kh-1-i', kw-1-j', ci, co],
 * where dy is padded by kh-1-top above and H+top-oh below (cropped where that is negative:
 * those dy rows came from windows over padding only). Depends only on the input size, the
 * forward pass's top/left pads and dy's size.
 */
function backpropInputStride1(r: KernelRunner, dyIn: TensorInfo, filter: TensorInfo, g: { inShape: number[]; top: number; left: number }): TensorInfo {
  const [, inH, inW] = g.inShape as Shape4;
  const [kh, kw] = filter.shape as Shape4;
  const [outH, outW] = [dyIn.shape[1]!, dyIn.shape[2]!];
  let padTop = kh - 1 - g.top;
  let padBottom = inH + g.top - outH;
  let padLeft = kw - 1 - g.left;
  let padRight = inW + g.left - outW;
  const cropTop = Math.max(0, -padTop);
  const cropLeft = Math.max(0, -padLeft);
  const keepH = outH - cropTop - Math.max(0, -padBottom);
  const keepW = outW - cropLeft - Math.max(0, -padRight);
  if (keepH <= 0 || keepW <= 0) {
    return r.keep(r.run('Fill', {}, { shape: g.inShape, value: 0, dtype: 'float32' }));
  }
  const dy = r.crop(dyIn, cropTop, cropLeft, keepH, keepW);
  [padTop, padBottom, padLeft, padRight] = [padTop, padBottom, padLeft, padRight].map((p) => Math.max(0, p)) as Shape4;
  const flipped = r.run('Reverse', { x: filter }, { dims: [0, 1] });
  const w = r.run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] }); // [kh, kw, Cout, Cin]
  return r.keep(r.conv(dy, w, [[0, 0], [padTop, padBottom], [padLeft, padRight], [0, 0]], [1, 1]));
}

/**
 * Input gradient of any NHWC conv2d. A strided convolution's outputs are the stride-1
 * convolution's outputs at rows y·sH and columns x·sW, so its input gradient is the stride-1 one
 * of dy dilated by the stride: dy[y, x] placed at (y·sH, x·sW), zeros between.
 */
function backpropInput(r: KernelRunner, dyIn: TensorInfo, filter: TensorInfo, attrs: tf.Conv2DBackpropInputAttrs): TensorInfo {
  const info = convInfo(attrs.inputShape, filter.shape, attrs);
  if (dyIn.shape[1] !== info.outHeight || dyIn.shape[2] !== info.outWidth) {
    throw new Error(`Conv2DBackpropInput: dy is ${dyIn.shape}, expected ${info.outHeight}x${info.outWidth} outputs`);
  }
  const dy = info.strideHeight === 1 && info.strideWidth === 1 ? dyIn : r.dilate(dyIn, info.strideHeight, info.strideWidth);
  return backpropInputStride1(r, dy, filter, { inShape: attrs.inputShape, top: info.padInfo.top, left: info.padInfo.left });
}

/**
 * Plain (untransposed, batch-1) products reach XNNPACK's fully-connected operator; transposed
 * ones get their operand transposed here first. Batched products (unused by our layers) and
 * untransposed ones return null: the backend's own kernel runs them.
 */
function matMulTransposed(r: KernelRunner, a: TensorInfo, b: TensorInfo, attrs: tf.BatchMatMulAttrs): TensorInfo | null {
  if (!attrs.transposeA && !attrs.transposeB) return null;
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const batch = (t: TensorInfo) => t.shape.slice(0, -2).reduce((x, y) => x * y, 1);
  if (batch(a) !== 1 || batch(b) !== 1) return null;
  const swap = (t: TensorInfo) => {
    const m = t.shape.at(-2)!;
    const n = t.shape.at(-1)!;
    return r.run('Transpose', { x: r.reshape(t, [m, n]) }, { perm: [1, 0] });
  };
  const a2 = attrs.transposeA ? swap(a) : a;
  const b2 = attrs.transposeB ? swap(b) : b;
  return r.keep(r.run('BatchMatMul', { a: a2, b: b2 }, { transposeA: false, transposeB: false }));
}

function withRunner(backendName: string, backend: unknown, fn: (r: KernelRunner) => TensorInfo | null): TensorInfo | null {
  const r = new KernelRunner(backendName, backend as KernelBackend);
  try {
    return fn(r);
  } finally {
    r.dispose();
  }
}

function input(inputs: tf.NamedTensorInfoMap, name: string, kernel: string): TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`${kernel}: missing input ${name}`);
  return t;
}

/** Our kernel functions, so that registering twice never wraps a wrapper. */
const ours = new WeakSet<tf.KernelFunc>();

/**
 * Puts `fast` in front of the backend's own kernel: it runs first, and its `null` (a case it does
 * not handle) hands the call to the original. The original's setup/dispose are kept, since the
 * fallback needs its wasm function bound. @returns whether it registered (false on repeat calls).
 */
function override(backendName: string, kernelName: string, fast: (args: Parameters<tf.KernelFunc>[0]) => TensorInfo | null): boolean {
  const native = tf.getKernel(kernelName, backendName);
  if (native === undefined || ours.has(native.kernelFunc)) return false;
  const kernelFunc: tf.KernelFunc = (args) => fast(args) ?? native.kernelFunc(args);
  ours.add(kernelFunc);
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ ...native, kernelFunc });
  return true;
}

const heap = (k: HeapKernel) => (args: Parameters<tf.KernelFunc>[0]) =>
  k({ inputs: args.inputs, backend: args.backend as unknown as WasmHeapBackend, attrs: args.attrs as Record<string, unknown> });

/**
 * Registers our training kernels for `backendName` (default 'wasm'): Conv2DBackpropFilter when
 * the backend lacks one (a future tfjs-backend-wasm that ships its own wins), and faster paths in
 * front of its Conv2DBackpropInput, BatchMatMul, MaxPoolGrad, Tile, Sum and Mean. Safe to call
 * more than once. Must run before the backend is activated (tf.setBackend runs kernels' setup
 * functions then); `initBackend` does it.
 *
 * @returns the names of the kernels this call registered (empty on repeat calls).
 */
export function registerMissingWasmKernels(backendName = 'wasm'): string[] {
  const added: string[] = [];
  if (tf.getKernel(tf.Conv2DBackpropFilter, backendName) === undefined) {
    const kernelFunc: tf.KernelFunc = ({ inputs, backend, attrs }) =>
      withRunner(backendName, backend, (r) =>
        backpropFilter(r, input(inputs, 'x', 'Conv2DBackpropFilter'), input(inputs, 'dy', 'Conv2DBackpropFilter'), attrs as unknown as tf.Conv2DBackpropFilterAttrs),
      )!;
    tf.registerKernel({ kernelName: tf.Conv2DBackpropFilter, backendName, kernelFunc });
    added.push(tf.Conv2DBackpropFilter);
  }
  const fast: Record<string, (args: Parameters<tf.KernelFunc>[0]) => TensorInfo | null> = {
    [tf.Conv2DBackpropInput]: ({ inputs, backend, attrs }) => {
      const a = attrs as unknown as tf.Conv2DBackpropInputAttrs;
      if (a.dataFormat === 'NCHW') return null;
      return withRunner(backendName, backend, (r) => backpropInput(r, input(inputs, 'dy', 'Conv2DBackpropInput'), input(inputs, 'filter', 'Conv2DBackpropInput'), a));
    },
    [tf.BatchMatMul]: ({ inputs, backend, attrs }) =>
      withRunner(backendName, backend, (r) => matMulTransposed(r, input(inputs, 'a', 'BatchMatMul'), input(inputs, 'b', 'BatchMatMul'), attrs as unknown as tf.BatchMatMulAttrs)),
    [tf.MaxPoolGrad]: heap(maxPoolGrad),
    [tf.Tile]: heap(tile),
    [tf.Sum]: heap(sumLeading),
    [tf.Mean]: heap(meanLeading),
  };
  for (const [name, fn] of Object.entries(fast)) if (override(backendName, name, fn)) added.push(name);
  return added;
}
