// Plain TypeScript SAE maths: the reference every GPU kernel is tested against, and the WASM path's implementation.
// Activations are [tokens, dIn] row-major Float32Arrays.
import type { SaeConfig, SaeWeights } from './types';

/** Per-token input preprocessing: optional mean centring, then the SAE's activation normalisation. */
export function preprocess(config: SaeConfig, x: Float32Array, tokens: number): Float32Array {
  const d = config.dIn;
  const out = new Float32Array(tokens * d);
  for (let t = 0; t < tokens; t++) {
    const row = x.subarray(t * d, (t + 1) * d);
    const o = out.subarray(t * d, (t + 1) * d);
    let mean = 0;
    if (config.centerResidual) {
      for (let i = 0; i < d; i++) mean += row[i];
      mean /= d;
    }
    for (let i = 0; i < d; i++) o[i] = row[i] - mean;
    switch (config.normalizeActivations) {
      case 'constant_norm_rescale': {
        let sq = 0;
        for (let i = 0; i < d; i++) sq += o[i] * o[i];
        const s = Math.sqrt(d) / Math.sqrt(sq);
        for (let i = 0; i < d; i++) o[i] *= s;
        break;
      }
      case 'layer_norm': {
        let mu = 0;
        for (let i = 0; i < d; i++) mu += o[i];
        mu /= d;
        let v = 0;
        for (let i = 0; i < d; i++) v += (o[i] - mu) ** 2;
        // torch.std is the unbiased estimator, as SAELens uses it.
        const std = Math.sqrt(v / (d - 1));
        for (let i = 0; i < d; i++) o[i] = (o[i] - mu) / (std + 1e-5);
        break;
      }
      case 'expected_average_only_in':
        for (let i = 0; i < d; i++) o[i] *= config.inputScale;
        break;
      case 'none':
        break;
    }
  }
  return out;
}

/** Pre-activations [tokens, dSae] of already preprocessed input. */
export function preActivations(sae: SaeWeights, xn: Float32Array, tokens: number): Float32Array {
  const { dIn, dSae, applyBDecToInput } = sae.config;
  const out = new Float32Array(tokens * dSae);
  const xc = new Float64Array(dIn);
  const acc = new Float64Array(dSae);
  for (let t = 0; t < tokens; t++) {
    for (let i = 0; i < dIn; i++) xc[i] = xn[t * dIn + i] - (applyBDecToInput ? sae.bDec[i] : 0);
    acc.fill(0);
    for (let i = 0; i < dIn; i++) {
      const xi = xc[i];
      if (xi === 0) continue;
      const row = i * dSae;
      for (let j = 0; j < dSae; j++) acc[j] += xi * sae.wEnc[row + j];
    }
    for (let j = 0; j < dSae; j++) out[t * dSae + j] = acc[j] + sae.bEnc[j];
  }
  return out;
}

/**
 * Applies the architecture's activation in place; TopK keeps the k largest per token (ties to the lower index),
 * found by `selectTopK` or, with `method` 'sort', by a full sort (same result; see `topK`).
 */
export function activate(sae: SaeWeights, pre: Float32Array, tokens: number, method: 'select' | 'sort' = 'select'): Float32Array {
  const { dSae, architecture, k } = sae.config;
  for (let t = 0; t < tokens; t++) {
    const row = pre.subarray(t * dSae, (t + 1) * dSae);
    if (architecture === 'jumprelu') {
      for (let j = 0; j < dSae; j++) row[j] = row[j] > sae.threshold![j] ? Math.max(row[j], 0) : 0;
    } else {
      for (let j = 0; j < dSae; j++) row[j] = Math.max(row[j], 0);
    }
    if (architecture === 'topk' && k! < dSae) {
      const { indices: top, values: kept } = topK(row, 1, dSae, k!, method);
      row.fill(0);
      for (let m = 0; m < k!; m++) row[top[m]] = kept[m];
    }
  }
  return pre;
}

/** Full encode: raw residual rows → latent activations [tokens, dSae]. */
export function encode(sae: SaeWeights, x: Float32Array, tokens: number): Float32Array {
  return activate(sae, preActivations(sae, preprocess(sae.config, x, tokens), tokens), tokens);
}

/**
 * Largest k served by the one-pass selection; above it the row is sorted (a candidate's insertion moves up to k
 * entries, and a row that rises steadily makes every entry a candidate). Measured in Node 20 (vitest, 2-core Xeon)
 * on 2048-wide post-ReLU rows: k 8 / 32 / 64 take 7 / 21 / 30 µs per row selected against 720 / 630 / 660 µs
 * sorted. `tests/unit/sae/topk.test.ts` checks that both paths give the same answer.
 */
export const SELECT_MAX_K = 64;

/** Full sort of the row's indices by value descending, ties to the lower index: the definition of the order. */
function sortedIndices(row: Float32Array, k: number): number[] {
  const idx = Array.from({ length: row.length }, (_, j) => j);
  idx.sort((a, b) => row[b] - row[a] || a - b);
  return idx.slice(0, k);
}

/**
 * Writes the `k` largest entries of `row` into `indices`/`values` (length ≥ k, k ≤ row.length), sorted by value
 * descending, ties to the lower index: the same order as a full sort. For k ≤ `SELECT_MAX_K` it is one pass over the
 * row keeping a sorted list of k (a candidate enters only if it beats the k-th, so on typical rows almost every
 * entry costs one comparison); above that it sorts. Rows must be free of NaN (the order is undefined for them).
 */
export function selectTopK(row: Float32Array, k: number, indices: Int32Array, values: Float32Array): void {
  if (k > SELECT_MAX_K) {
    sortedIndices(row, k).forEach((j, m) => {
      indices[m] = j;
      values[m] = row[j];
    });
    return;
  }
  let count = 0;
  for (let j = 0; j < row.length; j++) {
    const v = row[j];
    // Full: only a strictly larger value enters (an equal one has a higher index, so it ranks after the k-th).
    if (count === k && !(v > values[k - 1])) continue;
    // First slot holding a strictly smaller value: equal values stay ahead (they have lower indices).
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (values[mid] < v) hi = mid;
      else lo = mid + 1;
    }
    const last = count < k ? count++ : k - 1;
    for (let m = last; m > lo; m--) {
      values[m] = values[m - 1];
      indices[m] = indices[m - 1];
    }
    values[lo] = v;
    indices[lo] = j;
  }
}

/**
 * Per-row top-k (index, value) [rows, k], sorted by value descending, ties to the lower index. `method` 'sort'
 * forces the full sort (the reference order; also the CPU backend's old path, kept for the benchmark's before/after).
 * A k above `width` fills only the first `width` slots of each row (the rest stay index 0, value 0).
 */
export function topK(
  values: Float32Array,
  rows: number,
  width: number,
  k: number,
  method: 'select' | 'sort' = 'select',
): { indices: Int32Array; values: Float32Array } {
  const indices = new Int32Array(rows * k);
  const vals = new Float32Array(rows * k);
  const n = Math.min(k, width);
  for (let r = 0; r < rows; r++) {
    const row = values.subarray(r * width, (r + 1) * width);
    if (method === 'sort') {
      sortedIndices(row, n).forEach((j, m) => {
        indices[r * k + m] = j;
        vals[r * k + m] = row[j];
      });
    } else selectTopK(row, n, indices.subarray(r * k, r * k + n), vals.subarray(r * k, r * k + n));
  }
  return { indices, values: vals };
}

/** Reconstruction x̂ = a·W_dec + b_dec in the SAE's (normalised) input space, [tokens, dIn]. */
export function decode(sae: SaeWeights, acts: Float32Array, tokens: number): Float32Array {
  const { dIn, dSae } = sae.config;
  const out = new Float32Array(tokens * dIn);
  const acc = new Float64Array(dIn);
  for (let t = 0; t < tokens; t++) {
    for (let i = 0; i < dIn; i++) acc[i] = sae.bDec[i];
    for (let j = 0; j < dSae; j++) {
      const a = acts[t * dSae + j];
      if (a === 0) continue;
      const row = j * dIn;
      for (let i = 0; i < dIn; i++) acc[i] += a * sae.wDec[row + i];
    }
    for (let i = 0; i < dIn; i++) out[t * dIn + i] = acc[i];
  }
  return out;
}

/**
 * The latents with a non-zero activation per token, ascending (what decode visits): `list` holds row t's ids at
 * [t·dSae, t·dSae + counts[t]). A NaN activation counts as non-zero and −0 as zero (`a !== 0`, as `decode` skips).
 * Reference of the GPU's nonzeroLatents.wgsl.
 */
export function nonzeroLatents(acts: Float32Array, tokens: number, dSae: number): { list: Uint32Array; counts: Uint32Array } {
  const list = new Uint32Array(tokens * dSae);
  const counts = new Uint32Array(tokens);
  for (let t = 0; t < tokens; t++) {
    let n = 0;
    for (let j = 0; j < dSae; j++) if (acts[t * dSae + j] !== 0) list[t * dSae + n++] = j;
    counts[t] = n;
  }
  return { list, counts };
}

/** Relative reconstruction error |x - x̂| / |x| per token (both in the SAE's input space). */
export function reconstructionError(x: Float32Array, xHat: Float32Array, tokens: number, dIn: number): Float32Array {
  const out = new Float32Array(tokens);
  for (let t = 0; t < tokens; t++) {
    let num = 0;
    let den = 0;
    for (let i = 0; i < dIn; i++) {
      const a = x[t * dIn + i];
      num += (a - xHat[t * dIn + i]) ** 2;
      den += a * a;
    }
    out[t] = den > 0 ? Math.sqrt(num / den) : 0;
  }
  return out;
}

export interface LatentTerm {
  latent: number;
  coefficient: number;
}
export interface VectorTerm {
  vector: Float32Array;
  coefficient: number;
}

/** Steering direction Σ c_i·W_dec[i] + Σ c_r·v_r, [dIn]. */
export function composeSteering(sae: Pick<SaeWeights, 'wDec' | 'config'>, latents: LatentTerm[], vectors: VectorTerm[]): Float32Array {
  const d = sae.config.dIn;
  const acc = new Float64Array(d);
  for (const { latent, coefficient } of latents) for (let i = 0; i < d; i++) acc[i] += coefficient * sae.wDec[latent * d + i];
  for (const { vector, coefficient } of vectors) for (let i = 0; i < d; i++) acc[i] += coefficient * vector[i];
  return Float32Array.from(acc);
}
