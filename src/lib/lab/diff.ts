// Model diffing (the persona-features method, arXiv 2506.19823): the same prompts through two models, both read
// by one SAE, latents ranked by how their activations changed. The ranking is pure; `runModelDiff` drives an engine.
import type { TextStats } from '../engine/api';
import { LabTokenMismatchError } from './errors';
import { latentTotals } from './latents';

export type DiffMetric = 'mean' | 'frequency' | 'max';
/** `abs`: largest changes either way; `increase`: what B gained (the paper's ranking, and emergence-golden.json's). */
export type DiffOrder = 'abs' | 'increase' | 'decrease';

export interface LatentDiff {
  latent: number;
  /** Mean activation over every token of the prompt set, model A and B. */
  meanA: number;
  meanB: number;
  meanDelta: number;
  /** Share of tokens where the latent is active (> 0). */
  freqA: number;
  freqB: number;
  freqDelta: number;
  /** The change (B − A) of largest magnitude at a single token, and where. */
  maxDelta: number;
  maxAt: { prompt: number; token: number };
}

/**
 * Per-latent changes from A to B over every token (position 0 included, as the recipe's diff protocol reads "every
 * token"). Token pairs must line up: throws `LabTokenMismatchError` when the models tokenised a prompt differently.
 * Latents that are never active in either model are left out.
 */
export function diffLatents(a: TextStats[], b: TextStats[], dSae: number): LatentDiff[] {
  if (a.length !== b.length) throw new LabTokenMismatchError(`Model A read ${a.length} prompts and model B ${b.length}.`);
  a.forEach((sa, p) => {
    const sb = b[p];
    if (sa.tokens.length !== sb.tokens.length || sa.tokens.some((t, i) => t.id !== sb.tokens[i].id))
      throw new LabTokenMismatchError(`Prompt ${p + 1} is ${sa.tokens.length} tokens for model A and ${sb.tokens.length} for model B, or different tokens: the two models need the same tokenizer.`);
  });
  const ta = latentTotals(a, dSae);
  const tb = latentTotals(b, dSae);
  const n = ta.tokens || 1;
  const maxDelta = new Float64Array(dSae);
  const maxPrompt = new Int32Array(dSae).fill(-1);
  const maxToken = new Int32Array(dSae);
  const row = new Map<number, number>();
  a.forEach((sa, p) => {
    const sb = b[p];
    for (let t = 0; t < sa.tokens.length; t++) {
      row.clear();
      for (let j = 0; j < sa.top.k; j++) {
        const v = sa.top.values[t * sa.top.k + j];
        if (v > 0) row.set(sa.top.indices[t * sa.top.k + j], -v);
      }
      for (let j = 0; j < sb.top.k; j++) {
        const v = sb.top.values[t * sb.top.k + j];
        if (v > 0) {
          const l = sb.top.indices[t * sb.top.k + j];
          row.set(l, (row.get(l) ?? 0) + v);
        }
      }
      for (const [l, d] of row) {
        if (maxPrompt[l] < 0 || Math.abs(d) > Math.abs(maxDelta[l])) {
          maxDelta[l] = d;
          maxPrompt[l] = p;
          maxToken[l] = t;
        }
      }
    }
  });
  const out: LatentDiff[] = [];
  for (let l = 0; l < dSae; l++) {
    if (ta.fired[l] === 0 && tb.fired[l] === 0) continue;
    const meanA = ta.sum[l] / n;
    const meanB = tb.sum[l] / n;
    const freqA = ta.fired[l] / n;
    const freqB = tb.fired[l] / n;
    out.push({
      latent: l,
      meanA,
      meanB,
      meanDelta: meanB - meanA,
      freqA,
      freqB,
      freqDelta: freqB - freqA,
      maxDelta: maxDelta[l],
      maxAt: { prompt: Math.max(0, maxPrompt[l]), token: maxToken[l] },
    });
  }
  return out;
}

export function metricValue(d: LatentDiff, metric: DiffMetric): number {
  return metric === 'mean' ? d.meanDelta : metric === 'frequency' ? d.freqDelta : d.maxDelta;
}

/** The top `n` latents by `metric` in `order`; ties broken by latent id so the ranking is reproducible. */
export function rankDiffs(diffs: LatentDiff[], metric: DiffMetric, order: DiffOrder = 'abs', n = 20): LatentDiff[] {
  const key = (d: LatentDiff) => {
    const v = metricValue(d, metric);
    return order === 'abs' ? Math.abs(v) : order === 'increase' ? v : -v;
  };
  return [...diffs].sort((x, y) => key(y) - key(x) || x.latent - y.latent).slice(0, n);
}
