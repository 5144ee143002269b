// The in-thread PlaygroundEngine: the runtime's instrumented model plus an SAE at one layer. Analysis reads the
// captured residual straight from ORT's GPU buffer into the SAE kernels; steering directions are composed on the
// GPU into the buffer the model's steering input reads. On WASM the same API runs through the TS reference.
import type {
  Analysis,
  DeviceInfo,
  GenerateRequest,
  GenerateResult,
  GeneratedToken,
  LabEngine,
  LabText,
  LoadModelOptions,
  ModelInfo,
  ModelSource,
  PersonaPreset,
  PlaygroundEngine,
  Progress,
  SaeInfo,
  TextStats,
  TextStatsOptions,
  TokenEvent,
  PromptMode,
} from './api';
import { GREEDY, LanguageModel, type LayerClamp, type StepEvent } from '../runtime';
import { resolveUrl } from '../runtime/loader';
import { primeOrt } from '../runtime/ort';
import { checkSaeFitsModel, SaeError, SaeModelMismatchError, type SaeWeights } from '../sae';
import { fetchOptionalJson, fetchSae } from '../sae/remote';
import { parsePersonasJson, resolveSteering, validatePersona, type ClampTerm, type RowSteering } from '../steering/personas';
import { CpuSaeBackend, GpuSaeBackend, type SaeBackend } from './saeBackend';
import { saeInfoOf } from './saeInfo';
import { markSpecial, promptIdsForSae, specialTokenIds, unsteeredSpecialIds } from './specialTokens';
import { computeTextStats } from './textStats';
import type { MonitorSpec } from '../gpu/sae';
import type { EngineNotice } from '../worker/protocol';

/**
 * Latents that can be clamped at once (in-graph clamp slots per instrumented layer). The slots are added only when a
 * generation first clamps (the model is reopened with them then): a session that never clamps runs the graph with
 * capture and steering only, which is what "instrument only what a session uses" (issue 13) asks.
 */
export const CLAMP_SLOTS = 4;

/** No SAE is loaded, or no model: the UI should load one first. */
export class EngineStateError extends SaeError {}

interface LoadedSae {
  weights: SaeWeights;
  info: SaeInfo;
  backend: SaeBackend;
  presets: PersonaPreset[];
}

export function createPlaygroundEngine(): LabEngine {
  return new InThreadPlaygroundEngine();
}

export class InThreadPlaygroundEngine implements LabEngine {
  constructor() {
    // Every model needs ORT's WebAssembly runtime (WebGPU included): start it before the first load asks.
    void primeOrt();
  }

  #model: LanguageModel | null = null;
  #modelInfo: ModelInfo | null = null;
  #sae: LoadedSae | null = null;
  #userPersonas = new Map<string, PersonaPreset>();
  #abort: AbortController | null = null;
  #noticeListeners = new Set<(notice: EngineNotice) => void>();
  #unsubscribeModel: (() => void) | null = null;
  /** A model load in flight: an SAE load asked for meanwhile downloads at once and waits for it. */
  #modelLoading: Promise<ModelInfo> | null = null;
  /** How the current model was loaded, to reopen it instrumented at an SAE's layer it lacks. */
  #loaded: { source: ModelSource; options: LoadModelOptions } | null = null;

  /** Device loss and recovery happen outside any call; the worker forwards these to the page. */
  onNotice(listener: (notice: EngineNotice) => void): void {
    this.#noticeListeners.add(listener);
  }

  #listenTo(model: LanguageModel): void {
    this.#unsubscribeModel?.();
    this.#unsubscribeModel = model.on((event) => {
      const where = (d: DeviceInfo) => (d.backend === 'webgpu' ? `WebGPU (${d.adapter ?? 'unknown adapter'})` : 'the CPU (WASM)');
      const notice: EngineNotice =
        event.type === 'device-restored'
          ? { kind: event.type, device: event.device, message: `The GPU was reset; the model is running again on ${where(event.device)}. Your prompt and settings are unchanged.` }
          : event.type === 'device-upgraded'
            ? {
                kind: event.type,
                device: event.device,
                message: event.device.backend === 'webgpu' ? `Now running on ${where(event.device)}.` : `Staying on the CPU (WASM): ${event.device.fallbackReason}`,
              }
            : { kind: event.type, message: event.message };
      for (const listener of this.#noticeListeners) listener(notice);
    });
  }

  async loadModel(source: ModelSource, options: LoadModelOptions = {}): Promise<ModelInfo> {
    const loading = this.#loadModel(source, options);
    this.#modelLoading = loading;
    try {
      return await loading;
    } finally {
      if (this.#modelLoading === loading) this.#modelLoading = null;
    }
  }

  async #loadModel(source: ModelSource, options: LoadModelOptions, clampSlots = 0): Promise<ModelInfo> {
    const model = await LanguageModel.load(source.baseUrl, {
      backend: options.backend ?? 'auto',
      onnxFile: source.onnxFile,
      layers: options.layers ?? 'all',
      clampSlots,
      quickStart: options.quickStart,
      onProgress: options.onProgress,
    });
    const previous = this.#model;
    this.#model = model;
    this.#loaded = { source, options: { ...options, onProgress: undefined } };
    this.#listenTo(model);
    const c = model.config;
    this.#modelInfo = {
      name: source.baseUrl.replace(/\/+$/, '').split('/').pop() ?? source.baseUrl,
      modelType: c.modelType,
      nLayer: c.nLayer,
      dModel: c.hidden,
      vocabSize: c.vocab,
      contextLength: c.contextLength,
      device: model.device,
      chatTemplate: !!model.tokenizer.chat,
    };
    // The SAE belongs to the previous model's device and sizes: drop it; the UI reloads it for the new model.
    this.#disposeSae();
    if (previous) await previous.dispose();
    return this.#modelInfo;
  }

  async loadSae(baseUrl: string, onProgress?: (p: Progress) => void): Promise<SaeInfo> {
    if (!this.#modelLoading) this.#requireModel();
    onProgress?.({ stage: 'download', message: 'Downloading SAE weights' });
    // The files need no model: they download while a model load in flight finishes.
    const [weights, personasJson] = await Promise.all([
      fetchSae(baseUrl, (loaded, total) => onProgress?.({ stage: 'download', message: 'Downloading SAE weights', loaded, total })),
      fetchOptionalJson(resolveUrl(baseUrl, 'personas.json')),
    ]);
    if (this.#modelLoading) await this.#modelLoading;
    let model = this.#requireModel();
    checkSaeFitsModel(weights.config, { nLayer: model.config.nLayer, dModel: model.config.hidden });
    if (!model.layers.includes(weights.config.layer) && this.#loaded) {
      // The model was instrumented for another layer (a hint from the SAE folder's name): reopen it at this one.
      onProgress?.({ stage: 'instrument', message: `Reopening the model instrumented at layer ${weights.config.layer}` });
      const { source, options } = this.#loaded;
      await this.loadModel(source, { ...options, layers: [weights.config.layer] });
      model = this.#requireModel();
    }
    if (!model.layers.includes(weights.config.layer)) {
      throw new SaeModelMismatchError(`SAE reads layer ${weights.config.layer}, which is not instrumented (instrumented: ${model.layers.join(', ')}).`);
    }
    const info = saeInfoOf(weights.config);
    const shape = { layer: info.layer, dIn: info.dIn, dSae: info.dSae };
    const presets = personasJson ? parsePersonasJson(personasJson, shape) : [];
    onProgress?.({ stage: 'sae', message: 'Uploading SAE to the GPU' });
    const device = model.gpuDevice;
    const backend = device ? new GpuSaeBackend(device, weights) : new CpuSaeBackend(weights);
    this.#disposeSae();
    this.#sae = { weights, info, backend, presets };
    // User personas that no longer fit the new SAE are dropped rather than left to fail later.
    for (const [id, p] of this.#userPersonas) {
      try {
        validatePersona(p, shape);
      } catch {
        this.#userPersonas.delete(id);
      }
    }
    onProgress?.({ stage: 'ready', message: `SAE ${info.hookName} ready (${info.dSae} latents)` });
    return info;
  }

  async personas(): Promise<PersonaPreset[]> {
    return [...(this.#sae?.presets ?? []), ...this.#userPersonas.values()];
  }

  async definePersona(persona: PersonaPreset): Promise<void> {
    const sae = this.#requireSae();
    const p: PersonaPreset = { ...persona, vector: persona.vector ? Float32Array.from(persona.vector) : undefined, source: 'user' };
    validatePersona(p, { layer: sae.info.layer, dIn: sae.info.dIn, dSae: sae.info.dSae });
    this.#userPersonas.set(p.id, p);
  }

  async removePersona(id: string): Promise<void> {
    this.#userPersonas.delete(id);
  }

  #personaMap(): Map<string, PersonaPreset> {
    return new Map([...(this.#sae?.presets ?? []), ...this.#userPersonas.values()].map((p) => [p.id, p]));
  }

  #monitorSpecs(ids: string[] | 'all'): MonitorSpec[] {
    const map = this.#personaMap();
    const chosen = ids === 'all' ? [...map.values()] : ids.map((id) => map.get(id)).filter((p): p is PersonaPreset => !!p);
    return chosen.map((p) => ({ id: p.id, latents: p.defaultUse === 'latents' || !p.vector ? p.latents : [], vector: p.defaultUse === 'vector' ? p.vector : undefined }));
  }

  async analyse(prompt: string, topK: number, mode: PromptMode = 'text'): Promise<Analysis> {
    const model = this.#requireModel();
    // Once the move to WebGPU has begun, work waits for it (the SAE backend follows the model's device).
    if (model.upgradeRunning) await model.upgrade();
    const analysis = await this.#analyse(model, prompt, topK, mode);
    // Quick start: the first answer came from WASM; build the WebGPU session now, in the background.
    if (model.upgradePending) void this.#upgradeInBackground(model, prompt);
    return analysis;
  }

  async #upgradeInBackground(model: LanguageModel, prompt: string): Promise<void> {
    await model.upgrade();
    if (this.#model !== model || !this.#sae || model.device.backend !== 'webgpu') return;
    // Compiles the SAE kernels and this prompt's shapes on the new device, before anyone waits on them.
    await this.#analyse(model, prompt, 1).catch(() => undefined);
  }

  async #analyse(model: LanguageModel, prompt: string, topK: number, mode: PromptMode = 'text'): Promise<Analysis> {
    const sae = this.#requireSae();
    const ids = promptIdsForSae(model, prompt, sae.info, mode);
    const layer = sae.info.layer;
    sae.backend.setMonitors(this.#monitorSpecs('all'));
    let analysis: Analysis | null = null;
    await model.generate({
      promptIds: ids,
      maxNewTokens: 1,
      sampling: GREEDY,
      seed: 0,
      capture: [layer],
      onStep: async (event: StepEvent) => {
        const captured = event.captures.get(layer)!;
        const T = ids.length;
        const r = await sae.backend.analyse(captured, { offset: 0, rowStride: T * sae.info.dIn, tokensPerRow: T, tokens: T }, topK);
        analysis = {
          tokens: markSpecial(model.tokenizer.tokenTexts(ids), specialTokenIds(model)),
          top: { k: r.k, indices: r.indices, values: r.values },
          reconstructionError: r.reconstructionError,
          monitor: r.monitor,
          backend: model.device.backend,
        };
      },
    });
    return analysis!;
  }

  /** The lab's batch read-out, in its own module (textStats.ts); runs on the model's final device. */
  async textStats(texts: LabText[], options: TextStatsOptions, onProgress?: (p: Progress) => void): Promise<TextStats[]> {
    const model = this.#requireModel();
    if (model.upgradePending || model.upgradeRunning) await model.upgrade();
    const sae = this.#requireSae();
    const abort = new AbortController();
    this.#abort = abort;
    try {
      const special = specialTokenIds(model);
      const tokenTexts = (ids: number[]) => markSpecial(model.tokenizer.tokenTexts(ids), special);
      return await computeTextStats({ model, backend: sae.backend, layer: sae.info.layer, tokenTexts, signal: abort.signal }, texts, options, onProgress);
    } finally {
      if (this.#abort === abort) this.#abort = null;
    }
  }


  async generate(request: GenerateRequest, onToken?: (event: TokenEvent) => void): Promise<GenerateResult> {
    let model = this.#requireModel();
    // Generation always runs on the final device, so a shared link reproduces the same text on any visit.
    if (model.upgradePending || model.upgradeRunning) await model.upgrade();
    let sae = this.#requireSae();
    const shape = { layer: sae.info.layer, dIn: sae.info.dIn, dSae: sae.info.dSae };
    const steering = resolveSteering(request.steering, this.#personaMap(), shape, CLAMP_SLOTS);
    if (steering.clamps.length && model.clampSlots === 0) {
      model = await this.#reopenWithClampSlots();
      sae = this.#requireSae();
    }
    const ids = promptIdsForSae(model, request.prompt, sae.info, request.promptMode);
    const rows = request.withBaseline ? 2 : 1;
    const steeredRows: RowSteering[] = Array.from({ length: rows }, (_, r) =>
      r === rows - 1 ? steering.additive : { latents: [], vectors: [] },
    );
    const layer = sae.info.layer;
    const positions = request.steering.positions;
    const special = specialTokenIds(model);
    const unsteeredIds = request.steering.special ? undefined : unsteeredSpecialIds(special, ids, model.config.eosTokenIds);
    // Per-position masking is built on the CPU: compose these (small) vectors there too.
    const vectors = unsteeredIds ? new CpuSaeBackend(sae.weights).steering(steeredRows) : sae.backend.steering(steeredRows);
    const steerMap = new Map([[layer, { vectors, positions }]]);
    const clampMap = steering.clamps.length ? new Map([[layer, this.#clampFeed(sae.weights, steering.clamps, rows, positions)]]) : undefined;
    sae.backend.setMonitors(this.#monitorSpecs(request.monitor));
    const wantsSae = request.topK > 0 || request.monitor.length > 0;
    const abort = new AbortController();
    this.#abort = abort;
    const tok = model.tokenizer;
    // One incremental decoder per row, primed with the prompt, so streamed pieces equal the final ones.
    const streams = Array.from({ length: rows }, () => {
      const s = tok.stream();
      for (const id of ids) s.step(id);
      return s;
    });
    const d = sae.info.dIn;
    // A token's latents are read at its own position, which the model computes one step after choosing it: events
    // go out one step late, and the runtime runs one extra step whose chosen token is discarded.
    let pending: { step: number; tokens: number[] } | null = null;
    // GPU analyses may finish after the step that submitted them (see onStep); events still go out in step order.
    const pipelined = sae.backend instanceof GpuSaeBackend;
    let emitted: Promise<void> = Promise.resolve();
    const emit = (tokens: number[], step: number, r?: Awaited<ReturnType<SaeBackend['analyse']>>) => {
      const event: TokenEvent = {
        step,
        rows: tokens.map((id, row): GeneratedToken => {
          const text = id >= 0 ? streams[row].step(id) : '';
          const monitor: Record<string, number> = {};
          if (r) for (const [pid, values] of Object.entries(r.monitor)) monitor[pid] = values[row];
          return {
            id,
            text,
            ...(special.has(id) ? { special: true } : {}),
            topIndices: r && request.topK > 0 ? r.indices.slice(row * r.k, row * r.k + Math.min(request.topK, r.k)) : undefined,
            topValues: r && request.topK > 0 ? r.values.slice(row * r.k, row * r.k + Math.min(request.topK, r.k)) : undefined,
            monitor,
          };
        }),
      };
      onToken?.(event);
    };
    try {
      const result = await model.generate({
        promptIds: ids,
        rows,
        maxNewTokens: request.sampling.maxNewTokens + 1,
        sampling: request.sampling,
        seed: request.sampling.seed,
        // On WebGPU the next token is chosen on the GPU (one id per row comes back, not the logits); it picks the
        // CPU sampler's token (fixed-point masses, the same draw: tests/browser/engine/gpu-sampling.spec.ts). WASM
        // and settings the kernel cannot run sample on the CPU.
        sampleOnGpu: true,
        steering: steerMap,
        unsteeredIds,
        clamp: clampMap,
        capture: wantsSae ? [layer] : [],
        signal: abort.signal,
        onStep: async (event: StepEvent) => {
          if (pending) {
            const { tokens, step } = pending;
            pending = null;
            let r: ReturnType<SaeBackend['analyse']> | undefined;
            if (wantsSae) {
              const captured = event.captures.get(layer)!;
              const P = captured.dims[1];
              // On the GPU the SAE passes are submitted here, ahead of the next step on the same queue, so the
              // readback can overlap that step: the event goes out when it lands (in order), the loop goes on.
              r = sae.backend.analyse(captured, { offset: (P - 1) * d, rowStride: P * d, tokensPerRow: 1, tokens: rows }, Math.max(1, request.topK), { reconstruction: false });
              if (!pipelined) await r;
            }
            const analysed = r;
            emitted = emitted.then(async () => emit(tokens, step, analysed ? await analysed : undefined));
            if (!pipelined) await emitted;
          }
          if (event.step < request.sampling.maxNewTokens) pending = { step: event.step, tokens: event.tokens };
        },
      });
      await emitted;
      if (pending) emit((pending as { tokens: number[] }).tokens, (pending as { step: number }).step);
      return {
        rows: result.rows.map((row) => {
          const tokens = row.tokens.slice(0, request.sampling.maxNewTokens);
          // The extra step's token is dropped; a row that reached it simply ran to length.
          const stopReason = row.tokens.length > tokens.length ? 'length' : row.stopReason;
          const texts = markSpecial(tok.tokenTexts([...ids, ...tokens]).slice(ids.length), special);
          return { tokens: texts, text: texts.map((t) => t.text).join(''), stopReason };
        }),
        decodeTokensPerSecond: result.decodeTokensPerSecond,
      };
    } finally {
      emitted.catch(() => undefined); // a failed generation reports its own error, not a late readback's
      if (this.#abort === abort) this.#abort = null;
      if (sae.backend instanceof GpuSaeBackend) sae.backend.releaseSteering();
    }
  }

  /**
   * In-graph clamp of latent i to target: h + (target − a_i(h))·dec_i with dec_i = W_dec[i] / (W_enc[:,i]·W_dec[i]),
   * so that re-encoding the clamped residual gives exactly `target` while the latent is active and 0 stays 0 (plain
   * W_dec[i] would leave (1 − W_enc[:,i]·W_dec[i])·a behind). Exact for SAEs without input normalisation; TopK's
   * selection is treated as ReLU inside the graph.
   */
  #clampFeed(sae: SaeWeights, clamps: ClampTerm[], rows: number, positions: 'all' | 'generated'): LayerClamp {
    const { dIn, dSae, applyBDecToInput } = sae.config;
    const n = CLAMP_SLOTS;
    const enc = new Float32Array(n * dIn);
    const dec = new Float32Array(n * dIn);
    const bias = new Float32Array(n);
    const threshold = new Float32Array(n);
    const target = new Float32Array(rows * n);
    const mask = new Float32Array(rows * n);
    clamps.forEach(({ latent, target: value }, s) => {
      let dot = 0;
      let b = sae.bEnc[latent];
      for (let i = 0; i < dIn; i++) {
        const w = sae.wEnc[i * dSae + latent];
        enc[s * dIn + i] = w;
        dot += w * sae.wDec[latent * dIn + i];
        if (applyBDecToInput) b -= sae.bDec[i] * w;
      }
      const scale = dot > 0.1 ? 1 / dot : 1;
      for (let i = 0; i < dIn; i++) dec[s * dIn + i] = sae.wDec[latent * dIn + i] * scale;
      bias[s] = b;
      threshold[s] = sae.threshold ? sae.threshold[latent] : 0;
      target[(rows - 1) * n + s] = value;
      mask[(rows - 1) * n + s] = 1;
    });
    return { enc, bias, threshold, dec, target, mask, positions };
  }

  /**
   * The first clamp of a session: reopens the model with `CLAMP_SLOTS` clamp slots at the same layers, on the same
   * backend, keeping the SAE, the personas and the device choice (the graph's other outputs do not change; see
   * tests/unit/graph/used-layers.test.ts). Costs one session creation (and, on WebGPU, its kernel compilation).
   */
  async #reopenWithClampSlots(): Promise<LanguageModel> {
    const loaded = this.#loaded!;
    const sae = this.#sae;
    this.#sae = null; // loadModel drops the SAE of the model it replaces; this one stays
    try {
      const backend = this.#requireModel().device.backend;
      await this.#loadModel(loaded.source, { ...loaded.options, backend, quickStart: false }, CLAMP_SLOTS);
    } finally {
      this.#sae = sae;
      // A later reopen (an SAE at another layer) starts from the user's choices again, clamp slots on demand.
      this.#loaded = loaded;
    }
    return this.#requireModel();
  }

  cancel(): void {
    this.#abort?.abort();
  }

  #requireModel(): LanguageModel {
    if (!this.#model) throw new EngineStateError('No model is loaded: call loadModel first.');
    return this.#model;
  }

  #requireSae(): LoadedSae {
    const sae = this.#sae;
    if (!sae) throw new EngineStateError('No SAE is loaded: call loadSae with an SAE folder first.');
    // After a lost GPU the runtime reopens on a new device (or on WASM): follow it.
    const device = this.#model?.gpuDevice;
    const current = sae.backend instanceof GpuSaeBackend ? sae.backend.device : undefined;
    if (device !== current) {
      sae.backend.dispose();
      sae.backend = device ? new GpuSaeBackend(device, sae.weights) : new CpuSaeBackend(sae.weights);
    }
    return sae;
  }

  #disposeSae(): void {
    this.#sae?.backend.dispose();
    this.#sae = null;
  }

  async dispose(): Promise<void> {
    this.cancel();
    this.#disposeSae();
    await this.#model?.dispose();
    this.#model = null;
  }
}
