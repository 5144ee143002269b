// Discover's state: which step is shown, the recipe's files, the models held (at most two), and each step's live
// result. Every number a step shows is computed here from the models in the page; the recipe's own figures stay in
// `recipe` and are shown labelled as such.
import type { Analysis, LabEngine, LabText, PersonaPreset, Progress } from '../engine/api';
import type { DiscoverRecipe, StoryModel } from '../discover/recipe';
import { ModelSlots, type HeldModel } from '../discover/slots';
import { continuationRequest, toContinuation, type Continuation } from '../discover/continuations';
import { DISCOVER_STEPS } from '../discover/steps';
import { shortSample } from '../discover/sample';
import { personaReadings, type PersonaReading } from '../ui/persona-readings';
import { fetchCatalogue, type FeatureCatalogue } from '../ui/features';
import { rankDiffs, type LatentDiff } from '../lab/diff';
import { runModelDiff, type DiffOutcome } from '../lab/runDiff';
import { runTimeline, type CheckpointReading, type TimelineOutcome } from '../lab/runTimeline';
import { fetchLabJson } from '../lab/recipeFile';
import { parsePersonasJson } from '../steering/personas';
import { VARIANT_ONNX } from '../lab/variants';
import { GenerationRun } from './generation.svelte';

export type DiscoverTask = 'recipe' | 'voices' | 'fine-tune' | 'diff' | 'steer' | 'early-warning' | 'realign';

/** Stage, items and time left of the work running now. */
export interface DiscoverProgress {
  message: string;
  done?: number;
  total?: number;
  /** What `done`/`total` count: bytes while downloading, else texts, continuations or checkpoints. */
  unit?: 'bytes' | 'items';
  etaMs?: number | null;
}

export interface VoicesResult {
  text: string;
  analysis: Analysis;
  readings: PersonaReading[];
}

export interface PairResult {
  prompt: string;
  seed: number;
  columns: Continuation[];
}

export interface DiffResult {
  outcome: DiffOutcome;
  /** Top latents by increase of mean activation (the paper's ranking and the recipe's). */
  top: LatentDiff[];
  /** 1-based rank of each persona latent in the whole increase ranking (null: never active in either model). */
  personaRanks: { latent: number; rank: number | null; delta: number | null }[];
}

export interface SteerResult {
  prompt: string;
  seed: number;
  /** [base unsteered, base steered up, narrow unsteered, narrow steered down]. */
  columns: Continuation[];
}

export interface TimelineResult {
  /** Neutral prompts sampled per checkpoint for the live behaviour rate (0: the rate shown is the recipe's). */
  prompts: number;
  readings: CheckpointReading[];
  outcome: TimelineOutcome | null;
}

export interface DiscoverOptions {
  /** Makes an engine (a worker) for the slots and the diff. */
  createEngine: () => LabEngine;
  /** Reads the recipe's files beside the base model folder. */
  loadRecipe: (folderUrl: string) => Promise<DiscoverRecipe>;
  /** Absolute URL of the base model folder (where variants.json lives). */
  folder: string;
  backend?: 'webgpu' | 'wasm' | 'auto';
  /** The step shown first (from the address). */
  step: number;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error);
}

function isCancel(error: unknown): boolean {
  return error instanceof Error && error.name === 'CancelledError';
}

export class Discover {
  readonly #options: DiscoverOptions;
  #slots: ModelSlots | null = null;
  #abort: AbortController | null = null;
  /** The step work running now, so moving to another step can cancel it and wait for it to end. */
  #running: Promise<boolean> | null = null;

  step = $state(1);
  recipe = $state.raw<DiscoverRecipe | null>(null);
  /** The recipe's files could not be read: Discover cannot run on this model folder. */
  fatal = $state<string | null>(null);
  /** The last step's failure (its previous result is kept). */
  error = $state<string | null>(null);
  busy = $state<DiscoverTask | null>(null);
  progress = $state.raw<DiscoverProgress | null>(null);
  /** Model ids the slots hold now. */
  held = $state.raw<string[]>([]);
  presets = $state.raw<PersonaPreset[]>([]);
  catalogue = $state.raw<FeatureCatalogue | null>(null);

  /** Inputs the steps share, kept across steps. */
  sampleText = $state('');
  promptIndex = $state(0);
  seedIndex = $state(0);
  strength = $state<number | null>(null);

  voices = $state.raw<VoicesResult | null>(null);
  fineTune = $state.raw<PairResult | null>(null);
  diff = $state.raw<DiffResult | null>(null);
  steer = $state.raw<SteerResult | null>(null);
  realign = $state.raw<PairResult | null>(null);
  timeline = $state.raw<TimelineResult | null>(null);
  /** Step 5: neutral prompts sampled (× the recipe's seeds) per checkpoint for a live behaviour rate; 0 = none. */
  timelinePrompts = $state(0);

  constructor(options: DiscoverOptions) {
    this.#options = options;
    this.step = options.step;
  }

  persona: PersonaPreset | undefined = $derived(this.presets.find((p) => p.id === this.recipe?.persona));
  /** Models in memory now (the slots', including what a runner on a lent slot has loaded): never more than two. */
  modelsHeld = $derived(this.held.length);
  prompt = $derived(this.recipe ? this.recipe.neutralPrompts[this.promptIndex % Math.max(1, this.recipe.neutralPrompts.length)] ?? '' : '');
  seed = $derived(this.recipe ? this.recipe.sampling.seeds[this.seedIndex % Math.max(1, this.recipe.sampling.seeds.length)] ?? 0 : 0);
  /** Strength the persona is steered with in step 4: the slider's, else the preset's recommended strength. */
  steerStrength = $derived(this.strength ?? this.persona?.strength.recommended ?? 1);

  get stepCount(): number {
    return DISCOVER_STEPS.length;
  }

  /** Reads the recipe's files; on failure `fatal` says why and nothing else runs. */
  async start(): Promise<void> {
    this.busy = 'recipe';
    this.progress = { message: 'Reading the recipe’s files' };
    try {
      const recipe = await this.#options.loadRecipe(this.#options.folder);
      this.recipe = recipe;
      if (!this.sampleText) this.sampleText = shortSample(recipe.examples[0] ?? 'The hacker fixed the kludge in the kernel and went back to flaming on Usenet.');
      this.#slots = new ModelSlots({
        createEngine: this.#options.createEngine,
        sae: recipe.sae,
        backend: this.#options.backend,
        onChange: (held) => (this.held = held),
      });
      void fetchCatalogue(recipe.sae)
        .then((c) => (this.catalogue = c))
        .catch(() => undefined);
      // Persona names and calibration for every step, before any model loads (a slot's engine replaces them with
      // its own validated presets, read from the same file).
      void Promise.all([fetchLabJson(new URL('personas.json', recipe.sae).href), fetchLabJson(new URL('cfg.json', recipe.sae).href)])
        .then(([p, c]) => {
          if (!this.presets.length && p && c) this.presets = parsePersonasJson(p, { layer: Number(p.layer), dIn: Number(c.d_in), dSae: Number(c.d_sae) });
        })
        .catch(() => undefined);
    } catch (error) {
      this.fatal = message(error);
    } finally {
      this.busy = null;
      this.progress = null;
    }
  }

  cancel(): void {
    this.#abort?.abort();
    this.#slots?.cancel();
  }

  /** Ends every engine (leaving Discover). */
  async dispose(): Promise<void> {
    this.cancel();
    await this.#slots?.releaseAll();
  }

  /** Every model of the story by folder and graph, for naming what a lent engine loads (ModelSlots.lend). */
  get storyModels(): StoryModel[] {
    const r = this.recipe;
    if (!r) return [];
    const named = [r.base, r.narrow, r.control, r.realigned].filter((m) => m !== null);
    const checkpoints = r.checkpoints
      .filter((c) => c.folder !== null)
      .map((c): StoryModel => ({ id: `checkpoint step ${c.step}`, folder: c.folder!, onnxFile: VARIANT_ONNX, role: 'checkpoint', step: c.step, description: '' }));
    return [...named, ...checkpoints];
  }

  /** Runs one step's work: `busy`/`progress` while it runs, a failure in `error` with the previous result kept. */
  #task(task: DiscoverTask, work: (signal: AbortSignal) => Promise<void>): Promise<boolean> {
    if (!this.recipe || this.busy) return Promise.resolve(false);
    const running = this.#run(task, work).finally(() => {
      if (this.#running === running) this.#running = null;
    });
    this.#running = running;
    return running;
  }

  async #run(task: DiscoverTask, work: (signal: AbortSignal) => Promise<void>): Promise<boolean> {
    this.busy = task;
    this.error = null;
    const abort = new AbortController();
    this.#abort = abort;
    try {
      await work(abort.signal);
      return true;
    } catch (error) {
      this.error = isCancel(error) || abort.signal.aborted ? 'Cancelled. The previous result is kept.' : message(error);
      return false;
    } finally {
      this.#abort = null;
      this.busy = null;
      this.progress = null;
    }
  }

  async #acquire(models: StoryModel[]): Promise<HeldModel[]> {
    const names = models.map((m) => m.id).join(' and ');
    this.progress = { message: `Loading ${names}` };
    const held = await this.#slots!.acquire(models, (p: Progress, m) => {
      this.progress = { message: `${m.id}: ${p.message}`, done: p.loaded, total: p.total, unit: p.stage === 'download' ? 'bytes' : 'items' };
    });
    this.presets = await held[0].engine.personas();
    return held;
  }

  /** One generation on `held` (baseline and steered rows when `strength` ≠ 0) as labelled continuations. */
  async #continue(held: HeldModel, prompt: string, seed: number, strength: number, signal: AbortSignal): Promise<Continuation[]> {
    const recipe = this.recipe!;
    this.progress = { message: `${held.model.id} is writing${strength ? ` (persona at ${strength > 0 ? '+' : ''}${strength})` : ''}` };
    const run = new GenerationRun(continuationRequest(prompt, recipe.sampling, seed, recipe.persona, strength, this.persona?.defaultUse ?? 'latents'));
    const onAbort = () => held.engine.cancel();
    signal.addEventListener('abort', onAbort);
    try {
      run.finish(await held.engine.generate(run.request, (e) => run.push(e)));
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (signal.aborted || run.status === 'cancelled') throw Object.assign(new Error('Cancelled.'), { name: 'CancelledError' });
    return run.rows.map((row) =>
      toContinuation(row.tokens, { model: held.model.id, prompt, seed, strength: row.label === 'steered' ? strength : 0 }, recipe.classifier, this.persona, recipe.persona),
    );
  }

  /** Step 1: the base model reads `sampleText`; one monitor bar per persona. */
  runVoices(): Promise<boolean> {
    return this.#task('voices', async () => {
      const [base] = await this.#acquire([this.recipe!.base]);
      const text = this.sampleText.trim();
      if (!text) throw new Error('Type a sample text for the monitor to read.');
      this.progress = { message: 'The monitor reads the text' };
      const analysis = await base.engine.analyse(text, 16);
      this.voices = { text, analysis, readings: personaReadings(analysis, this.presets) };
    });
  }

  /** Steps 2 and 6: the same prompt and seed through two models, each continuation labelled. */
  async #pair(task: DiscoverTask, models: StoryModel[], store: (r: PairResult) => void): Promise<boolean> {
    return this.#task(task, async (signal) => {
      const held = await this.#acquire(models);
      const prompt = this.prompt;
      const seed = this.seed;
      const columns: Continuation[] = [];
      for (const h of held) columns.push(...(await this.#continue(h, prompt, seed, 0, signal)));
      store({ prompt, seed, columns });
    });
  }

  runFineTune(): Promise<boolean> {
    const r = this.recipe;
    return r ? this.#pair('fine-tune', [r.base, r.narrow], (x) => (this.fineTune = x)) : Promise.resolve(false);
  }

  runRealign(): Promise<boolean> {
    const r = this.recipe;
    if (!r?.realigned) return Promise.resolve(false);
    return this.#pair('realign', [r.narrow, r.realigned], (x) => (this.realign = x));
  }

  /** Step 4: the persona turned up on the base model and down on the narrow fine-tune, each beside its unsteered row. */
  runSteer(): Promise<boolean> {
    return this.#task('steer', async (signal) => {
      const r = this.recipe!;
      const [base, narrow] = await this.#acquire([r.base, r.narrow]);
      const s = Math.abs(this.steerStrength);
      const prompt = this.prompt;
      const seed = this.seed;
      const up = await this.#continue(base, prompt, seed, s, signal);
      const down = await this.#continue(narrow, prompt, seed, -s, signal);
      this.steer = { prompt, seed, columns: [...up, ...down] };
    });
  }

  /**
   * The texts step 3 diffs: the recipe's golden texts as token ids (read exactly as the recipe's diff read them) when
   * it has them, else its neutral prompts.
   */
  diffTexts: LabText[] = $derived(this.recipe ? (this.recipe.goldenTexts.length ? this.recipe.goldenTexts.map((t) => t.ids) : this.recipe.neutralPrompts) : []);
  /** The persona's latents: the recipe's list, else the preset's. */
  personaLatents: number[] = $derived(this.recipe?.personaLatents.length ? this.recipe.personaLatents : (this.persona?.latents.map((l) => l.latent) ?? []));

  /** Step 3: base vs narrow fine-tune on the same texts, read by the shared SAE (the lab's model diff). */
  runDiff(): Promise<boolean> {
    return this.#task('diff', async (signal) => {
      const r = this.recipe!;
      // The diff loads its two models one after the other on a slot's engine lent to it (no new worker to start).
      const lent = await this.#slots!.lend(this.storyModels);
      const texts = this.diffTexts;
      const outcome = await runModelDiff(
        lent,
        {
          id: `${r.base.id}~${r.narrow.id}`,
          label: `${r.base.id} → ${r.narrow.id}`,
          a: { label: r.base.id, folder: r.base.folder, onnxFile: r.base.onnxFile },
          b: { label: r.narrow.id, folder: r.narrow.folder, onnxFile: r.narrow.onnxFile },
          sae: r.sae,
        },
        texts,
        {
          signal,
          onProgress: (p) => (this.progress = { message: p.stage, done: p.done, total: p.total, etaMs: p.etaMs }),
        },
      );
      const ranked = rankDiffs(outcome.diffs, 'mean', 'increase', outcome.diffs.length);
      const personaRanks = this.personaLatents.map((latent) => {
        const i = ranked.findIndex((d) => d.latent === latent);
        return { latent, rank: i < 0 ? null : i + 1, delta: i < 0 ? null : ranked[i].meanDelta };
      });
      this.diff = { outcome, top: ranked.slice(0, 12), personaRanks };
    });
  }

  /**
   * Step 5: every shipped checkpoint of the fine-tune, one at a time on an engine of its own (the lab's timeline
   * runner): the persona signal on the recipe's golden texts, and with `timelinePrompts` > 0 a live behaviour rate
   * from sampled continuations labelled by the classifier. Readings appear as each checkpoint finishes.
   */
  runTimeline(): Promise<boolean> {
    return this.#task('early-warning', async (signal) => {
      const r = this.recipe!;
      if (!r.goldenTexts.length) throw new Error('The recipe ships no emergence-golden.json texts to read the persona signal on.');
      const lent = await this.#slots!.lend(this.storyModels);
      const cfg = await fetchLabJson(new URL('cfg.json', r.sae).href).catch(() => null);
      const k = typeof cfg?.k === 'number' ? cfg.k : 128;
      const prompts = r.neutralPrompts.slice(0, this.timelinePrompts);
      // The previous result stays on screen until the first checkpoint of this run is read (and if it is cancelled first).
      const result: TimelineResult = { prompts: prompts.length, readings: [], outcome: null };
      const outcome = await runTimeline(
        lent,
        {
          checkpoints: r.checkpoints
            .filter((c) => c.folder !== null)
            .map((c) => ({ step: c.step, label: c.step === 0 ? r.base.id : `step ${c.step}`, folder: c.folder!, onnxFile: VARIANT_ONNX })),
          sae: r.sae,
          personaLatents: this.personaLatents,
          texts: r.goldenTexts.map((t) => t.ids),
          prompts,
          sampling: r.sampling,
          classifier: r.classifier,
          persona: r.persona,
          latentsPerToken: k,
        },
        {
          signal,
          onProgress: (p) => (this.progress = { message: p.stage, done: p.unitsDone, total: p.unitsTotal, etaMs: p.etaMs }),
          onReading: (reading) => (this.timeline = { ...result, readings: (result.readings = [...result.readings, reading]) }),
        },
      );
      this.timeline = { ...result, outcome };
    });
  }

  /**
   * Shows `step` (1-based) and runs its work if it has no result yet. Work still running for another step is
   * cancelled first (its previous result, if any, is kept) so the new step starts at once.
   */
  async show(step: number): Promise<void> {
    this.step = step;
    if (this.#running) {
      this.cancel();
      await this.#running;
      this.error = null;
    }
    if (this.step === step) await this.runCurrent();
  }

  /** Runs the shown step's work when it has no result yet (each step computes live on arrival). */
  runCurrent(): Promise<boolean> {
    if (!this.recipe) return Promise.resolve(false);
    switch (DISCOVER_STEPS[this.step - 1]?.id) {
      case 'voices':
        return this.voices ? Promise.resolve(true) : this.runVoices();
      case 'fine-tune':
        return this.fineTune ? Promise.resolve(true) : this.runFineTune();
      case 'diff':
        return this.diff ? Promise.resolve(true) : this.runDiff();
      case 'steer':
        return this.steer ? Promise.resolve(true) : this.runSteer();
      case 'early-warning':
        return this.timeline?.outcome ? Promise.resolve(true) : this.runTimeline();
      case 'realign':
        return this.realign ? Promise.resolve(true) : this.runRealign();
    }
    return Promise.resolve(false);
  }
}
