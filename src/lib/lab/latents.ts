// Per-latent totals over a batch of texts, from the engine's sparse per-token rows (TextStats.top): what model
// diffing and persona decomposition both rank. Plain TypeScript, so the unit tests can recompute every number.
import type { TextStats } from '../engine/api';

export interface LatentTotals {
  /** Positions counted. */
  tokens: number;
  /** Sum of each latent's activation over the counted positions [dSae]. */
  sum: Float64Array;
  /** Positions where the latent is active (> 0) [dSae]. */
  fired: Float64Array;
}

/**
 * Sums the sparse rows of `stats` over positions `from(text)..T-1`: `'all'` counts every position, `'counted'`
 * starts at each text's `start` (the first token skipped, as for residual sums).
 */
export function latentTotals(stats: TextStats[], dSae: number, positions: 'all' | 'counted' = 'all'): LatentTotals {
  const sum = new Float64Array(dSae);
  const fired = new Float64Array(dSae);
  let tokens = 0;
  for (const s of stats) {
    const { k, indices, values } = s.top;
    const T = s.tokens.length;
    for (let t = positions === 'all' ? 0 : s.start; t < T; t++) {
      tokens++;
      for (let j = 0; j < k; j++) {
        const v = values[t * k + j];
        if (!(v > 0)) continue;
        const latent = indices[t * k + j];
        sum[latent] += v;
        fired[latent] += 1;
      }
    }
  }
  return { tokens, sum, fired };
}

/** Activation of `latent` at position t of a sparse row set (0 when not reported). */
export function activationAt(top: TextStats['top'], t: number, latent: number): number {
  for (let j = 0; j < top.k; j++) if (top.indices[t * top.k + j] === latent) return top.values[t * top.k + j];
  return 0;
}
