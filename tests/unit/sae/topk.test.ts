// The CPU top-k (one pass keeping a sorted k, full sort above SELECT_MAX_K) must give exactly the full sort's
// answer: same indices in the same order, ties to the lower index, on rows full of ties and on awkward sizes.
import { describe, expect, it } from 'vitest';
import { saeReference } from '../../../src/lib/sae';
import { randomSae, rng } from './fixtures';

const WIDTHS = [1, 2, 3, 5, 7, 31, 63, 64, 65, 127, 255, 257, 1000, 2047, 2048];
const KS = [1, 2, 3, 7, 8, 31, 32, 33, 63, 64, 65, 100, 127, 128];

/** Rows of a given kind: few distinct values (many ties, ±0 among them), post-ReLU-like, sorted both ways, constant. */
function rowsFor(width: number, seed: number): Float32Array[] {
  const r = rng(seed);
  const palette = [0, -0, 1, 2, 0.5, -1, 2, 0];
  const tied = Float32Array.from({ length: width }, () => palette[Math.floor(r() * palette.length)]);
  const relu = Float32Array.from({ length: width }, () => Math.max(0, r() * 2 - 1.6));
  const coarse = Float32Array.from({ length: width }, () => Math.round((r() * 2 - 1) * 3) / 2);
  const ascending = Float32Array.from({ length: width }, (_, j) => Math.floor(j / 3));
  const descending = Float32Array.from({ length: width }, (_, j) => -Math.floor(j / 2));
  const constant = new Float32Array(width).fill(0.25);
  return [tied, relu, coarse, ascending, descending, constant];
}

describe('CPU SAE top-k selection', () => {
  it('equals the full sort on tie-heavy rows, widths 1–2048 and k 1–128', () => {
    let checked = 0;
    for (const width of WIDTHS)
      for (const [n, row] of rowsFor(width, width).entries())
        for (const k of KS) {
          const select = saeReference.topK(row, 1, width, k, 'select');
          const sort = saeReference.topK(row, 1, width, k, 'sort');
          // toEqual on typed arrays compares every element (and tells -0 from 0 via Object.is).
          expect(select.indices, `width ${width}, row kind ${n}, k ${k}`).toEqual(sort.indices);
          expect(select.values, `width ${width}, row kind ${n}, k ${k}`).toEqual(sort.values);
          checked++;
        }
    expect(checked).toBe(WIDTHS.length * 6 * KS.length);
  });

  it('keeps ties in index order and the k largest (a hand-checked row)', () => {
    const row = Float32Array.of(1, 3, 2, 3, 0, 3, 2);
    const { indices, values } = saeReference.topK(row, 1, 7, 4);
    expect(Array.from(indices)).toEqual([1, 3, 5, 2]);
    expect(Array.from(values)).toEqual([3, 3, 3, 2]);
  });

  it('handles several rows at once and a k above the width (only the first width slots are filled)', () => {
    const rows = 3;
    const width = 5;
    const values = Float32Array.of(0, 1, 0, 1, 0, 5, 4, 3, 2, 1, 2, 2, 2, 2, 2);
    const out = saeReference.topK(values, rows, width, 7);
    expect(Array.from(out.indices)).toEqual([1, 3, 0, 2, 4, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 1, 2, 3, 4, 0, 0]);
    expect(Array.from(out.values)).toEqual([1, 1, 0, 0, 0, 0, 0, 5, 4, 3, 2, 1, 0, 0, 2, 2, 2, 2, 2, 0, 0]);
  });

  it('TopK activation keeps exactly the full sort’s k latents (ties to the lower index)', () => {
    for (const k of [1, 32, 65, 100]) {
      const sae = randomSae({ dIn: 8, dSae: 257, architecture: 'topk', k, seed: k });
      const r = rng(k);
      // Coarse pre-activations: many equal values at the k-th place.
      const pre = Float32Array.from({ length: 2 * 257 }, () => Math.round((r() * 2 - 1) * 4) / 4);
      const expected = new Float32Array(pre.length);
      for (let t = 0; t < 2; t++) {
        const relu = pre.subarray(t * 257, (t + 1) * 257).map((v) => Math.max(v, 0));
        const top = saeReference.topK(relu, 1, 257, k, 'sort');
        top.indices.forEach((j, m) => (expected[t * 257 + j] = top.values[m]));
      }
      expect(saeReference.activate(sae, pre.slice(), 2), `k ${k}`).toEqual(expected);
    }
  });
});
