/**
 * The simulator's two inner loops, as a tiny WebAssembly SIMD module assembled right here (no
 * toolchain, no dependency), with a plain-JavaScript twin for engines without WebAssembly SIMD.
 *
 *   add(pairs, count, n)          for each (dst, src) byte-address pair: dst[0…n) += src[0…n) in float32
 *   fire(acc, thr, words, out)    out bit i = acc[i] ≥ thr[i], 32 neurons per word; returns the spike count
 *
 * `add` is what a spike does: it adds one neuron's outgoing weights into its targets'
 * accumulators. f32x4.add adds four independent float32 lanes with IEEE round-to-nearest, so the
 * result is bit-identical to four scalar float32 additions in the same order — the simulator's
 * exactness argument (simulator.ts) is untouched, only four lanes go at once.
 *
 * Both work on one linear memory: a WebAssembly.Memory for the wasm kernel, an ArrayBuffer for the
 * JS one; the simulator lays out weights, accumulators, thresholds, spike bits and the pair list in it.
 */

export interface Kernel {
  readonly name: 'wasm-simd' | 'js';
  readonly buffer: ArrayBuffer;
  add(pairs: number, count: number, n: number): void;
  fire(acc: number, thr: number, words: number, out: number): number;
}

// ───────────────────────── the wasm module ─────────────────────────

const I32 = 0x7f;
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  brIf: (label: number) => [0x0d, label],
  get: (i: number) => [0x20, i],
  set: (i: number) => [0x21, i],
  tee: (i: number) => [0x22, i],
  i32: (v: number) => [0x41, ...sleb(v)],
  i32Load: (offset = 0) => [0x28, 0x02, offset],
  i32Store: [0x36, 0x02, 0x00],
  f32Load: [0x2a, 0x02, 0x00],
  f32Store: [0x38, 0x02, 0x00],
  f32Add: [0x92],
  eqz: [0x45],
  ltU: [0x49],
  geU: [0x4f],
  add: [0x6a],
  sub: [0x6b],
  and: [0x71],
  or: [0x72],
  shl: [0x74],
  shrU: [0x76],
  popcnt: [0x69],
  v128Load: [0xfd, 0x00, 0x04, 0x00],
  v128Store: [0xfd, 0x0b, 0x04, 0x00],
  f32x4Add: [0xfd, 0xe4, 0x01],
  f32x4Ge: [0xfd, 0x46],
  i32x4Bitmask: [0xfd, 0xa4, 0x01],
};

function sleb(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

function uleb(v: number): number[] {
  const out: number[] = [];
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, bytes: number[]) => [id, ...uleb(bytes.length), ...bytes];
const name = (s: string) => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
const body = (locals: number, code: number[][]) => {
  const b = [...(locals > 0 ? [0x01, locals, I32] : [0x00]), ...code.flat(), ...op.end];
  return [...uleb(b.length), ...b];
};

// add(pairs=0, count=1, n=2); locals dst=3, src=4, k=5, end=6
const addCode: number[][] = [
  op.get(0), op.get(1), op.i32(3), op.shl, op.add, op.set(6), // end = pairs + count·8
  op.block,
  op.get(0), op.get(6), op.geU, op.brIf(0),
  op.loop,
  op.get(0), op.i32Load(0), op.set(3), // dst
  op.get(0), op.i32Load(4), op.set(4), // src
  op.get(2), op.i32(2), op.shrU, op.set(5), // k = n >> 2 vectors
  op.block,
  op.get(5), op.eqz, op.brIf(0),
  op.loop,
  op.get(3), op.get(3), op.v128Load, op.get(4), op.v128Load, op.f32x4Add, op.v128Store,
  op.get(3), op.i32(16), op.add, op.set(3),
  op.get(4), op.i32(16), op.add, op.set(4),
  op.get(5), op.i32(1), op.sub, op.tee(5), op.brIf(0),
  op.end,
  op.end,
  op.get(2), op.i32(3), op.and, op.set(5), // k = n & 3 scalars
  op.block,
  op.get(5), op.eqz, op.brIf(0),
  op.loop,
  op.get(3), op.get(3), op.f32Load, op.get(4), op.f32Load, op.f32Add, op.f32Store,
  op.get(3), op.i32(4), op.add, op.set(3),
  op.get(4), op.i32(4), op.add, op.set(4),
  op.get(5), op.i32(1), op.sub, op.tee(5), op.brIf(0),
  op.end,
  op.end,
  op.get(0), op.i32(8), op.add, op.tee(0), op.get(6), op.ltU, op.brIf(0),
  op.end,
  op.end,
];

// fire(acc=0, thr=1, words=2, out=3) -> count; locals bits=4, g=5, count=6
const fireCode: number[][] = [
  op.block,
  op.get(2), op.eqz, op.brIf(0),
  op.loop,
  op.i32(0), op.set(4),
  op.i32(0), op.set(5),
  op.loop,
  op.get(4), op.get(0), op.v128Load, op.get(1), op.v128Load, op.f32x4Ge, op.i32x4Bitmask, op.get(5), op.shl, op.or, op.set(4),
  op.get(0), op.i32(16), op.add, op.set(0),
  op.get(1), op.i32(16), op.add, op.set(1),
  op.get(5), op.i32(4), op.add, op.tee(5), op.i32(32), op.ltU, op.brIf(0),
  op.end,
  op.get(3), op.get(4), op.i32Store,
  op.get(3), op.i32(4), op.add, op.set(3),
  op.get(6), op.get(4), op.popcnt, op.add, op.set(6),
  op.get(2), op.i32(1), op.sub, op.tee(2), op.brIf(0),
  op.end,
  op.end,
  op.get(6),
];

const MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32]]), 0x00], [0x60, ...vec([[I32], [I32], [I32], [I32]]), 0x01, I32]])),
  ...section(2, vec([[...name('e'), ...name('m'), 0x02, 0x00, 0x01]])),
  ...section(3, vec([[0x00], [0x01]])),
  ...section(7, vec([[...name('add'), 0x00, 0x00], [...name('fire'), 0x00, 0x01]])),
  ...section(10, vec([body(4, addCode), body(3, fireCode)])),
]);

/** The part of the WebAssembly JS API used here (the project's lib settings do not declare it). */
interface WebAssemblyApi {
  validate(bytes: Uint8Array): boolean;
  Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}
const wasm = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;

/** Whether this engine can run the SIMD kernel (Node ≥ 16.4 can). */
export function wasmSimdAvailable(): boolean {
  try {
    return wasm !== undefined && wasm.validate(MODULE);
  } catch {
    return false;
  }
}

const PAGE = 65536;

function wasmKernel(bytes: number): Kernel {
  const api = wasm!;
  const memory = new api.Memory({ initial: Math.max(1, Math.ceil(bytes / PAGE)) });
  const instance = new api.Instance(new api.Module(MODULE), { e: { m: memory } });
  const exports = instance.exports as unknown as { add: (p: number, c: number, n: number) => void; fire: (a: number, t: number, w: number, o: number) => number };
  return { name: 'wasm-simd', buffer: memory.buffer, add: exports.add, fire: exports.fire };
}

function jsKernel(bytes: number): Kernel {
  const buffer = new ArrayBuffer(bytes);
  const f32 = new Float32Array(buffer);
  const i32 = new Int32Array(buffer);
  return {
    name: 'js',
    buffer,
    add(pairs, count, n) {
      for (let p = pairs >> 2, end = p + 2 * count; p < end; p += 2) {
        const dst = i32[p]! >> 2;
        const src = i32[p + 1]! >> 2;
        for (let j = 0; j < n; j++) f32[dst + j]! += f32[src + j]!;
      }
    },
    fire(acc, thr, words, out) {
      let count = 0;
      let a = acc >> 2;
      let t = thr >> 2;
      for (let w = 0, o = out >> 2; w < words; w++, o++) {
        let bits = 0;
        for (let b = 0; b < 32; b++, a++, t++) if (f32[a]! >= f32[t]!) bits |= 1 << b;
        i32[o] = bits;
        for (let v = bits; v !== 0; v &= v - 1) count++;
      }
      return count;
    },
  };
}

export type KernelChoice = 'auto' | 'wasm-simd' | 'js';

/** A kernel over `bytes` bytes of zeroed memory: WebAssembly SIMD when available (or asked for), else JS. */
export function createKernel(bytes: number, choice: KernelChoice = 'auto'): Kernel {
  if (choice === 'js' || (choice === 'auto' && !wasmSimdAvailable())) return jsKernel(bytes);
  if (!wasmSimdAvailable()) throw new Error('WebAssembly SIMD is not available in this JavaScript engine');
  return wasmKernel(bytes);
}
