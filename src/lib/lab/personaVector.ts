// Persona vectors from your own examples (arXiv 2507.21509; the recipe's personas.json vectors): the mean residual
// at the SAE layer over texts in the persona minus the mean over texts not in it, and what it is made of in SAE terms.
import type { TextStats } from '../engine/api';
import { LabInputError } from './errors';
import { latentTotals } from './latents';

export interface PersonaVector {
  /** mean(in) − mean(not) at the SAE layer [dIn], unnormalised. */
  vector: Float32Array;
  norm: number;
  /** Mean L2 norm of the residual over every counted token of both lists: what "large" means at this layer. */
  typicalNorm: number;
  tokens: { positive: number; negative: number };
  /** Latents whose decoder direction points most along the vector (cosine, both signs kept). */
  byCosine: { latent: number; cosine: number }[];
  /** Latents whose mean activation differs most between the lists (in − not). */
  byActivation: { latent: number; delta: number; meanIn: number; meanNot: number }[];
  /** Slider range for steering with `vector`: strength 1 adds one whole difference of means. */
  strength: { min: number; max: number; recommended: number };
  /** False when some token's reported latents may have left out active ones (a non-TopK SAE): means are lower bounds. */
  exactLatents: boolean;
}

/**
 * Each list's residual mean is pooled over its tokens (each text's first token skipped, as analyze.py does: its norm
 * is an outlier), so "not" is the mean over all other texts' tokens exactly as the recipe's `others` mean.
 * `wDec` [dSae × dIn] gives the decoder cosines (null: left empty). The recommended strength pushes by half the
 * typical residual norm: the recipe's calibration (personas.json `vector_alpha` 0.5 for four of five voices) and the
 * RESEARCH notes found ~0.5× the mean norm moves ≥ 80% of continuations into a voice while staying readable.
 * Throws `LabInputError` when a list has no counted tokens.
 */
export function personaVector(positive: TextStats[], negative: TextStats[], dIn: number, dSae: number, wDec: Float32Array | null, top = 12): PersonaVector {
  const pool = (list: TextStats[]) => {
    const sum = new Float64Array(dIn);
    let tokens = 0;
    let normSum = 0;
    for (const s of list) {
      for (let j = 0; j < dIn; j++) sum[j] += s.residualSum[j];
      tokens += s.tokens.length - s.start;
      normSum += s.residualNormSum;
    }
    return { sum, tokens, normSum };
  };
  const p = pool(positive);
  const q = pool(negative);
  if (p.tokens === 0) throw new LabInputError('The "in the persona" list has no tokens to average (each text needs at least two tokens).');
  if (q.tokens === 0) throw new LabInputError('The "not in the persona" list has no tokens to average (each text needs at least two tokens).');
  const vector = new Float32Array(dIn);
  let sq = 0;
  for (let j = 0; j < dIn; j++) {
    vector[j] = p.sum[j] / p.tokens - q.sum[j] / q.tokens;
    sq += vector[j] * vector[j];
  }
  const norm = Math.sqrt(sq);
  const typicalNorm = (p.normSum + q.normSum) / (p.tokens + q.tokens);

  const byCosine: PersonaVector['byCosine'] = [];
  if (wDec && norm > 0) {
    const all: { latent: number; cosine: number }[] = [];
    for (let l = 0; l < dSae; l++) {
      let dot = 0;
      let n2 = 0;
      for (let j = 0; j < dIn; j++) {
        const w = wDec[l * dIn + j];
        dot += w * vector[j];
        n2 += w * w;
      }
      if (n2 > 0) all.push({ latent: l, cosine: dot / (Math.sqrt(n2) * norm) });
    }
    all.sort((a, b) => Math.abs(b.cosine) - Math.abs(a.cosine) || a.latent - b.latent);
    byCosine.push(...all.slice(0, top));
  }

  const lp = latentTotals(positive, dSae, 'counted');
  const lq = latentTotals(negative, dSae, 'counted');
  const deltas: PersonaVector['byActivation'] = [];
  for (let l = 0; l < dSae; l++) {
    const meanIn = lp.sum[l] / (lp.tokens || 1);
    const meanNot = lq.sum[l] / (lq.tokens || 1);
    if (meanIn !== 0 || meanNot !== 0) deltas.push({ latent: l, delta: meanIn - meanNot, meanIn, meanNot });
  }
  deltas.sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta) || a.latent - b.latent);

  const recommended = norm > 0 ? roundTo((0.5 * typicalNorm) / norm, 2) : 1;
  return {
    vector,
    norm,
    typicalNorm,
    tokens: { positive: p.tokens, negative: q.tokens },
    byCosine,
    byActivation: deltas.slice(0, top),
    strength: { min: -2 * recommended, max: 2 * recommended, recommended },
    exactLatents: [...positive, ...negative].every((s) => s.complete),
  };
}

function roundTo(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f || 1 / f;
}

/** Cosine similarity of two vectors of the same length. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / (Math.sqrt(na * nb) || 1);
}
