/**
 * NumPy `.npy` files (format version 1.0): a magic string, a little header that is a Python dict
 * literal, then the array's bytes in C order. Simple to write and read by `numpy.load` without
 * pickling. Spec: numpy/lib/format.py ("The .npy format").
 */

export type NpyArray =
  | { dtype: '<f8'; data: Float64Array }
  | { dtype: '<f4'; data: Float32Array }
  | { dtype: '<i4'; data: Int32Array }
  | { dtype: '<i2'; data: Int16Array }
  | { dtype: '|u1'; data: Uint8Array };

/** Encodes one array with the given shape (whose product must be the array's length). */
export function encodeNpy(array: NpyArray, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== array.data.length) throw new RangeError(`npy: shape [${shape.join(', ')}] holds ${count} values, the array has ${array.data.length}`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${array.dtype}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Magic (6) + version (2) + header length (2) + header + '\n' is padded to a multiple of 64.
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const body = new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  const out = new Uint8Array(10 + header.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  if (!littleEndian()) throw new Error('npy: this writer needs a little-endian host');
  out.set(body, 10 + header.length);
  return out;
}

function littleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}
