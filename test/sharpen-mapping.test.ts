import { describe, expect, it } from 'vitest';
import { allSharp, layerSharpness } from '../src/sharpen/index.js';

describe('layerSharpness', () => {
  it('uniform gives every layer the model sharpness', () => {
    expect(layerSharpness(0.3, 4, 'uniform')).toEqual([0.3, 0.3, 0.3, 0.3]);
    expect(layerSharpness(1, 2, 'uniform')).toEqual([1, 1]);
  });

  it('bottom_up sharpens one layer at a time, input side first', () => {
    expect(layerSharpness(0, 3, 'bottom_up')).toEqual([0, 0, 0]);
    expect(layerSharpness(0.5, 4, 'bottom_up')).toEqual([1, 1, 0, 0]);
    expect(layerSharpness(0.125, 4, 'bottom_up')).toEqual([0.5, 0, 0, 0]);
    expect(layerSharpness(0.625, 4, 'bottom_up')).toEqual([1, 1, 0.5, 0]);
    expect(layerSharpness(1, 4, 'bottom_up')).toEqual([1, 1, 1, 1]);
  });

  it('clips the model sharpness to [0, 1]', () => {
    expect(layerSharpness(-0.5, 2, 'bottom_up')).toEqual([0, 0]);
    expect(layerSharpness(1.7, 2, 'uniform')).toEqual([1, 1]);
  });

  it('lands layer i on exactly 1 at model sharpness (i+1)/L, with no float residue', () => {
    for (let layers = 1; layers <= 12; layers++) {
      for (let steps = 1; steps <= 12; steps++) {
        for (let i = 0; i < layers; i++) {
          const s = layerSharpness(((i + 1) * steps) / (steps * layers), layers, 'bottom_up');
          expect(s[i]).toBe(1);
          if (i + 1 < layers) expect(s[i + 1]).toBe(0);
        }
      }
    }
  });

  it('rejects a non-positive layer count', () => {
    expect(() => layerSharpness(0.5, 0, 'uniform')).toThrow(RangeError);
  });

  it('allSharp is true only when every layer is exactly 1', () => {
    expect(allSharp([1, 1, 1])).toBe(true);
    expect(allSharp([1, 0.9999999, 1])).toBe(false);
  });
});
