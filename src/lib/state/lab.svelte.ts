// The persona lab's session: model diff, persona vectors from examples and the audit, each with its inputs, run
// status and result. The view (tab, pair, ranking, threshold) lives in the URL fragment; the lists, saved personas
// and the last diff result in local storage, so a reload keeps all of it.
import type { LabEngine, PersonaPreset, TextStats } from '../engine/api';
import type { Playground } from './playground.svelte';
import { auditRow, type AuditRow } from '../lab/audit';
import { rankDiffs, type LatentDiff } from '../lab/diff';
import { NEUTRAL_PROMPTS, pairsOf, type ModelPair } from '../lab/models';
import { LabFileFormatError } from '../lab/errors';
import { loadVariants, type VariantsManifest } from '../lab/variants';
import { Timeline } from './timeline.svelte';
import { personaVector, type PersonaVector } from '../lab/personaVector';
import { parsePromptLines } from '../lab/prompts';
import { runModelDiff, type DiffOutcome, type DiffProgress } from '../lab/runDiff';
import { decodeDiffSnapshot, decodeLabView, encodeLabView, type LabView } from '../lab/url';
import { absoluteFolder, resolveModel, saeFolder } from '../ui/models';
import { fetchSae } from '../sae/remote';

const STORAGE_KEY = 'persona-playground:lab:v1';

export type RunStatus = 'idle' | 'running' | 'done' | 'cancelled' | 'error';

/** A persona made in the lab: kept whole (its vector) so a reload recreates it. */
export interface LabPersona {
  id: string;
  name: string;
  vector: number[];
  strength: { min: number; max: number; recommended: number };
}

interface Stored {
  diffPrompts: string;
  positive: string;
  negative: string;
  auditPrompts: string;
  personas: LabPersona[];
  diff: (Omit<DiffOutcome, 'pair'> & { pairId: string; pairLabel: string; snapshot?: boolean }) | null;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error);
}

export class Lab {
  readonly #pg: Playground;
  readonly #engine: Promise<LabEngine>;
  readonly #createEngine: () => LabEngine;
  readonly #storage: Storage | null;
  #abort: AbortController | null = null;
  /** Statistics per text on the playground's model (persona vectors re-use texts across voices). */
  #statsCache = new Map<string, TextStats>();
  #statsKey = '';
  #wDec: { url: string; wDec: Float32Array; dSae: number; k: number | null } | null = null;
  /** Lab personas defined on the engine in this session (a removed one is then dropped for good). */
  #defined = new Set<string>();

  view = $state<LabView>(decodeLabView(''));
  pairs = $state.raw<ModelPair[]>([]);
  /** The loaded folder's variants.json (null when it has none), read once for the diff pairs and the timeline. */
  variants = $state.raw<VariantsManifest | null>(null);
  /** Why variants.json could not be used (a `LabFileFormatError`'s message); the pairs fall back to fp32 vs q4. */
  variantsError = $state<string | null>(null);
  /** The early-warning timeline over the variants' checkpoint chain. */
  readonly timeline: Timeline;
  diffPrompts = $state(NEUTRAL_PROMPTS.join('\n'));
  diffStatus = $state<RunStatus>('idle');
  diffProgress = $state.raw<DiffProgress | null>(null);
  diffError = $state<string | null>(null);
  /** The typed error's name (e.g. `LabWidthMismatchError`), for the page and its tests. */
  diffErrorName = $state<string | null>(null);
  diff = $state.raw<Stored['diff']>(null);
  /** Models the diff's own engine holds now (0 when idle: released). */
  diffModels = $state(0);
  openLatent = $state<number | null>(null);

  positive = $state('');
  negative = $state('');
  vectorStatus = $state<RunStatus>('idle');
  vectorProgress = $state.raw<{ done: number; total: number } | null>(null);
  vectorError = $state<string | null>(null);
  vector = $state.raw<PersonaVector | null>(null);
  personas = $state<LabPersona[]>([]);

  auditPrompts = $state(NEUTRAL_PROMPTS.slice(0, 8).join('\n'));
  auditStatus = $state<RunStatus>('idle');
  auditProgress = $state.raw<{ done: number; total: number } | null>(null);
  auditError = $state<string | null>(null);
  auditRows = $state.raw<AuditRow[]>([]);
  auditPersonas = $state.raw<string[]>([]);

  constructor(pg: Playground, engine: Promise<LabEngine>, createEngine: () => LabEngine, storage: Storage | null) {
    this.#pg = pg;
    this.#engine = engine;
    this.#createEngine = createEngine;
    this.#storage = storage;
    this.timeline = new Timeline(this, createEngine, () => pg.model?.vocabSize ?? null, storage);
    this.#restore();
  }

  ranked: LatentDiff[] = $derived(this.diff ? rankDiffs(this.diff.diffs, this.view.metric, this.view.order, 20) : []);
  hash: string = $derived(encodeLabView(this.view));
  pair: ModelPair | null = $derived(this.pairs.find((p) => p.id === this.view.pair) ?? this.pairs[0] ?? null);

  #restore(): void {
    const hash = typeof location === 'undefined' ? '' : location.hash;
    this.view = decodeLabView(hash);
    // A shared result (link or embed) shows at once; running the diff replaces it with a live one.
    const snapshot = decodeDiffSnapshot(hash);
    if (snapshot) {
      const m = snapshot.metric;
      this.diff = {
        pairId: this.view.pair ?? '',
        pairLabel: 'Shared result',
        snapshot: true,
        prompts: [],
        dSae: 0,
        tokens: [],
        complete: true,
        readMs: 0,
        diffs: snapshot.top.map(({ latent, value }) => ({
          latent,
          meanA: NaN,
          meanB: NaN,
          meanDelta: m === 'mean' ? value : NaN,
          freqA: NaN,
          freqB: NaN,
          freqDelta: m === 'frequency' ? value : NaN,
          maxDelta: m === 'max' ? value : NaN,
          maxAt: { prompt: 0, token: 0 },
        })),
      };
      this.diffStatus = 'done';
    }
    try {
      const s = JSON.parse(this.#storage?.getItem(STORAGE_KEY) ?? 'null') as Partial<Stored> | null;
      if (!s) return;
      if (typeof s.diffPrompts === 'string') this.diffPrompts = s.diffPrompts;
      if (typeof s.positive === 'string') this.positive = s.positive;
      if (typeof s.negative === 'string') this.negative = s.negative;
      if (typeof s.auditPrompts === 'string') this.auditPrompts = s.auditPrompts;
      if (Array.isArray(s.personas)) this.personas = s.personas.filter((p) => p && typeof p.id === 'string' && Array.isArray(p.vector));
      if (s.diff && Array.isArray(s.diff.diffs) && !this.diff) {
        this.diff = s.diff;
        this.diffStatus = 'done';
      }
    } catch {
      // A corrupt entry is dropped; the lab starts from its defaults.
    }
  }

  /** Writes lists, personas and the last diff to local storage (called by the sync effect). */
  save(): void {
    const stored: Stored = {
      diffPrompts: this.diffPrompts,
      positive: this.positive,
      negative: this.negative,
      auditPrompts: this.auditPrompts,
      personas: this.personas,
      diff: this.diff,
    };
    this.timeline.save();
    try {
      this.#storage?.setItem(STORAGE_KEY, JSON.stringify(stored));
    } catch {
      // A full quota: the view is still in the URL.
    }
  }

  #saeUrl(): string | null {
    const pg = this.#pg;
    if (!pg.loadedModel || !pg.sae) return null;
    return absoluteFolder(saeFolder(resolveModel(pg.loadedModel), pg.sae.hookName), document.baseURI);
  }

  /** Finds the pairs the loaded model folder offers (variants.json, else its fp32 vs q4 graphs). */
  async refreshPairs(): Promise<void> {
    const pg = this.#pg;
    const sae = this.#saeUrl();
    if (!pg.loadedModel || !sae) return;
    const entry = resolveModel(pg.loadedModel);
    const folder = absoluteFolder(entry.folder, document.baseURI);
    let variants: VariantsManifest | null = null;
    try {
      variants = await loadVariants(folder);
      this.variantsError = null;
    } catch (error) {
      // A file that is there but wrong is shown; one that cannot be fetched (a folder opened from disk) is absent.
      this.variantsError = error instanceof LabFileFormatError ? message(error) : null;
    }
    this.variants = variants;
    this.pairs = pairsOf(variants, folder, sae, entry.name);
    // The picker shows the pair that will run: the linked one when this folder offers it, else the first.
    if (!this.pairs.some((p) => p.id === this.view.pair)) this.view.pair = this.pairs[0]?.id ?? null;
  }

  /** Re-defines the lab's saved personas on the playground's engine (after a load or a reload) and shows them. */
  async restorePersonas(): Promise<void> {
    const pg = this.#pg;
    if (!pg.sae) return;
    const engine = await this.#engine;
    for (const p of this.personas) {
      try {
        await engine.definePersona(this.#preset(p, pg.sae.layer));
        this.#defined.add(p.id);
      } catch (error) {
        pg.notify('warning', `Lab persona "${p.name}" was not recreated: ${message(error)}`);
      }
    }
    if (this.personas.length) pg.presets = await engine.personas();
  }

  /** Drops lab personas the user removed from the persona panel (they were defined, and are no longer presets). */
  prune(presetIds: Set<string>): void {
    const kept = this.personas.filter((p) => !this.#defined.has(p.id) || presetIds.has(p.id));
    if (kept.length !== this.personas.length) this.personas = kept;
  }

  #preset(p: LabPersona, layer: number): PersonaPreset {
    return {
      id: p.id,
      name: p.name,
      description: 'Persona vector from your examples (lab)',
      layer,
      latents: [],
      vector: Float32Array.from(p.vector),
      defaultUse: 'vector',
      // Plain copies: stored personas are reactive proxies, which cannot cross to the engine worker.
      strength: { min: p.strength.min, max: p.strength.max, recommended: p.strength.recommended },
      source: 'user',
    };
  }

  // ------------------------------------------------------------------ model diff
  async runDiff(): Promise<void> {
    const pair = this.pair;
    if (!pair || this.diffStatus === 'running') return;
    let prompts: string[];
    try {
      prompts = parsePromptLines(this.diffPrompts, 'the prompt set');
    } catch (error) {
      this.diffError = message(error);
      this.diffErrorName = error instanceof Error ? error.name : null;
      return;
    }
    const abort = new AbortController();
    this.#abort = abort;
    this.diffStatus = 'running';
    this.diffError = null;
    this.diffErrorName = null;
    this.diffProgress = { done: 0, total: prompts.length * 2, stage: 'Checking the models', etaMs: null };
    try {
      const outcome = await runModelDiff(this.#createEngine, pair, prompts, {
        signal: abort.signal,
        onProgress: (p) => (this.diffProgress = p),
        onModels: (n) => (this.diffModels = n),
      });
      const { pair: used, ...rest } = outcome;
      this.diff = { ...rest, pairId: used.id, pairLabel: used.label };
      this.diffStatus = 'done';
      this.view.pair = used.id;
    } catch (error) {
      this.diffStatus = abort.signal.aborted ? 'cancelled' : 'error';
      this.diffError = message(error);
      this.diffErrorName = error instanceof Error ? error.name : null;
    } finally {
      this.#abort = null;
    }
  }

  cancelDiff(): void {
    this.#abort?.abort();
  }

  /** The playground's SAE, where the timeline reads checkpoints when variants.json names no shared SAE. */
  timelineSae(): { url: string | null; dSae: number | null } {
    return { url: this.#saeUrl(), dSae: this.#pg.sae?.dSae ?? null };
  }

  // ------------------------------------------------------------------ persona vectors
  async #stats(texts: string[], skipFirst: boolean, onDone: (done: number) => void): Promise<TextStats[]> {
    const pg = this.#pg;
    const key = `${pg.loadedModel}|${pg.sae?.hookName}|${pg.model?.device.backend}|${skipFirst}`;
    if (key !== this.#statsKey) {
      this.#statsCache.clear();
      this.#statsKey = key;
    }
    const missing = [...new Set(texts.filter((t) => !this.#statsCache.has(t)))];
    if (missing.length) {
      const saeUrl = this.#saeUrl()!;
      const k = (await this.#decoder(saeUrl)).k;
      const engine = await this.#engine;
      const stats = await engine.textStats(missing, { skipFirst, latentsPerToken: k ?? 128 }, (p) => onDone(texts.length - missing.length + (p.loaded ?? 0)));
      missing.forEach((t, i) => this.#statsCache.set(t, stats[i]));
    }
    return texts.map((t) => this.#statsCache.get(t)!);
  }

  async #decoder(url: string): Promise<{ wDec: Float32Array; dSae: number; k: number | null }> {
    if (this.#wDec?.url !== url) {
      const w = await fetchSae(url);
      this.#wDec = { url, wDec: w.wDec, dSae: w.config.dSae, k: w.config.architecture === 'topk' ? w.config.k : null };
    }
    return this.#wDec;
  }

  /** Parses both lists and computes the vector on the playground's model. */
  async computeVector(): Promise<void> {
    const pg = this.#pg;
    if (!pg.ready || !pg.sae || this.vectorStatus === 'running') return;
    let pos: string[];
    let neg: string[];
    try {
      pos = parsePromptLines(this.positive, 'the "in the persona" list');
      neg = parsePromptLines(this.negative, 'the "not in the persona" list');
    } catch (error) {
      this.vectorError = message(error);
      return;
    }
    this.vectorStatus = 'running';
    this.vectorError = null;
    const total = pos.length + neg.length;
    this.vectorProgress = { done: 0, total };
    try {
      const saeUrl = this.#saeUrl()!;
      const dec = await this.#decoder(saeUrl);
      const all = await this.#stats([...pos, ...neg], true, (done) => (this.vectorProgress = { done, total }));
      this.vector = personaVector(all.slice(0, pos.length), all.slice(pos.length), pg.sae.dIn, dec.dSae, dec.wDec);
      this.vectorProgress = { done: total, total };
      this.vectorStatus = 'done';
    } catch (error) {
      this.vectorStatus = 'error';
      this.vectorError = message(error);
    }
  }

  /** Saves the computed vector as a persona: a slider and a monitor in the playground. */
  async saveVector(name: string): Promise<void> {
    const pg = this.#pg;
    const v = this.vector;
    if (!v || !pg.sae) return;
    let n = 1;
    while (this.personas.some((p) => p.id === `lab${n}`) || pg.personaById.has(`lab${n}`)) n++;
    const persona: LabPersona = { id: `lab${n}`, name: name.trim() || `Lab persona ${n}`, vector: Array.from(v.vector), strength: v.strength };
    try {
      const engine = await this.#engine;
      await engine.definePersona(this.#preset(persona, pg.sae.layer));
      pg.presets = await engine.personas();
      this.#defined.add(persona.id);
      this.personas.push(persona);
      pg.notify('info', `Saved "${persona.name}": its slider and monitor are in Personas.`);
    } catch (error) {
      pg.notify('error', `Could not save the persona: ${message(error)}`);
    }
  }

  // ------------------------------------------------------------------ audit
  async runAudit(): Promise<void> {
    const pg = this.#pg;
    if (!pg.ready || this.auditStatus === 'running') return;
    let prompts: string[];
    try {
      prompts = parsePromptLines(this.auditPrompts, 'the audit prompts');
    } catch (error) {
      this.auditError = message(error);
      return;
    }
    const ids = pg.presets.map((p) => p.id);
    this.auditStatus = 'running';
    this.auditError = null;
    this.auditRows = [];
    this.auditPersonas = ids;
    this.auditProgress = { done: 0, total: prompts.length };
    try {
      const engine = await this.#engine;
      const rows: AuditRow[] = [];
      for (const [i, prompt] of prompts.entries()) {
        // Every persona's monitor is read on every token by analyse (see InThreadPlaygroundEngine.#analyse).
        const analysis = await engine.analyse(prompt, 1);
        rows.push(auditRow(prompt, analysis, ids, this.view.threshold));
        this.auditRows = [...rows];
        this.auditProgress = { done: i + 1, total: prompts.length };
      }
      this.auditStatus = 'done';
    } catch (error) {
      this.auditStatus = 'error';
      this.auditError = message(error);
    }
  }

  /** Flags re-computed for a new threshold without re-running the prompts. */
  setThreshold(threshold: number): void {
    this.view.threshold = threshold;
    this.auditRows = this.auditRows.map((r) => ({
      ...r,
      flagged: Object.entries(r.peaks)
        .filter(([, p]) => p.value >= threshold)
        .map(([id]) => id),
    }));
  }
}
