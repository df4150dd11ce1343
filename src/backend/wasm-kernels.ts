/**
 * Training kernels for the wasm backend, built from the fast XNNPACK Conv2D it already has.
 *
 * - `Conv2DBackpropFilter` (filter gradient of conv2d) is missing from tfjs-backend-wasm 4.22;
 *   a small CNN cannot train without it. Everything else such a training step needs is there
 *   (MaxPoolGrad, AvgPoolGrad, Conv2DBackpropInput, FusedBatchNorm, Softmax, Relu, Sigmoid,
 *   ClipByValue, …; test/backend-training.test.ts checks a whole model against cpu). Still
 *   missing, and unused by our layers: DepthwiseConv2dNativeBackprop{Filter,Input} and
 *   UnsortedSegmentSum (gather's gradient).
 * - `Conv2DBackpropInput` exists, but as a plain loop that took ~40% of an MNIST-sized CNN's
 *   training step. For stride 1 (nearly all of our convolutions) it is a convolution of dy with
 *   the flipped filter, which XNNPACK does ~9x faster; other cases go to the original kernel.
 *
 * Dilated convolutions: tfjs-core's Conv2D gradient refuses dilations ≠ 1 on every backend
 * ("dilation rates greater than 1 are not yet supported in gradients") before any kernel here
 * runs; neither backprop kernel has a dilation attribute.
 */
import { tf } from './tf.js';

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
 * those dy rows came from windows over padding only).
 */
function backpropInputStride1(r: KernelRunner, dyIn: TensorInfo, filter: TensorInfo, attrs: tf.Conv2DBackpropInputAttrs): TensorInfo {
  const info = convInfo(attrs.inputShape, filter.shape, attrs);
  const { inHeight: inH, inWidth: inW, outHeight: outH, outWidth: outW, filterHeight: kh, filterWidth: kw } = info;
  const { top, left } = info.padInfo;
  if (dyIn.shape[1] !== outH || dyIn.shape[2] !== outW) {
    throw new Error(`Conv2DBackpropInput: dy is ${dyIn.shape}, expected ${outH}x${outW} outputs`);
  }
  let padTop = kh - 1 - top;
  let padBottom = inH + top - outH;
  let padLeft = kw - 1 - left;
  let padRight = inW + left - outW;
  const cropTop = Math.max(0, -padTop);
  const cropLeft = Math.max(0, -padLeft);
  const keepH = outH - cropTop - Math.max(0, -padBottom);
  const keepW = outW - cropLeft - Math.max(0, -padRight);
  if (keepH <= 0 || keepW <= 0) {
    return r.keep(r.run('Fill', {}, { shape: attrs.inputShape, value: 0, dtype: 'float32' }));
  }
  const dy = r.crop(dyIn, cropTop, cropLeft, keepH, keepW);
  [padTop, padBottom, padLeft, padRight] = [padTop, padBottom, padLeft, padRight].map((p) => Math.max(0, p)) as Shape4;
  const flipped = r.run('Reverse', { x: filter }, { dims: [0, 1] });
  const w = r.run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] }); // [kh, kw, Cout, Cin]
  return r.keep(r.conv(dy, w, [[0, 0], [padTop, padBottom], [padLeft, padRight], [0, 0]], [1, 1]));
}

function withRunner(backendName: string, backend: unknown, fn: (r: KernelRunner) => TensorInfo): TensorInfo {
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

/**
 * Registers our training kernels for `backendName` (default 'wasm'): Conv2DBackpropFilter when
 * the backend lacks one (a future tfjs-backend-wasm that ships its own wins), and a stride-1
 * fast path in front of its Conv2DBackpropInput. Safe to call more than once. Must run before
 * the backend is activated (tf.setBackend runs kernels' setup functions then); `initBackend`
 * does it.
 *
 * @returns the names of the kernels this call registered (empty on repeat calls).
 */
export function registerMissingWasmKernels(backendName = 'wasm'): string[] {
  const added: string[] = [];
  if (tf.getKernel(tf.Conv2DBackpropFilter, backendName) === undefined) {
    tf.registerKernel({
      kernelName: tf.Conv2DBackpropFilter,
      backendName,
      kernelFunc: ({ inputs, backend, attrs }) =>
        withRunner(backendName, backend, (r) =>
          backpropFilter(r, input(inputs, 'x', 'Conv2DBackpropFilter'), input(inputs, 'dy', 'Conv2DBackpropFilter'), attrs as unknown as tf.Conv2DBackpropFilterAttrs),
        ),
    });
    added.push(tf.Conv2DBackpropFilter);
  }
  const native = tf.getKernel(tf.Conv2DBackpropInput, backendName);
  if (native !== undefined && !fastInputKernels.has(native.kernelFunc)) {
    const kernelFunc: tf.KernelFunc = (args) => {
      const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
      const [sH, sW] = typeof attrs.strides === 'number' ? [attrs.strides, attrs.strides] : attrs.strides;
      if (sH !== 1 || sW !== 1 || attrs.dataFormat === 'NCHW') return native.kernelFunc(args);
      return withRunner(backendName, args.backend, (r) =>
        backpropInputStride1(r, input(args.inputs, 'dy', 'Conv2DBackpropInput'), input(args.inputs, 'filter', 'Conv2DBackpropInput'), attrs),
      );
    };
    fastInputKernels.add(kernelFunc);
    tf.unregisterKernel(tf.Conv2DBackpropInput, backendName);
    // Keep the native kernel's setup/dispose: its fallback path needs its wasm function bound.
    tf.registerKernel({ ...native, kernelFunc });
    added.push(tf.Conv2DBackpropInput);
  }
  return added;
}

const fastInputKernels = new WeakSet<tf.KernelFunc>();
