/**
 * The values of an ONNX TensorProto (an initializer or a Constant node's `value`), as float32 or
 * as plain integers for shape arithmetic. ONNX stores them in one of three places: `raw_data`
 * (little-endian bytes), a typed field (`float_data`, `int64_data`, …), or — for models over 2 GB,
 * or when the exporter chose it — an external file beside the model (`data_location: EXTERNAL`
 * with `location`, `offset`, `length`; see onnx/docs/ExternalData.md).
 */
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import type { onnx as Onnx } from 'onnx-proto';
import { InputError } from '../../../errors.js';
import { describeFsError } from '../../../util/fs-errors.js';

export type TensorProto = Onnx.ITensorProto;

/** TensorProto.DataType values this reader handles. */
const FLOAT = 1;
const INT32 = 6;
const INT64 = 7;
const DOUBLE = 11;
/** TensorProto.DataLocation.EXTERNAL. */
const EXTERNAL = 1;
const BYTES_PER: Record<number, number> = { [FLOAT]: 4, [INT32]: 4, [INT64]: 8, [DOUBLE]: 8 };
const TYPE_NAMES: Record<number, string> = { 2: 'uint8', 3: 'int8', 9: 'bool', 10: 'float16', 16: 'bfloat16', 8: 'string' };

export interface TensorValues {
  readonly dims: readonly number[];
  /** The values in row-major order, as float32 (integers are exact below 2²⁴). */
  readonly data: Float32Array;
  /** The values as exact integers, for INT32/INT64 tensors (shapes, axes, indices). */
  readonly ints?: readonly number[];
}

/** A protobuf int64 (number or Long) as a number. */
export function int(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v !== null && typeof v === 'object' && 'toNumber' in v) return (v as { toNumber(): number }).toNumber();
  return Number(v);
}

/** Where to find the bytes of externally stored tensors, and what to call the model in messages. */
export interface TensorSource {
  /** The model file (externals are read relative to its directory). */
  readonly file: string;
  /** The model as the user named it, for messages. */
  readonly shown: string;
}

function externalBytes(t: TensorProto, src: TensorSource): Uint8Array {
  const entries = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = entries.get('location');
  if (location === undefined || location === '') throw new InputError(`${src.shown}: initializer '${t.name}' is stored externally but names no file`);
  const base = dirname(resolve(src.file));
  const path = resolve(base, location);
  const rel = relative(base, path);
  if (rel.startsWith('..') || rel.startsWith(sep) || rel === '') {
    throw new InputError(`${src.shown}: initializer '${t.name}': external data file '${location}' is outside the model's directory`);
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new InputError(`${src.shown}: initializer '${t.name}' is stored in '${location}' beside the model, which cannot be read (${describeFsError(e)})`);
  }
  const offset = Number(entries.get('offset') ?? 0);
  const length = entries.has('length') ? Number(entries.get('length')) : bytes.length - offset;
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > bytes.length) {
    throw new InputError(`${src.shown}: initializer '${t.name}': '${location}' holds ${bytes.length} bytes, not the ${length} at offset ${offset} the model names (truncated or mismatched external data)`);
  }
  return bytes.subarray(offset, offset + length);
}

/** The tensor's values; throws InputError for types it cannot hold or sizes that disagree with dims. */
export function tensorValues(t: TensorProto, src: TensorSource): TensorValues {
  const dims = (t.dims ?? []).map(int);
  const name = !t.name ? 'a constant' : `'${t.name}'`;
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new InputError(`${src.shown}: tensor ${name} has invalid dimensions [${dims.join(', ')}]`);
  const count = dims.reduce((a, b) => a * b, 1);
  const type = t.dataType ?? 0;
  const per = BYTES_PER[type];
  if (per === undefined) throw new InputError(`${src.shown}: tensor ${name} is ${TYPE_NAMES[type] ?? `data type ${type}`}; sharpen reads float32, float64 and integer tensors`);
  const external = t.dataLocation === EXTERNAL;
  const raw = external ? externalBytes(t, src) : t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  const mismatch = (found: number) => new InputError(`${src.shown}: tensor ${name} has ${found} values but its dimensions [${dims.join(', ')}] need ${count} (truncated or mismatched weights)`);
  if (raw !== undefined) {
    if (raw.length !== count * per) throw mismatch(Math.floor(raw.length / per));
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const data = new Float32Array(count);
    if (type === INT64 || type === INT32) {
      const ints = Array.from({ length: count }, (_, i) => (type === INT64 ? Number(view.getBigInt64(i * 8, true)) : view.getInt32(i * 4, true)));
      ints.forEach((v, i) => (data[i] = v));
      return { dims, data, ints };
    }
    for (let i = 0; i < count; i++) data[i] = type === FLOAT ? view.getFloat32(i * 4, true) : view.getFloat64(i * 8, true);
    return { dims, data };
  }
  if (type === INT64 || type === INT32) {
    const ints = (type === INT64 ? t.int64Data ?? [] : t.int32Data ?? []).map(int);
    if (ints.length !== count) throw mismatch(ints.length);
    return { dims, data: Float32Array.from(ints), ints };
  }
  const values = type === FLOAT ? t.floatData ?? [] : t.doubleData ?? [];
  if (values.length !== count) throw mismatch(values.length);
  return { dims, data: Float32Array.from(values) };
}
