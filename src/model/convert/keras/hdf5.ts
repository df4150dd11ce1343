/**
 * Reading HDF5 files (Keras weights) with h5wasm: opened read-only, checked for the HDF5 signature
 * first (so a random file is named as such instead of reaching the C library), with HDF5's error
 * stack turned into a thrown message rather than printed on stderr.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../../errors.js';

type H5 = typeof import('h5wasm/node').default;
export type H5File = InstanceType<H5['File']>;
export type H5Group = InstanceType<H5['Group']>;
export type H5Dataset = InstanceType<H5['Dataset']>;

/** HDF5's format signature; the superblock sits at 0, 512, 1024, 2048, … (after a user block). */
const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

export function isHdf5(bytes: Uint8Array): boolean {
  for (let at = 0; at + SIGNATURE.length <= bytes.length; at = at === 0 ? 512 : at * 2) {
    if (SIGNATURE.every((b, i) => bytes[at + i] === b)) return true;
  }
  return false;
}

let loaded: Promise<{ h5: H5; module: Awaited<H5['ready']> }> | undefined;
async function h5wasm() {
  loaded ??= import('h5wasm/node').then(async (m) => ({ h5: m.default, module: await m.default.ready }));
  return loaded;
}

/**
 * Opens HDF5 `bytes` (the file `shown`, or a member of it) and passes the file to `read`. h5wasm
 * reads from the file system, so the bytes go through a private temporary file, removed after.
 */
export async function withHdf5<T>(bytes: Uint8Array, shown: string, read: (file: H5File) => T): Promise<T> {
  if (!isHdf5(bytes)) throw new InputError(`${shown}: not an HDF5 file (no HDF5 signature)`);
  const { h5, module } = await h5wasm();
  const dir = mkdtempSync(join(tmpdir(), 'whetstone-h5-'));
  const path = join(dir, 'weights.h5');
  module.activate_throwing_error_handler();
  let file: H5File | undefined;
  try {
    writeFileSync(path, bytes);
    try {
      file = new h5.File(path, 'r');
    } catch (e) {
      throw new InputError(`${shown}: not a readable HDF5 file, or a truncated one (${hdf5Reason(e)})`);
    }
    try {
      return read(file);
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(`${shown}: cannot read its HDF5 contents (${hdf5Reason(e)})`);
    }
  } finally {
    try {
      file?.close();
    } catch {
      // A file HDF5 could not read may not close cleanly either; nothing of it is kept.
    }
    module.deactivate_throwing_error_handler();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The innermost reason in an HDF5 error stack ("file signature not found", …), one line. */
function hdf5Reason(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const minor = [...text.matchAll(/\):\s*([^\n]+)/g)].map((m) => m[1]!.trim()).at(-1);
  return (minor ?? text.split('\n')[0] ?? 'unknown error').slice(0, 200);
}

/** A dataset's values as float32 with its shape, or an InputError naming the path. */
export function readFloats(file: H5File, path: string, shown: string): { shape: number[]; values: Float32Array } {
  const entity = file.get(path);
  if (entity === null || !('shape' in entity) || !('value' in entity)) throw new InputError(`${shown}: the weights have no array '${path}'`);
  const ds = entity as H5Dataset;
  const value = ds.value;
  const shape = ds.shape ?? [];
  if (!(value instanceof Float32Array || value instanceof Float64Array)) throw new InputError(`${shown}: weight '${path}' is not a float array`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (value.length !== count) throw new InputError(`${shown}: weight '${path}' holds ${value.length} values for shape [${shape.join(', ')}]`);
  return { shape, values: value instanceof Float32Array ? value : Float32Array.from(value) };
}

/** A string attribute (JSON configs, names), or undefined. */
export function stringAttribute(node: H5File | H5Group, name: string): string | undefined {
  const attr = node.attrs[name];
  const value = attr?.value;
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  return undefined;
}

/** A string-list attribute (`layer_names`, `weight_names`), or undefined. */
export function stringListAttribute(node: H5File | H5Group, name: string): string[] | undefined {
  const value = node.attrs[name]?.json_value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  if (typeof value === 'string') return [value];
  return undefined;
}
