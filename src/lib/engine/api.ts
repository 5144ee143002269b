// The one interface the UI sees. It is implemented in-thread (tests, benchmarks) and by the worker client, so
// components never know which they hold. Plain data only: everything here must survive structuredClone.

export type Backend = 'webgpu' | 'wasm';

export type ProgressStage =
  | 'download'
  | 'parse'
  | 'instrument'
  | 'session'
  | 'compile'
  | 'tokenizer'
  | 'sae'
  | 'texts'
  | 'ready';

/** One progress type for every long operation. `loaded`/`total` are bytes while downloading. */
export interface Progress {
  stage: ProgressStage;
  message: string;
  loaded?: number;
  total?: number;
}

export interface ModelSource {
  /** Folder in Hugging Face layout, absolute or relative to the page: e.g. `models/voices/`. */
  baseUrl: string;
  /**
   * ONNX file inside the folder; default `onnx/model_q4.onnx` when the folder has it (on every backend, so a shared
   * link gives the same text on WebGPU and WASM), else `onnx/model.onnx`.
   */
  onnxFile?: string;
  /**
   * The files of a folder opened from disk (`baseUrl` is then `local-folder://<id>/`), by relative path; the worker
   * client attaches them, so the engine's realm can answer those URLs (runtime/localFolder.ts).
   */
  files?: Record<string, Blob>;
}

export interface LoadModelOptions {
  /**
   * 'auto' (default): WASM on a software WebGPU adapter (SwiftShader and the like), WebGPU on a hardware GPU, and a
   * short measured race at load when the adapter is not recognised (see runtime/backend-choice.ts).
   */
  backend?: Backend | 'auto';
  /**
   * With WebGPU available: answer from a WASM session at once and move to WebGPU once its kernels are compiled
   * (started by the first analysis, awaited by the first generation; a `device-upgraded` notice follows).
   */
  quickStart?: boolean;
  /**
   * Layers the session will capture, steer or clamp at (the SAE's layer, when its hook is known before the model
   * loads). Only these get capture outputs and steering inputs, so decoding with interpretability on costs little
   * more than plain decoding; clamp slots are added when a generation first clamps (the model is reopened with
   * them). Default: every layer. An SAE at another layer reopens the model.
   */
  layers?: number[];
  onProgress?: (p: Progress) => void;
}

export interface DeviceInfo {
  backend: Backend;
  /** e.g. "google swiftshader" or "nvidia ampere"; absent on WASM. */
  adapter?: string;
  /** Why we are not on WebGPU, when we are not. */
  fallbackReason?: string;
  /** On WASM: threads ORT's kernels run on (more than 1 only in a cross-origin-isolated page). */
  threads?: number;
  /** On WebGPU: why `auto` chose it (a hardware GPU, or the load-time race it won), or that it was requested. */
  why?: string;
  /** Quick start: the GPU the model moves to once its kernels are compiled (running on WASM until then). */
  pending?: DeviceInfo;
}

export interface ModelInfo {
  name: string;
  modelType: string;
  nLayer: number;
  dModel: number;
  vocabSize: number;
  contextLength: number;
  device: DeviceInfo;
  /** The model ships a chat template (tokenizer_config.json `chat_template` or chat_template.jinja). */
  chatTemplate?: boolean;
}

export interface SaeInfo {
  /** e.g. `blocks.1.hook_resid_post` */
  hookName: string;
  /** Residual after block `layer` (0-based) is what the SAE reads and where its steering is added. */
  layer: number;
  dIn: number;
  dSae: number;
  architecture: string;
  /** The SAE was trained with a BOS first (SAELens `prepend_bos`): analysis and generation prepend the tokenizer's BOS. */
  prependBos?: boolean;
  /** Neuronpedia source id (e.g. "gpt2-small/8-res-jb") when the files or the release registry say it. */
  neuronpediaId?: string;
  /** What the files leave uncertain, to show the user (e.g. "Norm scaling factor not saved ..."). */
  warnings?: string[];
  /** What was applied from outside the files, with its source (e.g. centring from SAELens's release registry). */
  notes?: string[];
}

export interface TokenText {
  id: number;
  text: string;
  /** A special token (BOS, EOS, chat-template marker): left out of rankings, colour scales and histograms by default. */
  special?: boolean;
}

/**
 * How a prompt becomes tokens: 'text' as written; 'chat' as the user's message of a conversation rendered through
 * the model's chat template, ending with the assistant's turn header (only for models with a template).
 */
export type PromptMode = 'text' | 'chat';

/** Per-token top latents: row t holds k (latent, activation) pairs, sorted by activation, descending. */
export interface TopLatents {
  k: number;
  indices: Int32Array; // [tokens * k]
  values: Float32Array; // [tokens * k]
}

export interface Analysis {
  tokens: TokenText[];
  top: TopLatents;
  /** Relative reconstruction error |x - x̂| / |x| per token. */
  reconstructionError: Float32Array;
  /** Persona monitor reading per token, by persona id. */
  monitor: Record<string, Float32Array>;
  /** Where it was computed: a quick-started model answers its first analysis on WASM. */
  backend: Backend;
}

export type SteerMethod = 'add' | 'clamp';

export type SteeringTerm =
  | { kind: 'latent'; latent: number; coefficient: number; method: SteerMethod }
  | { kind: 'persona'; personaId: string; strength: number; use?: 'latents' | 'vector' }
  | { kind: 'vector'; vector: Float32Array; coefficient: number };

export interface SteeringSpec {
  terms: SteeringTerm[];
  /** Steer prompt and generated tokens, or only the generated ones. */
  positions: 'all' | 'generated';
  /** Also steer special-token positions (BOS, chat-template markers); default false leaves them as they are. */
  special?: boolean;
}

export interface SamplingOptions {
  maxNewTokens: number;
  temperature: number; // 0 = greedy
  topK: number; // 0 = off
  topP: number; // 1 = off
  repetitionPenalty: number; // 1 = off
  frequencyPenalty: number; // 0 = off
  seed: number;
}

export interface GenerateRequest {
  prompt: string;
  /** Default 'text'. In 'chat' mode the generated tokens are the assistant's reply. */
  promptMode?: PromptMode;
  sampling: SamplingOptions;
  steering: SteeringSpec;
  /** Also generate the unsteered baseline in the same batch (row 0 = baseline, row 1 = steered). */
  withBaseline: boolean;
  /** Persona ids whose monitor reading is reported per token. */
  monitor: string[];
  /** Top latents reported per generated token (0 = none). */
  topK: number;
}

export interface GeneratedToken {
  id: number;
  text: string;
  /** A special token (see TokenText.special). */
  special?: boolean;
  topIndices?: Int32Array;
  topValues?: Float32Array;
  monitor: Record<string, number>;
}

export interface TokenEvent {
  step: number;
  /** One entry per batch row: [baseline, steered] when withBaseline, else [steered]. */
  rows: GeneratedToken[];
}

export interface GenerateResult {
  rows: { tokens: TokenText[]; text: string; stopReason: 'length' | 'stop' | 'cancelled' }[];
  decodeTokensPerSecond: number;
}

/** A persona: SAE latents with coefficients and/or a raw direction, steered together by one strength. */
export interface PersonaPreset {
  id: string;
  name: string;
  description?: string;
  layer: number;
  latents: { latent: number; coefficient: number }[];
  /** Difference-of-means persona vector [dModel], if the preset has one. */
  vector?: Float32Array;
  /** Which representation a slider drives by default. */
  defaultUse: 'latents' | 'vector';
  strength: { min: number; max: number; recommended: number };
  /**
   * The monitor's mean reading on held-out text of the persona's own voice and of the other voices (personas.json
   * `monitor.own_mean` / `others_mean`, written by models/recipe/monitor.py): the scale of the app's persona bars.
   */
  monitor?: { ownMean: number; othersMean: number };
  /** Where it came from: the model folder's personas.json, or the user. */
  source: 'preset' | 'user';
}

export interface PlaygroundEngine {
  loadModel(source: ModelSource, options?: LoadModelOptions): Promise<ModelInfo>;
  /** Loads an SAE folder (SAELens, Gemma Scope or sparsify layout) plus `features.json`/`personas.json` if present. */
  loadSae(baseUrl: string, onProgress?: (p: Progress) => void): Promise<SaeInfo>;
  /** Presets from the SAE folder's personas.json plus user-defined ones, validated against the SAE's sizes. */
  personas(): Promise<PersonaPreset[]>;
  /** Adds or replaces a user-defined persona; throws a typed error if it names a latent >= dSae or a wrong-size vector. */
  definePersona(persona: PersonaPreset): Promise<void>;
  removePersona(id: string): Promise<void>;
  analyse(prompt: string, topK: number, mode?: PromptMode): Promise<Analysis>;
  generate(request: GenerateRequest, onToken?: (event: TokenEvent) => void): Promise<GenerateResult>;
  cancel(): void;
  dispose(): Promise<void>;
}

/**
 * A text for `textStats`: a string (tokenised as the model tokenises it) or token ids read as given, e.g. the recipe's
 * golden texts (emergence-golden.json `texts[].ids`), so the page reads exactly the recipe's tokens.
 */
export type LabText = string | number[];

/** What `textStats` reads out of each text at the SAE layer (the persona lab's experiments over many texts). */
export interface TextStatsOptions {
  /** Leave each text's first token out of the residual sums (its norm is an outlier, as in the recipe's analyze.py). */
  skipFirst: boolean;
  /** Latents reported per token (sparse rows, sorted descending); the SAE's k gives all of a TopK SAE's. */
  latentsPerToken: number;
  /** Read the residual back for `residualSum`/`residualNormSum` (default true; a model diff needs only latents). */
  residual?: boolean;
}

/** One text's statistics at the SAE layer. */
export interface TextStats {
  tokens: TokenText[];
  /** First position counted in the residual sums (1 with `skipFirst`, else 0). */
  start: number;
  /** Sum of the residual over the counted positions [dIn] (zeros with `residual: false`). */
  residualSum: Float64Array;
  /** Sum of the residual's L2 norm over the counted positions. */
  residualNormSum: number;
  /** Top latents of every position (all positions, first included). */
  top: TopLatents;
  /** True when every position's reported latents include all of its non-zero ones (exact sums). */
  complete: boolean;
}

/** An engine that can also run the lab's batch statistics (the in-thread engine and the worker client). */
export interface LabEngine extends PlaygroundEngine {
  /**
   * Runs each text through the model (one forward pass, no sampling) and the SAE. Every text is tokenised (or, given
   * as ids, checked) before any work, so a text that does not fit the context throws `ContextOverflowError` at once
   * and an id outside the vocabulary `InvalidRequestError`. Progress: stage `texts`, `loaded`/`total` = texts.
   * `cancel()` stops between texts with a `CancelledError`.
   */
  textStats(texts: LabText[], options: TextStatsOptions, onProgress?: (p: Progress) => void): Promise<TextStats[]>;
}
