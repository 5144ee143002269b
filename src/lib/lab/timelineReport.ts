// The timeline's JSON export: the page's numbers and the recipe's for every step of the chain side by side, both
// early warnings, the choices the run used, and every continuation with its label, as a researcher would read it back.
import { EARLY_WARNING_RULE } from './emergence';
import type { GoldenCheckpoint } from './golden';

export interface TimelineReportInput {
  manifest: string;
  persona: string;
  seeds: number[];
  prompts: number;
  sampling: { temperature: number; topK: number; newTokens: number } | null;
  readings: { step: number; label: string; signal: number; delta: number; se: number; rate: number; n: number; labels: Record<string, number>; textSignals: number[] }[];
  continuations: { step: number; prompt: string; seed: number; text: string; label: string }[];
  latentStep: number | null;
  behaviourStep: number | null;
  /** The recipe's chain (steps in order, shipped or not) and its early warning; null when its file was not read. */
  recipe: { chain: { step: number; shipped: boolean; figures: GoldenCheckpoint | null }[]; latentStep: number | null; behaviourStep: number | null; rule: string } | null;
}

/**
 * One row per step of the chain (the union of the recipe's steps and the page's), `page` null where the page did not
 * read the step (not shipped), `recipe` null where the recipe has no figures for it. Signals are the signal_rule
 * values; `se` the paired standard error against the base; rates are shares of `n` continuations.
 */
export function timelineReport(r: TimelineReportInput): Record<string, unknown> {
  const steps = [...new Set([...(r.recipe?.chain.map((c) => c.step) ?? []), ...r.readings.map((x) => x.step)])].sort((a, b) => a - b);
  const reading = new Map(r.readings.map((x) => [x.step, x]));
  const link = new Map(r.recipe?.chain.map((c) => [c.step, c]) ?? []);
  return {
    format: 'persona-lab-timeline/1',
    variants: r.manifest,
    persona: r.persona,
    choices: { seeds: r.seeds, prompts: r.prompts },
    sampling: r.sampling,
    checkpoints: steps.map((step) => {
      const p = reading.get(step);
      const f = link.get(step)?.figures ?? null;
      return {
        step,
        shipped: link.get(step)?.shipped ?? p !== undefined,
        page: p ? { model: p.label, signal: p.signal, delta: p.delta, se: p.se, rate: p.rate, n: p.n, labels: p.labels, text_signals: p.textSignals } : null,
        recipe: f ? { signal: f.signal, signal_q4: f.signalQ4, se: f.se, rate: f.rate, n: f.n } : null,
      };
    }),
    early_warning: {
      page: { latent_step: r.latentStep, behaviour_step: r.behaviourStep, rule: `${EARLY_WARNING_RULE} (shipped checkpoints only)` },
      recipe: r.recipe ? { latent_step: r.recipe.latentStep, behaviour_step: r.recipe.behaviourStep, rule: r.recipe.rule } : null,
    },
    continuations: r.continuations,
  };
}
