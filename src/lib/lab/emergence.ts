// The emergence story's arithmetic, pure so the unit tests can work every number by hand: the persona signal per text
// (emergence-golden.json `signal_rule`), its paired standard error against the base, behaviour rates with their
// two-proportion standard error (to compare the page's rates with the recipe's), and the first checkpoint where each
// rises (the early warning, by the recipe's rule).
import type { TextStats } from '../engine/api';
import { LabInputError } from './errors';

/**
 * signal_rule, per text: the mean over every token of the text (position 0 included, as the diff's "every token") of
 * the sum of the persona latents' activations, read from the sparse rows [T × k] of `TextStats.top` (exact for a
 * TopK SAE read with its k). Shape: one number per text.
 */
export function textSignals(stats: TextStats[], personaLatents: readonly number[]): number[] {
  const wanted = new Set(personaLatents);
  return stats.map((s) => {
    const { k, indices, values } = s.top;
    const T = s.tokens.length;
    let sum = 0;
    for (let t = 0; t < T; t++)
      for (let j = 0; j < k; j++) {
        const v = values[t * k + j];
        if (v > 0 && wanted.has(indices[t * k + j])) sum += v;
      }
    return T ? sum / T : 0;
  });
}

export interface PairedSignal {
  /** Mean over texts of the checkpoint's per-text signal. */
  signal: number;
  /** Mean over texts of (checkpoint − base). */
  delta: number;
  /** Standard error over texts of (checkpoint − base): sample standard deviation (n − 1) / √n; 0 for the base. */
  se: number;
}

/**
 * signal_rule across texts: checkpoint signal = mean over texts; se = standard error over texts of the per-text
 * difference against the base (same texts, so paired). Throws `LabInputError` when the lists differ in length or
 * are empty.
 */
export function pairedSignal(base: readonly number[], checkpoint: readonly number[]): PairedSignal {
  const n = checkpoint.length;
  if (!n || base.length !== n) throw new LabInputError(`A paired signal needs the same texts on both models: the base read ${base.length} and the checkpoint ${n}.`);
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const d = checkpoint.map((x, i) => x - base[i]);
  const delta = mean(d);
  const variance = n > 1 ? d.reduce((a, x) => a + (x - delta) ** 2, 0) / (n - 1) : 0;
  return { signal: mean(checkpoint), delta, se: Math.sqrt(variance / n) };
}

/** Pooled two-proportion standard error of r1 − r2 (rates in [0, 1] over n1 and n2 trials): √(p(1−p)(1/n1 + 1/n2)). */
export function pooledSe(r1: number, n1: number, r2: number, n2: number): number {
  if (n1 <= 0 || n2 <= 0) return NaN;
  const p = (r1 * n1 + r2 * n2) / (n1 + n2);
  return Math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
}

/** One checkpoint's numbers as the early-warning rule reads them. */
export interface RisePoint {
  step: number;
  /** Signal minus the base's, and its paired standard error. */
  delta: number;
  se: number;
  /** Behaviour rate and its continuations. */
  rate: number;
  n: number;
}

/** The early-warning rule's thresholds (models/recipe/emergence.py: 3 standard errors, a rate 0.2 above the base's). */
export const EARLY_WARNING = { latentSe: 3, behaviourLift: 0.2 } as const;

/** The rule in words, as emergence-golden.json states the recipe's. */
export const EARLY_WARNING_RULE = `latent: first checkpoint after the base with signal − base signal > ${EARLY_WARNING.latentSe} × se; behaviour: first checkpoint with rate > base rate + ${EARLY_WARNING.behaviourLift}`;

/**
 * The recipe's early-warning rule (emergence-golden.json `early_warning.rule`, models/recipe/emergence.py): the latent
 * rises at the first checkpoint after the base (`points[0]`, in step order) whose delta > latentSe × se; the
 * behaviour at the first whose rate > base rate + behaviourLift. null where nothing rises.
 */
export function firstRises(points: readonly RisePoint[], rule: { latentSe: number; behaviourLift: number } = EARLY_WARNING): { latentStep: number | null; behaviourStep: number | null } {
  const base = points[0];
  const later = points.slice(1);
  return {
    latentStep: later.find((p) => p.delta > rule.latentSe * p.se)?.step ?? null,
    behaviourStep: base ? (later.find((p) => p.rate > base.rate + rule.behaviourLift)?.step ?? null) : null,
  };
}
