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

/** Applies the architecture's activation in place; TopK keeps the k largest per token (ties to the lower index). */
export function activate(sae: SaeWeights, pre: Float32Array, tokens: number): Float32Array {
  const { dSae, architecture, k } = sae.config;
  for (let t = 0; t < tokens; t++) {
    const row = pre.subarray(t * dSae, (t + 1) * dSae);
    if (architecture === 'jumprelu') {
      for (let j = 0; j < dSae; j++) row[j] = row[j] > sae.threshold![j] ? Math.max(row[j], 0) : 0;
    } else {
      for (let j = 0; j < dSae; j++) row[j] = Math.max(row[j], 0);
    }
    if (architecture === 'topk' && k! < dSae) {
      const keep = new Uint8Array(dSae);
      for (const j of topIndices(row, k!)) keep[j] = 1;
      for (let j = 0; j < dSae; j++) if (!keep[j]) row[j] = 0;
    }
  }
  return pre;
}

/** Full encode: raw residual rows → latent activations [tokens, dSae]. */
export function encode(sae: SaeWeights, x: Float32Array, tokens: number): Float32Array {
  return activate(sae, preActivations(sae, preprocess(sae.config, x, tokens), tokens), tokens);
}

function topIndices(row: Float32Array, k: number): number[] {
  const idx = Array.from({ length: row.length }, (_, j) => j);
  idx.sort((a, b) => row[b] - row[a] || a - b);
  return idx.slice(0, k);
}

/** Per-row top-k (index, value), sorted by value descending, ties by lower index. */
export function topK(values: Float32Array, rows: number, width: number, k: number): { indices: Int32Array; values: Float32Array } {
  const indices = new Int32Array(rows * k);
  const vals = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) {
    const row = values.subarray(r * width, (r + 1) * width);
    topIndices(row, k).forEach((j, m) => {
      indices[r * k + m] = j;
      vals[r * k + m] = row[j];
    });
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
