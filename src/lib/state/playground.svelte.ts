// The playground session: which model is loaded, the experiment being edited, the latest analysis and generation.
// The engine is injected, so the same class drives the app, the embed widget and the unit tests.

import type {
  PromptMode,
  Analysis,
  Backend,
  GenerateRequest,
  ModelInfo,
  PersonaPreset,
  PlaygroundEngine,
  Progress,
  SaeInfo,
  SteeringTerm,
} from '../engine/api';
import {
  activePersonaSteers,
  cloneExperiment,
  defaultExperiment,
  isSteered,
  type CustomPersona,
  type Experiment,
  type LatentSteer,
} from '../ui/experiment';
import { fetchCatalogue, rankLatents, summariseText, type FeatureCatalogue, type LatentSummary, type Ranking } from '../ui/features';
import { absoluteFolder, discoverSaes, layerHint, locateSae, resolveModel, saeFolder } from '../ui/models';
import { encodeExperiment } from '../ui/url-state';
import { effectivePromptMode } from '../ui/promptMode';
import { GenerationRun } from './generation.svelte';
import type { EngineNotice, NoticeSource } from '../worker/protocol';

export type LoadPhase = 'idle' | 'loading' | 'ready' | 'error';

export interface Notice {
  id: number;
  kind: 'error' | 'warning' | 'info';
  message: string;
}

/** Latents reported per token by analysis and generation. */
export const TOP_K = 16;

export interface PlaygroundOptions {
  /** Base URL that model folders are relative to (the page's base). */
  baseUrl: string;
  /** Persist the experiment somewhere (local storage in the app); called on every change by the owner. */
  fetchCatalogue?: typeof fetchCatalogue;
  /** Finds the SAE folder to load in a model folder (probing the server); injectable for tests. */
  locateSae?: typeof locateSae;
  discoverSaes?: typeof discoverSaes;
  /** Answer the first analysis on WASM while the WebGPU kernels compile (default true). */
  quickStart?: boolean;
  /** Backend for every model load: 'auto' (default) or forced by the page's `backend` URL key. */
  backend?: Backend | 'auto';
}

function message(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

export class Playground {
  readonly #engine: Promise<PlaygroundEngine>;
  readonly #options: PlaygroundOptions;
  #noticeId = 0;
  #analyseTicket = 0;

  experiment = $state<Experiment>(defaultExperiment());
  phase = $state<LoadPhase>('idle');
  progress = $state.raw<Progress | null>(null);
  model = $state.raw<ModelInfo | null>(null);
  sae = $state.raw<SaeInfo | null>(null);
  /** Id of the model whose weights the engine holds now. */
  loadedModel = $state<string | null>(null);
  presets = $state.raw<PersonaPreset[]>([]);
  catalogue = $state.raw<FeatureCatalogue | null>(null);
  /** SAE hooks found in the loaded model's folder, for the picker. */
  saeOptions = $state.raw<string[]>([]);
  analysis = $state.raw<Analysis | null>(null);
  analysedPrompt = $state<string | null>(null);
  /** How `analysedPrompt` was tokenised (plain text, or the user's turn of a chat). */
  analysedMode = $state<PromptMode>('text');
  analysing = $state(false);
  run = $state.raw<GenerationRun | null>(null);
  notices = $state<Notice[]>([]);

  constructor(engine: PlaygroundEngine | Promise<PlaygroundEngine>, options: PlaygroundOptions) {
    this.#engine = Promise.resolve(engine);
    this.#options = options;
    // An engine that cannot be created is an error message, not an unhandled rejection.
    this.#engine.then((e) => (e as Partial<NoticeSource>).onNotice?.((n) => this.#onNotice(n))).catch(() => undefined);
  }

  /** Device changes outside any call: the quick-start move to WebGPU, a lost GPU and its recovery. */
  #onNotice(notice: EngineNotice): void {
    if (notice.device && this.model) this.model = { ...this.model, device: notice.device };
    if (notice.kind === 'device-upgraded') {
      // Moving to the GPU is expected and shown by the device badge; only a failed move is worth a message.
      if (notice.device?.backend !== 'webgpu') this.notify('warning', notice.message);
      return;
    }
    this.notify(notice.kind === 'device-restored' ? 'info' : notice.kind === 'device-lost' ? 'warning' : 'error', notice.message);
  }

  ready = $derived(this.phase === 'ready');
  generating = $derived(this.run?.status === 'running');
  /** The text's latents (special tokens left out), strongest total first. */
  summaries: LatentSummary[] = $derived(this.analysis ? summariseText(this.analysis) : []);
  ranking: Ranking = $derived(rankLatents(this.summaries, this.catalogue));
  /** The latent colouring the token view: the chosen one, else the most specific non-dense one on the text. */
  colourLatent: number | null = $derived(this.experiment.selectedLatent ?? this.ranking.specific[0]?.latent ?? null);
  personaById = $derived(new Map(this.presets.map((p) => [p.id, p])));
  /** Personas whose monitor readings are requested: every active one plus the one the alert watches. */
  monitored: string[] = $derived.by(() => {
    const ids = activePersonaSteers(this.experiment)
      .map((p) => p.personaId)
      .filter((id) => this.personaById.has(id));
    const watched = this.experiment.watch?.personaId;
    if (watched && this.personaById.has(watched) && !ids.includes(watched)) ids.push(watched);
    return ids;
  });
  query: string = $derived(encodeExperiment(this.experiment));
  steered = $derived(isSteered(this.experiment));
  /** The prompt mode in force: chat only for a model with a chat template. */
  promptMode: PromptMode = $derived(effectivePromptMode(this.experiment, this.model));
  stale = $derived(this.analysedPrompt !== null && !this.#analysed(this.experiment.prompt, this.promptMode));

  notify(kind: Notice['kind'], text: string): void {
    this.notices = [...this.notices.filter((n) => n.message !== text), { id: ++this.#noticeId, kind, message: text }];
  }

  dismiss(id: number): void {
    this.notices = this.notices.filter((n) => n.id !== id);
  }

  /** Replaces the experiment (from a link or storage) before start-up. */
  restore(experiment: Experiment): void {
    this.experiment = cloneExperiment(experiment);
  }

  /** Loads the experiment's model and analyses its prompt. */
  async start(): Promise<void> {
    const ok = await this.loadModel(this.experiment.model);
    performance.mark('playground:analyse');
    if (ok) await this.analyse();
  }

  /**
   * Loads a model folder and its SAE. On failure the previous model (if any) stays selected and usable, and the
   * failure is shown as a message; returns whether the new model is loaded.
   */
  async loadModel(id: string, saeId = this.experiment.sae): Promise<boolean> {
    if (this.phase === 'loading') return false;
    const previous = { phase: this.phase, progress: this.progress };
    const entry = resolveModel(id);
    const base = this.#options.baseUrl;
    this.phase = 'loading';
    this.progress = { stage: 'download', message: `Opening ${entry.name}` };
    const onProgress = (p: Progress) => {
      this.progress = p;
      // Stage marks let the start-up benchmark say where the time goes.
      if (p.stage !== 'download' || p.loaded === undefined) performance.mark(`playground:${p.stage}`, { detail: p.message });
    };
    try {
      const engine = await this.#engine;
      if (this.generating) engine.cancel();
      const modelUrl = absoluteFolder(entry.folder, base);
      // Finding the SAE and reading its feature labels (here, on the page) overlap the model load (in the worker).
      const located = (this.#options.locateSae ?? locateSae)(modelUrl, saeId).then((sae) => ({
        sae,
        url: absoluteFolder(saeFolder(entry, sae), base),
      }));
      const catalogueLoad = located
        .then(({ url }) => (this.#options.fetchCatalogue ?? fetchCatalogue)(url))
        .then((catalogue) => ({ catalogue }), (error: unknown) => ({ catalogue: null, error }));
      located.catch(() => undefined);
      let modelLoaded = false;
      const modelLoad = engine.loadModel({ baseUrl: modelUrl }, { backend: this.#options.backend ?? 'auto', quickStart: this.#options.quickStart ?? true, layers: layerHint(saeId), onProgress });
      // The engine downloads the SAE during the model load; its progress shows once the model's is done.
      const saeLoad = located.then(({ url }) => engine.loadSae(url, (p) => modelLoaded && onProgress(p)));
      saeLoad.catch(() => undefined);
      const model = await modelLoad;
      modelLoaded = true;
      const { sae: chosenSae } = await located;
      const saeInfo = await saeLoad;
      performance.mark('playground:catalogue');
      const { catalogue, error: catalogueError } = (await catalogueLoad) as { catalogue: FeatureCatalogue | null; error?: unknown };
      if (catalogueError !== undefined) this.notify('warning', `Feature labels unavailable: ${message(catalogueError)}`);
      this.model = model;
      this.sae = saeInfo;
      for (const [kind, list] of [['warning', saeInfo.warnings], ['info', saeInfo.notes]] as const) for (const m of list ?? []) this.notify(kind, `SAE ${saeInfo.hookName}: ${m}`);
      this.catalogue = catalogue;
      this.loadedModel = id;
      this.experiment.model = id;
      this.experiment.sae = chosenSae;
      await this.#defineCustomPersonas(engine, saeInfo);
      this.presets = await engine.personas();
      this.analysis = null;
      this.analysedPrompt = null;
      this.run = null;
      this.phase = 'ready';
      this.progress = { stage: 'ready', message: `${model.name} ready` };
      this.saeOptions = [chosenSae];
      void (this.#options.discoverSaes ?? discoverSaes)(modelUrl)
        .then((found) => {
          if (this.loadedModel === id) this.saeOptions = found.includes(chosenSae) ? found : [chosenSae, ...found];
        })
        .catch(() => undefined);
      return true;
    } catch (error) {
      this.notify('error', `Could not load "${entry.name}" from ${entry.folder}: ${message(error)}`);
      if (this.loadedModel !== null) {
        this.phase = 'ready';
        this.progress = previous.progress;
      } else {
        this.phase = 'error';
      }
      return false;
    }
  }

  async #defineCustomPersonas(engine: PlaygroundEngine, sae: SaeInfo): Promise<void> {
    const kept: CustomPersona[] = [];
    for (const custom of this.experiment.custom) {
      try {
        await engine.definePersona(customPreset(custom, sae.layer));
        kept.push(custom);
      } catch (error) {
        this.notify('warning', `Custom persona "${custom.name}" was not recreated: ${message(error)}`);
      }
    }
    if (kept.length !== this.experiment.custom.length) this.experiment.custom = kept;
  }

  async analyse(prompt = this.experiment.prompt, mode = this.promptMode): Promise<void> {
    if (!this.ready) return;
    if (!prompt.trim()) {
      this.notify('warning', 'Type a prompt to analyse.');
      return;
    }
    const ticket = ++this.#analyseTicket;
    this.analysing = true;
    try {
      const analysis = await (await this.#engine).analyse(prompt, TOP_K, mode);
      if (ticket !== this.#analyseTicket) return;
      this.analysis = analysis;
      this.analysedPrompt = prompt;
      this.analysedMode = mode;
    } catch (error) {
      if (ticket === this.#analyseTicket) this.notify('error', `Analysis failed: ${message(error)}`);
    } finally {
      if (ticket === this.#analyseTicket) this.analysing = false;
    }
  }

  /** The request the current experiment stands for: same seed for both rows, baseline in the same batch. */
  request(): GenerateRequest {
    const e = this.experiment;
    const terms: SteeringTerm[] = [];
    for (const p of activePersonaSteers(e)) {
      if (!this.personaById.has(p.personaId)) continue;
      terms.push({ kind: 'persona', personaId: p.personaId, strength: p.strength, ...(p.use ? { use: p.use } : {}) });
    }
    for (const l of e.latents) {
      if (l.method === 'add' && l.coefficient === 0) continue;
      terms.push({ kind: 'latent', latent: l.latent, coefficient: l.coefficient, method: l.method });
    }
    return {
      prompt: e.prompt,
      promptMode: this.promptMode,
      sampling: {
        maxNewTokens: e.sampling.maxNewTokens,
        temperature: e.sampling.temperature,
        topK: 0,
        topP: e.sampling.topP,
        repetitionPenalty: 1,
        frequencyPenalty: 0,
        seed: e.sampling.seed,
      },
      steering: { terms, positions: e.positions, special: e.steerSpecial === true },
      withBaseline: true,
      monitor: this.monitored,
      topK: TOP_K,
    };
  }

  #analysed(prompt: string, mode: PromptMode = 'text'): boolean {
    return this.analysedPrompt === prompt && this.analysedMode === mode;
  }

  async generate(): Promise<void> {
    if (!this.ready || this.generating) return;
    if (!this.experiment.prompt.trim()) {
      this.notify('warning', 'Type a prompt to continue.');
      return;
    }
    const run = new GenerationRun(this.request());
    this.run = run;
    try {
      // Analyse the prompt first (the engine runs one job at a time), so the token view matches the generation.
      const { prompt, promptMode } = run.request;
      if (!this.#analysed(prompt, promptMode)) await this.analyse(prompt, promptMode);
      const engine = await this.#engine;
      const result = await engine.generate(run.request, (event) => {
        if (this.run === run) run.push(event);
      });
      run.finish(result);
    } catch (error) {
      run.fail(message(error));
      if (this.run === run) this.notify('error', `Generation failed: ${message(error)}`);
    }
  }

  async stop(): Promise<void> {
    if (!this.generating) return;
    (await this.#engine).cancel();
  }

  newSeed(): void {
    this.experiment.sampling.seed = Math.floor(Math.random() * 1_000_000);
  }

  setPersonaStrength(personaId: string, strength: number): void {
    const steer = this.experiment.personas.find((p) => p.personaId === personaId);
    if (steer) steer.strength = strength;
    else this.experiment.personas.push({ personaId, strength });
  }

  strengthOf(personaId: string): number {
    return this.experiment.personas.find((p) => p.personaId === personaId)?.strength ?? 0;
  }

  setPersonaUse(personaId: string, use: 'latents' | 'vector'): void {
    const steer = this.experiment.personas.find((p) => p.personaId === personaId);
    if (steer) steer.use = use;
    else this.experiment.personas.push({ personaId, strength: 0, use });
  }

  resetSteering(): void {
    this.experiment.personas = [];
    this.experiment.latents = [];
  }

  /** "Steer with this": adds the latent with a coefficient scaled to how strongly it usually fires. */
  steerWithLatent(latent: number): void {
    if (this.experiment.latents.some((l) => l.latent === latent)) return;
    const max = this.catalogue?.byId.get(latent)?.max_activation;
    const coefficient = Number.isFinite(max) && max! > 0 ? Math.round(max! * 4 * 10) / 10 : 8;
    const steer: LatentSteer = { latent, coefficient, method: 'add' };
    this.experiment.latents.push(steer);
  }

  removeLatentSteer(latent: number): void {
    this.experiment.latents = this.experiment.latents.filter((l) => l.latent !== latent);
  }

  async addCustomPersona(name: string, latents: CustomPersona['latents']): Promise<boolean> {
    if (!this.sae) return false;
    const trimmed = name.trim() || `Custom ${this.experiment.custom.length + 1}`;
    let n = this.experiment.custom.length + 1;
    while (this.experiment.custom.some((c) => c.id === `u${n}`) || this.personaById.has(`u${n}`)) n++;
    const custom: CustomPersona = { id: `u${n}`, name: trimmed, latents };
    try {
      const engine = await this.#engine;
      await engine.definePersona(customPreset(custom, this.sae.layer));
      this.experiment.custom.push(custom);
      this.setPersonaStrength(custom.id, 1);
      this.presets = await engine.personas();
      return true;
    } catch (error) {
      this.notify('error', `Could not create persona "${trimmed}": ${message(error)}`);
      return false;
    }
  }

  async removeCustomPersona(id: string): Promise<void> {
    try {
      const engine = await this.#engine;
      await engine.removePersona(id);
      this.presets = await engine.personas();
    } catch (error) {
      this.notify('warning', `Could not remove persona: ${message(error)}`);
    }
    this.experiment.custom = this.experiment.custom.filter((c) => c.id !== id);
    this.experiment.personas = this.experiment.personas.filter((p) => p.personaId !== id);
    if (this.experiment.watch?.personaId === id) this.experiment.watch = null;
  }

  async dispose(): Promise<void> {
    try {
      await (await this.#engine).dispose();
    } catch {
      // Disposing an engine that never started is not an error worth showing.
    }
  }
}

export function customPreset(custom: CustomPersona, layer: number): PersonaPreset {
  return {
    id: custom.id,
    name: custom.name,
    description: `Your persona: ${custom.latents.map((l) => `latent ${l.latent} × ${l.coefficient}`).join(', ')}`,
    layer,
    latents: custom.latents.map((l) => ({ ...l })),
    defaultUse: 'latents',
    strength: { min: -4, max: 4, recommended: 1 },
    source: 'user',
  };
}
