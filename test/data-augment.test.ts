import { describe, expect, it } from 'vitest';
import { augmentBatch, augmentationRandom, type Batch } from '../src/data/index.js';
import { SeededRandom } from '../src/util/random.js';

/** A batch of `count` 4×5×c images whose pixel (r, q, k) of image i is a distinct value. */
function numbered(count: number, c = 1): Batch {
  const x = new Float32Array(count * 4 * 5 * c);
  for (let i = 0; i < x.length; i++) x[i] = i + 1;
  return { x, y: Uint8Array.from({ length: count }, (_, i) => i), count };
}
const at = (b: Batch, i: number, r: number, q: number, k = 0, c = 1) => b.x[((i * 4 + r) * 5 + q) * c + k]!;

/** A stream that yields `values` in turn (the augmentation draws int, int, next per image). */
function scripted(values: number[]): SeededRandom {
  const r = new SeededRandom(0);
  let n = 0;
  r.next = () => values[n++]!;
  return r;
}

describe('augmentBatch', () => {
  it('is the identity at shift 0 without flips, and leaves labels alone', () => {
    const b = numbered(3, 2);
    const out = augmentBatch(b, [4, 5, 2], { shift: 0, flipHorizontal: false }, new SeededRandom(1));
    expect(Array.from(out.x)).toEqual(Array.from(b.x));
    expect(out.y).toBe(b.y);
  });

  it('translates by (dy, dx) with zeros where pixels enter the frame', () => {
    const b = numbered(1);
    // shift 2: int(5) of 0.99 → 4 → +2 rows; of 0.3 → 1 → −1 column; no flip.
    const out = augmentBatch(b, [4, 5, 1], { shift: 2, flipHorizontal: false }, scripted([0.99, 0.3, 0.9]));
    for (let r = 0; r < 4; r++) {
      for (let q = 0; q < 5; q++) {
        const sr = r - 2;
        const sq = q + 1;
        const want = sr >= 0 && sq < 5 ? at(b, 0, sr, sq) : 0;
        expect(at(out, 0, r, q)).toBe(want);
      }
    }
  });

  it('mirrors left–right, every channel moving with its pixel', () => {
    const b = numbered(1, 3);
    // shift 0 draws int(1) twice (always 0), then next() < 0.5 → flip.
    const out = augmentBatch(b, [4, 5, 3], { shift: 0, flipHorizontal: true }, scripted([0.5, 0.5, 0.1]));
    for (let r = 0; r < 4; r++) for (let q = 0; q < 5; q++) for (let k = 0; k < 3; k++) expect(at(out, 0, r, q, k, 3)).toBe(at(b, 0, r, 4 - q, k, 3));
  });

  it('is reproducible from the seed and epoch, and differs between epochs', () => {
    const b = numbered(8);
    const aug = { shift: 1, flipHorizontal: true };
    const a1 = augmentBatch(b, [4, 5, 1], aug, augmentationRandom(7, 3));
    const a2 = augmentBatch(b, [4, 5, 1], aug, augmentationRandom(7, 3));
    const a3 = augmentBatch(b, [4, 5, 1], aug, augmentationRandom(7, 4));
    expect(Array.from(a1.x)).toEqual(Array.from(a2.x));
    expect(Array.from(a1.x)).not.toEqual(Array.from(a3.x));
    // Every output pixel is 0 or one of the image's own pixels: nothing is invented.
    for (let i = 0; i < 8; i++) {
      const own = new Set(Array.from(b.x.subarray(i * 20, i * 20 + 20)));
      for (const v of a1.x.subarray(i * 20, i * 20 + 20)) expect(v === 0 || own.has(v)).toBe(true);
    }
  });

  it('refuses a shift as large as the image', () => {
    expect(() => augmentBatch(numbered(1), [4, 5, 1], { shift: 4, flipHorizontal: false }, new SeededRandom(1))).toThrow(RangeError);
  });
});
