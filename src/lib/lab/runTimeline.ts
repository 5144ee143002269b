// The early-warning timeline: each shipped checkpoint of the fine-tune's chain, one at a time on an engine of its own
// (ownEngine.ts), read for the persona's signal on the recipe's golden texts and sampled for its behaviour rate, so
// the page can show where the latent rises before the behaviour does, beside the recipe's own figures.
import type { LabEngine, SamplingOptions } from '../engine/api';
import { labelContinuation, type VoiceClassifier } from './classifier';
import { firstRises, pairedSignal, textSignals } from './emergence';
import { withOwnEngine, type OwnEngineHooks } from './ownEngine';
import type { SamplingSpec } from './variants';

/** A shipped checkpoint the page reads. */
export interface TimelineCheckpoint {
  step: number;
  label: string;
  /** Absolute folder URL ending in `/`. */
  folder: string;
  onnxFile?: string;
}

export interface TimelinePlan {
  /** Shipped checkpoints in step order; the first is the base every signal is paired with. */
  checkpoints: TimelineCheckpoint[];
  /** Absolute SAE folder URL (shared by every checkpoint). */
  sae: string;
  /** Latents (d_sae ids) whose summed activation is the persona's signal (emergence-golden.json `persona_latents`). */
  personaLatents: number[];
  /** The golden texts as token ids, read as given. */
  texts: number[][];
  /** The prompts continuations are sampled from, one per prompt and seed. */
  prompts: string[];
  sampling: SamplingSpec;
  classifier: VoiceClassifier;
  /** The classifier's voice id that counts as the behaviour (variants.json `persona`). */
  persona: string;
  /** Latents read per token: the TopK SAE's k, so the sums are exact. */
  latentsPerToken: number;
}

export interface Continuation {
  prompt: number;
  seed: number;
  text: string;
  /** Generated ids, special tokens excluded (what the classifier read). */
  ids: number[];
  label: string;
}

export interface CheckpointReading {
  step: number;
  label: string;
  /** Per golden text: signal_rule's per-text value. */
  textSignals: number[];
  /** Mean over texts; delta and its paired standard error against the base (0 for the base itself). */
  signal: number;
  delta: number;
  se: number;
  /** Share of continuations labelled `persona`, and how many there were. */
  rate: number;
  n: number;
  /** Continuations per label (voices and `unclear`). */
  labels: Record<string, number>;
  continuations: Continuation[];
}

export interface TimelineProgress {
  /** Checkpoints finished, of `total`. */
  done: number;
  total: number;
  stage: string;
  /** Work units (golden-text batches and continuations) finished and in all, for the bar and the estimate. */
  unitsDone: number;
  unitsTotal: number;
  /** Estimated milliseconds left from the pace so far, model loads included (null before the first unit). */
  etaMs: number | null;
}

export interface TimelineOutcome {
  readings: CheckpointReading[];
  /** The first shipped checkpoint where the latent and the behaviour rise by the page's numbers (`firstRises`). */
  latentStep: number | null;
  behaviourStep: number | null;
  ms: number;
}

export interface TimelineHooks extends OwnEngineHooks {
  onProgress?: (p: TimelineProgress) => void;
  /** Each checkpoint's reading as soon as it is done (the chart fills in as the run goes). */
  onReading?: (r: CheckpointReading) => void;
}

/** The engine's sampling options for the recipe's settings: temperature and top-k as given, nothing else on. */
export function samplingFor(spec: SamplingSpec, seed: number): SamplingOptions {
  return { maxNewTokens: spec.newTokens, temperature: spec.temperature, topK: spec.topK, topP: 1, repetitionPenalty: 1, frequencyPenalty: 0, seed };
}

/**
 * Reads every checkpoint of `plan` in turn, each on a fresh engine that is disposed before the next starts (one
 * checkpoint model in memory at a time). Per checkpoint: the golden texts through `textStats` (ids as given) for
 * signal_rule, then one continuation per prompt and seed with `samplingFor`, labelled by `labelContinuation` on the
 * generated ids (special tokens excluded). Aborting the signal disposes the current engine and rejects with a
 * `CancelledError`. Engine errors (a missing checkpoint file, an id outside the vocabulary) are passed on.
 */
export async function runTimeline(createEngine: () => LabEngine, plan: TimelinePlan, hooks: TimelineHooks = {}): Promise<TimelineOutcome> {
  const t0 = performance.now();
  const perCheckpoint = 1 + plan.prompts.length * plan.sampling.seeds.length;
  const unitsTotal = perCheckpoint * plan.checkpoints.length;
  let unitsDone = 0;
  // Time left from the pace so far, loads included: checkpoints done plus the share of the current one's units.
  const report = (done: number, stage: string) => {
    const progress = unitsDone / perCheckpoint;
    const etaMs = progress > 0 ? ((performance.now() - t0) / progress) * (plan.checkpoints.length - progress) : null;
    hooks.onProgress?.({ done, total: plan.checkpoints.length, stage, unitsDone, unitsTotal, etaMs });
  };
  const readings: CheckpointReading[] = [];
  for (const [i, cp] of plan.checkpoints.entries()) {
    const reading = await withOwnEngine(createEngine, hooks, `The timeline was cancelled after ${i} of ${plan.checkpoints.length} checkpoints; the checkpoint model was released.`, async (engine, check) => {
      report(i, `Loading step ${cp.step} (${cp.label})`);
      await engine.loadModel({ baseUrl: cp.folder, onnxFile: cp.onnxFile }, { backend: 'auto', quickStart: false });
      hooks.onModels?.(1);
      await engine.loadSae(plan.sae);
      check();
      report(i, `Step ${cp.step}: reading the golden texts`);
      const stats = await engine.textStats(plan.texts, { skipFirst: false, latentsPerToken: plan.latentsPerToken, residual: false });
      unitsDone++;
      const signals = textSignals(stats, plan.personaLatents);
      const continuations: Continuation[] = [];
      const labels: Record<string, number> = {};
      for (const [p, prompt] of plan.prompts.entries()) {
        for (const seed of plan.sampling.seeds) {
          check();
          report(i, `Step ${cp.step}: sampling continuation ${continuations.length + 1} of ${perCheckpoint - 1}`);
          const r = await engine.generate({
            prompt,
            sampling: samplingFor(plan.sampling, seed),
            steering: { terms: [], positions: 'all' },
            withBaseline: false,
            monitor: [],
            topK: 0,
          });
          const row = r.rows[0];
          const ids = row.tokens.filter((t) => !t.special).map((t) => t.id);
          const label = labelContinuation(plan.classifier, ids).label;
          labels[label] = (labels[label] ?? 0) + 1;
          continuations.push({ prompt: p, seed, text: row.text, ids, label });
          unitsDone++;
        }
      }
      const base = readings[0]?.textSignals ?? signals;
      const paired = pairedSignal(base, signals);
      const n = continuations.length;
      return { step: cp.step, label: cp.label, textSignals: signals, ...paired, rate: n ? (labels[plan.persona] ?? 0) / n : 0, n, labels, continuations };
    });
    readings.push(reading);
    hooks.onReading?.(reading);
    report(i + 1, i + 1 < plan.checkpoints.length ? 'Next checkpoint' : 'Done');
  }
  const rises = firstRises(readings.map((r) => ({ step: r.step, delta: r.delta, se: r.se, rate: r.rate, n: r.n })));
  return { readings, ...rises, ms: performance.now() - t0 };
}
