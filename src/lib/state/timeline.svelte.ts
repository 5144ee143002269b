// The lab's early-warning timeline: the recipe's files (variants.json's chain, the classifier, the golden figures)
// read for the loaded model folder, the page's own run over the shipped checkpoints, its progress and cancel, and
// the last result kept in local storage. The user's choices (seeds, prompt count) live in the lab view (the URL).
import type { LabEngine } from '../engine/api';
import { loadVoiceClassifier, type VoiceClassifier } from '../lab/classifier';
import { LabFileFormatError } from '../lab/errors';
import { loadEmergenceGolden, type EmergenceGolden, type GoldenCheckpoint } from '../lab/golden';
import { runTimeline, type CheckpointReading, type TimelineProgress } from '../lab/runTimeline';
import { chosen, saeTopK, timelineManifest, timelinePlan } from '../lab/timelinePlan';
import type { LabView } from '../lab/url';
import type { VariantsManifest } from '../lab/variants';
import type { RunStatus } from './lab.svelte';

const STORAGE_KEY = 'persona-playground:lab-timeline:v1';

/** What the page measured, with the choices it ran with (kept across a reload; continuations' ids dropped). */
export interface TimelineResult {
  /** variants.json the run read. */
  manifest: string;
  persona: string;
  seeds: number[];
  prompts: number;
  readings: Omit<CheckpointReading, 'continuations'>[];
  continuations: { step: number; prompt: string; seed: number; text: string; label: string }[];
  latentStep: number | null;
  behaviourStep: number | null;
  ms: number;
}

/** The recipe's side: its chain (shipped or not) with its figures, and its own early warning. */
export interface RecipeFigures {
  manifest: string;
  golden: EmergenceGolden;
  /** The whole chain in step order, each with the recipe's figures when the golden file has the step. */
  chain: { step: number; shipped: boolean; figures: GoldenCheckpoint | null }[];
}

function message(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error);
}

/** The lab state the timeline reads (a structural slice of Lab, so the two stay loosely coupled). */
export interface TimelineHost {
  view: LabView;
  variants: VariantsManifest | null;
}

/** The SAE the playground reads the model with: where checkpoints are read when variants.json names no shared SAE. */
export interface TimelineSae {
  url: string | null;
  dSae: number | null;
}

/**
 * The timeline's session state, held by the lab (`lab.timeline`). `loadRecipe` reads the recipe's chain for the chart,
 * `run` reads every shipped checkpoint (errors land in `error`/`errorName`; a file error leaves the status and the
 * last result as they were), `cancel` stops it and releases the checkpoint's worker, `save` keeps the result.
 */
export class Timeline {
  readonly #host: TimelineHost;
  readonly #createEngine: () => LabEngine;
  readonly #storage: Storage | null;
  readonly #modelVocab: () => number | null;
  #abort: AbortController | null = null;
  #classifier: { url: string; vocab: number | null; value: VoiceClassifier } | null = null;

  status = $state<RunStatus>('idle');
  progress = $state.raw<TimelineProgress | null>(null);
  error = $state<string | null>(null);
  /** The typed error's name (e.g. `LabFileFormatError`), for the page and its tests. */
  errorName = $state<string | null>(null);
  /** Readings of the run in progress, as they arrive. */
  partial = $state.raw<CheckpointReading[]>([]);
  result = $state.raw<TimelineResult | null>(null);
  recipe = $state.raw<RecipeFigures | null>(null);
  /** Models the timeline's own engine holds now (0 when idle: released). */
  models = $state(0);

  constructor(host: TimelineHost, createEngine: () => LabEngine, modelVocab: () => number | null, storage: Storage | null) {
    this.#host = host;
    this.#createEngine = createEngine;
    this.#modelVocab = modelVocab;
    this.#storage = storage;
    try {
      const stored = JSON.parse(storage?.getItem(STORAGE_KEY) ?? 'null') as TimelineResult | null;
      if (stored && Array.isArray(stored.readings) && typeof stored.manifest === 'string') {
        this.result = stored;
        this.status = 'done';
      }
    } catch {
      // A corrupt entry is dropped.
    }
  }

  /** Writes the last result to local storage (called with the lab's own save). */
  save(): void {
    try {
      if (this.result) this.#storage?.setItem(STORAGE_KEY, JSON.stringify(this.result));
    } catch {
      // A full quota: the choices are still in the URL.
    }
  }

  /** The seeds and prompts a run uses now: the user's choices, else the manifest's. */
  choices(): { seeds: number[]; prompts: string[] } {
    return chosen(this.#host.variants, this.#host.view);
  }

  async #golden(url: string, dSae: number | null): Promise<EmergenceGolden> {
    return loadEmergenceGolden(url, { vocabSize: this.#modelVocab() ?? undefined, dSae: dSae ?? undefined });
  }

  /** Reads the recipe's chain and figures for the chart (before any run). Errors show as the timeline's error. */
  async loadRecipe(dSae: number | null): Promise<void> {
    try {
      const m = timelineManifest(this.#host.variants);
      if (this.recipe?.manifest === m.url) return;
      const golden = await this.#golden(m.golden, dSae);
      const byStep = new Map(golden.checkpoints.map((c) => [c.step, c]));
      const steps = [...new Set([...m.checkpoints.map((c) => c.step), ...golden.checkpoints.map((c) => c.step)])].sort((a, b) => a - b);
      const shipped = new Set(m.checkpoints.filter((c) => c.folder).map((c) => c.step));
      this.recipe = { manifest: m.url, golden, chain: steps.map((step) => ({ step, shipped: shipped.has(step), figures: byStep.get(step) ?? null })) };
      if (this.status !== 'running' && this.errorName === 'LabFileFormatError') this.#setError(null);
    } catch (error) {
      this.#setError(error);
    }
  }

  #setError(error: unknown): void {
    this.error = error === null ? null : message(error);
    this.errorName = error instanceof Error ? error.name : null;
  }

  /** Runs the page's side over the shipped checkpoints. Bad files stop it before any model loads; the choices and the last result stay. */
  async run(sae: TimelineSae): Promise<void> {
    if (this.status === 'running') return;
    const abort = new AbortController();
    let previous: RunStatus = this.status;
    try {
      const m = timelineManifest(this.#host.variants);
      const vocab = this.#modelVocab();
      const { seeds, prompts } = this.choices();
      const saeUrl = m.sae ?? sae.url;
      if (!saeUrl) throw new LabFileFormatError(m.url, '"sae" (no SAE is loaded to read the checkpoints with)', 'nothing');
      const [classifier, golden, k] = await Promise.all([this.#loadClassifier(m.classifier, vocab), this.#golden(m.golden, sae.dSae), saeTopK(saeUrl)]);
      const plan = timelinePlan(m, classifier, golden, this.#host.view, saeUrl, k);
      const checkpoints = plan.checkpoints;
      previous = 'running';
      this.#abort = abort;
      this.status = 'running';
      this.#setError(null);
      this.partial = [];
      this.progress = { done: 0, total: checkpoints.length, stage: 'Starting', unitsDone: 0, unitsTotal: 1, etaMs: null };
      const outcome = await runTimeline(
        this.#createEngine,
        plan,
        { signal: abort.signal, onProgress: (p) => (this.progress = p), onModels: (n) => (this.models = n), onReading: (r) => (this.partial = [...this.partial, r]) },
      );
      this.result = {
        manifest: m.url,
        persona: m.persona,
        seeds,
        prompts: prompts.length,
        readings: outcome.readings.map(({ continuations: _, ...r }) => r),
        continuations: outcome.readings.flatMap((r) => r.continuations.map((c) => ({ step: r.step, prompt: prompts[c.prompt], seed: c.seed, text: c.text, label: c.label }))),
        latentStep: outcome.latentStep,
        behaviourStep: outcome.behaviourStep,
        ms: outcome.ms,
      };
      this.status = 'done';
    } catch (error) {
      this.status = abort.signal.aborted ? 'cancelled' : previous === 'running' ? 'error' : previous;
      this.#setError(error);
    } finally {
      if (this.#abort === abort) this.#abort = null;
    }
  }

  /** Stops a run: its engine is disposed at once and `run` ends with status `cancelled`. */
  cancel(): void {
    this.#abort?.abort();
  }

  async #loadClassifier(url: string, vocab: number | null): Promise<VoiceClassifier> {
    const c = this.#classifier;
    if (c && c.url === url && c.vocab === vocab) return c.value;
    const value = await loadVoiceClassifier(url, vocab);
    this.#classifier = { url, vocab, value };
    return value;
  }
}

