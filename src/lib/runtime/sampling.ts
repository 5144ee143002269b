// Next-token choice from one row of logits: penalties, temperature, top-k, top-p, then a draw from a seeded PRNG.
// Pure functions over Float32Array so they are unit-tested without a model.
import type { Prng } from './prng';

export interface SamplingSettings {
  /** 0 = greedy (argmax; ties go to the lowest id). */
  temperature: number;
  /** Keep the k most likely tokens; 0 = off. */
  topK: number;
  /** Keep the smallest set whose probability reaches p; 1 = off. */
  topP: number;
  /** CTRL/HF style: logits of tokens already seen (prompt or output) divided by it if positive, else multiplied. 1 = off. */
  repetitionPenalty: number;
  /** OpenAI style: subtract penalty × count of the token among generated tokens. 0 = off. */
  frequencyPenalty: number;
}

export const GREEDY: SamplingSettings = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, frequencyPenalty: 0 };

/** Token occurrence counts for one row: `seen` covers prompt + output, `generated` only the output. */
export class TokenHistory {
  readonly seen = new Set<number>();
  readonly generated = new Map<number, number>();
  constructor(prompt: Iterable<number>) {
    for (const t of prompt) this.seen.add(t);
  }
  push(token: number): void {
    this.seen.add(token);
    this.generated.set(token, (this.generated.get(token) ?? 0) + 1);
  }
}

/** Applies repetition and frequency penalties in place. */
export function applyPenalties(logits: Float32Array, history: TokenHistory, s: SamplingSettings): void {
  if (s.repetitionPenalty !== 1)
    for (const t of history.seen) {
      if (t >= logits.length) continue;
      logits[t] = logits[t] > 0 ? logits[t] / s.repetitionPenalty : logits[t] * s.repetitionPenalty;
    }
  if (s.frequencyPenalty !== 0)
    for (const [t, count] of history.generated) if (t < logits.length) logits[t] -= s.frequencyPenalty * count;
}

export function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/**
 * The candidates a sampled (temperature > 0) choice draws from, for already penalised logits: ids in the CPU
 * sampler's order (logit descending, ties to the lower id), their unnormalised probabilities exp((l − max) / T) in
 * float64 for the top-k kept ones, and `cut`, how many of those top-p keeps (the smallest prefix whose cumulative
 * probability reaches p). The draw walks `order[0..cut)` subtracting `probs`. Shared with the GPU sampler's tests,
 * which locate the draw boundaries from it.
 */
export function keptDistribution(logits: Float32Array, s: SamplingSettings): { order: number[]; probs: Float64Array; cut: number } {
  const order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b);
  const keep = s.topK > 0 ? Math.min(s.topK, order.length) : order.length;
  const max = logits[order[0]];
  const probs = new Float64Array(keep);
  let total = 0;
  for (let i = 0; i < keep; i++) total += probs[i] = Math.exp((logits[order[i]] - max) / s.temperature);
  let cut = keep;
  if (s.topP < 1) {
    let cumulative = 0;
    for (let i = 0; i < keep; i++) {
      cumulative += probs[i] / total;
      if (cumulative >= s.topP) {
        cut = i + 1;
        break;
      }
    }
  }
  return { order, probs, cut };
}

/**
 * Picks the next token. `logits` is modified (penalties). Greedy never consumes a random number, so a greedy row
 * and a sampled row can share code paths without shifting each other's streams.
 */
export function sampleToken(logits: Float32Array, history: TokenHistory, s: SamplingSettings, rng: Pick<Prng, 'next'>): number {
  applyPenalties(logits, history, s);
  if (s.temperature <= 0) return argmax(logits);
  const { order, probs, cut } = keptDistribution(logits, s);
  let mass = 0;
  for (let i = 0; i < cut; i++) mass += probs[i];
  let r = rng.next() * mass;
  for (let i = 0; i < cut; i++) {
    r -= probs[i];
    if (r < 0) return order[i];
  }
  return order[cut - 1];
}
