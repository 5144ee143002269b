// Loaders for the SAE layouts people publish: SAELens (v6 and pre-6.0 cfg.json), Gemma Scope (params.safetensors)
// and EleutherAI sparsify (sae.safetensors). Each normalises to SaeWeights and validates shapes and finiteness.
import { SaeFormatError, SaeModelMismatchError, SaeNonFiniteError, UnknownArchitectureError } from './errors';
import { parseSafetensors, tensorToFloat32, type RawTensor, type SafetensorsFile } from './safetensors';
import {
  SUPPORTED_ARCHITECTURES,
  SUPPORTED_NORMALIZATIONS,
  type ActivationNormalization,
  type SaeArchitecture,
  type SaeConfig,
  type SaeFormat,
  type SaeWeights,
} from './types';

/** The weights file each format uses, in detection order. */
export const WEIGHT_FILES: Record<SaeFormat, string> = {
  saelens: 'sae_weights.safetensors',
  'gemma-scope': 'params.safetensors',
  sparsify: 'sae.safetensors',
};

export interface SaeFiles {
  format: SaeFormat;
  /** Parsed cfg.json, if the folder has one (Gemma Scope folders usually do not). */
  cfg?: Record<string, unknown>;
  weights: Uint8Array | ArrayBuffer;
  /** Used when the cfg names no hook: a folder name like `layer_5/...` (Gemma Scope) or `layers.5` (sparsify). */
  hookHint?: string;
}

export function loadSae(files: SaeFiles): SaeWeights {
  const file = parseSafetensors(files.weights, WEIGHT_FILES[files.format]);
  switch (files.format) {
    case 'saelens':
      return loadSaeLens(files.cfg ?? {}, file);
    case 'gemma-scope':
      return loadGemmaScope(files.cfg ?? {}, file, files.hookHint);
    case 'sparsify':
      return loadSparsify(files.cfg ?? {}, file, files.hookHint);
  }
}

function parseArchitecture(name: string): SaeArchitecture {
  const lower = name.toLowerCase();
  if (lower === 'relu' || lower === 'standard') return 'standard';
  if (lower === 'jumprelu' || lower === 'jump_relu') return 'jumprelu';
  if (lower === 'topk') return 'topk';
  throw new UnknownArchitectureError(name, [...SUPPORTED_ARCHITECTURES, 'relu']);
}

/** `blocks.L.hook_resid_post` → L; `blocks.L.hook_resid_pre` → L-1 (the residual entering block L). */
export function layerFromHookName(hookName: string): number {
  const m = hookName.match(/^blocks\.(\d+)\.hook_resid_(post|pre)$/);
  if (!m) {
    throw new SaeFormatError(
      `Hook "${hookName}" is not a residual-stream hook: expected blocks.{L}.hook_resid_post or blocks.{L}.hook_resid_pre.`,
    );
  }
  const block = Number(m[1]);
  return m[2] === 'post' ? block : block - 1;
}

function num(cfg: Record<string, unknown>, key: string): number | undefined {
  const v = cfg[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new SaeFormatError(`cfg.json: "${key}" must be a number, found ${JSON.stringify(v)}.`);
  return v;
}

function requireTensor(file: SafetensorsFile, names: string[], shape: number[] | null, what: string): RawTensor {
  const t = names.map((n) => file.tensors.get(n)).find((x) => x !== undefined);
  if (!t) {
    throw new SaeFormatError(
      `${what}: expected tensor ${names.map((n) => `"${n}"`).join(' or ')}, found only ${[...file.tensors.keys()].map((n) => `"${n}"`).join(', ') || 'no tensors'}.`,
    );
  }
  if (shape && (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))) {
    throw new SaeFormatError(`${what}: tensor "${t.name}" should have shape [${shape}], found [${t.shape}].`);
  }
  return t;
}

function finite(name: string, data: Float32Array): Float32Array {
  let first = -1;
  let count = 0;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      if (first < 0) first = i;
      count++;
    }
  }
  if (count > 0) throw new SaeNonFiniteError(name, first, count);
  return data;
}

function readFinite(t: RawTensor): Float32Array {
  return finite(t.name, tensorToFloat32(t));
}

function transpose(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  return out;
}

function hookNameOf(cfg: Record<string, unknown>): string | undefined {
  const metadata = (cfg.metadata ?? {}) as Record<string, unknown>;
  const candidates = [metadata.hook_name, cfg.hook_name, cfg.hook_point];
  return candidates.find((c): c is string => typeof c === 'string');
}

/**
 * SAEs trained on TransformerLens models loaded with `center_writing_weights` (e.g. gpt2-small-res-jb) saw residuals
 * whose mean over the hidden dimension is zero; a Hugging Face model's residual must be centred to match.
 */
function centersWritingWeights(cfg: Record<string, unknown>): boolean {
  const metadata = (cfg.metadata ?? {}) as Record<string, unknown>;
  const kwargs = (metadata.model_from_pretrained_kwargs ?? cfg.model_from_pretrained_kwargs ?? {}) as Record<string, unknown>;
  return kwargs.center_writing_weights === true;
}

export function loadSaeLens(cfg: Record<string, unknown>, file: SafetensorsFile): SaeWeights {
  const what = 'SAELens SAE';
  const hookName = hookNameOf(cfg);
  if (!hookName) throw new SaeFormatError(`${what}: cfg.json names no hook: expected metadata.hook_name (v6) or hook_name / hook_point (pre-6.0).`);
  // v6 puts the activation in `architecture`; pre-6.0 kept architecture "standard" and put TopK in activation_fn_str.
  const activationFn = typeof cfg.activation_fn_str === 'string' ? cfg.activation_fn_str : undefined;
  let architecture = parseArchitecture(typeof cfg.architecture === 'string' ? cfg.architecture : (activationFn ?? 'standard'));
  if (architecture === 'standard' && activationFn !== undefined && activationFn !== 'relu') architecture = parseArchitecture(activationFn);
  const kwargs = (cfg.activation_fn_kwargs ?? {}) as Record<string, unknown>;
  const k = architecture === 'topk' ? (num(cfg, 'k') ?? num(kwargs, 'k')) : undefined;
  if (architecture === 'topk' && (k === undefined || !Number.isInteger(k) || k < 1)) {
    throw new SaeFormatError(`${what}: TopK SAE needs a positive integer "k" (or activation_fn_kwargs.k), found ${JSON.stringify(k)}.`);
  }
  if (cfg.rescale_acts_by_decoder_norm === true) {
    throw new SaeFormatError(`${what}: rescale_acts_by_decoder_norm = true is not supported; expected false (fold the decoder norms into W_enc first).`);
  }
  const normalize = (cfg.normalize_activations ?? 'none') as string;
  if (!(SUPPORTED_NORMALIZATIONS as readonly string[]).includes(normalize)) {
    throw new SaeFormatError(`${what}: normalize_activations "${normalize}" is not supported; expected one of ${SUPPORTED_NORMALIZATIONS.join(', ')}.`);
  }
  const wEncT = requireTensor(file, ['W_enc'], null, what);
  if (wEncT.shape.length !== 2) throw new SaeFormatError(`${what}: W_enc should be 2-D [d_in, d_sae], found [${wEncT.shape}].`);
  const dIn = num(cfg, 'd_in') ?? wEncT.shape[0];
  const dSae = num(cfg, 'd_sae') ?? wEncT.shape[1];
  requireTensor(file, ['W_enc'], [dIn, dSae], `${what} (cfg d_in=${dIn}, d_sae=${dSae})`);
  const wDec = requireTensor(file, ['W_dec'], [dSae, dIn], what);
  const bEnc = requireTensor(file, ['b_enc'], [dSae], what);
  const bDec = requireTensor(file, ['b_dec'], [dIn], what);
  let threshold: Float32Array | null = null;
  if (architecture === 'jumprelu') {
    const t = requireTensor(file, ['threshold', 'log_threshold'], [dSae], what);
    threshold = readFinite(t);
    if (t.name === 'log_threshold') threshold = threshold.map(Math.exp);
  }
  const scale = file.tensors.get('scaling_factor');
  const inputScale = normalize === 'expected_average_only_in' ? (scale ? readFinite(scale)[0] : (num(cfg, 'scaling_factor') ?? 1)) : 1;
  const config: SaeConfig = {
    format: 'saelens',
    architecture,
    dIn,
    dSae,
    k: k ?? null,
    applyBDecToInput: cfg.apply_b_dec_to_input === true,
    normalizeActivations: normalize as ActivationNormalization,
    inputScale,
    centerResidual: cfg.center_residual === true || cfg.mean_center_input === true || centersWritingWeights(cfg),
    hookName,
    layer: layerFromHookName(hookName),
    weightDtype: wEncT.dtype,
  };
  return {
    config,
    wEnc: readFinite(wEncT),
    wDec: readFinite(wDec),
    bEnc: readFinite(bEnc),
    bDec: readFinite(bDec),
    threshold,
  };
}

function hookFromHint(hint: string | undefined, what: string): string {
  const m = hint?.match(/(?:layer_|layers\.|h\.|blocks\.)(\d+)/);
  if (!m) throw new SaeFormatError(`${what}: cannot tell which layer it reads: expected cfg.json hook_name or a folder named like "layer_5" / "layers.5", found "${hint ?? ''}".`);
  return `blocks.${m[1]}.hook_resid_post`;
}

export function loadGemmaScope(cfg: Record<string, unknown>, file: SafetensorsFile, hookHint?: string): SaeWeights {
  const what = 'Gemma Scope SAE';
  const wEncT = requireTensor(file, ['w_enc'], null, what);
  if (wEncT.shape.length !== 2) throw new SaeFormatError(`${what}: w_enc should be 2-D [d_in, d_sae], found [${wEncT.shape}].`);
  const [dIn, dSae] = wEncT.shape;
  const hookName = hookNameOf(cfg) ?? hookFromHint(hookHint, what);
  const config: SaeConfig = {
    format: 'gemma-scope',
    architecture: 'jumprelu',
    dIn,
    dSae,
    k: null,
    applyBDecToInput: false,
    normalizeActivations: 'none',
    inputScale: 1,
    centerResidual: false,
    hookName,
    layer: layerFromHookName(hookName),
    weightDtype: wEncT.dtype,
  };
  return {
    config,
    wEnc: readFinite(wEncT),
    wDec: readFinite(requireTensor(file, ['w_dec'], [dSae, dIn], what)),
    bEnc: readFinite(requireTensor(file, ['b_enc'], [dSae], what)),
    bDec: readFinite(requireTensor(file, ['b_dec'], [dIn], what)),
    threshold: readFinite(requireTensor(file, ['threshold'], [dSae], what)),
  };
}

export function loadSparsify(cfg: Record<string, unknown>, file: SafetensorsFile, hookHint?: string): SaeWeights {
  const what = 'sparsify SAE';
  const encT = requireTensor(file, ['encoder.weight'], null, what);
  if (encT.shape.length !== 2) throw new SaeFormatError(`${what}: encoder.weight should be 2-D [num_latents, d_in], found [${encT.shape}].`);
  const [dSae, dIn] = encT.shape;
  const numLatents = num(cfg, 'num_latents');
  if (numLatents !== undefined && numLatents !== 0 && numLatents !== dSae) {
    throw new SaeFormatError(`${what}: cfg num_latents = ${numLatents} but encoder.weight has ${dSae} rows.`);
  }
  const k = num(cfg, 'k');
  if (k === undefined || !Number.isInteger(k) || k < 1) throw new SaeFormatError(`${what}: cfg.json needs a positive integer "k", found ${JSON.stringify(cfg.k)}.`);
  const hookName = hookNameOf(cfg) ?? hookFromHint(hookHint, what);
  const config: SaeConfig = {
    format: 'sparsify',
    architecture: 'topk',
    dIn,
    dSae,
    k,
    // sparsify encodes (x - b_dec); transcoders do not.
    applyBDecToInput: cfg.transcode !== true,
    normalizeActivations: 'none',
    inputScale: 1,
    centerResidual: false,
    hookName,
    layer: layerFromHookName(hookName),
    weightDtype: encT.dtype,
  };
  return {
    config,
    wEnc: transpose(readFinite(encT), dSae, dIn),
    wDec: readFinite(requireTensor(file, ['W_dec'], [dSae, dIn], what)),
    bEnc: readFinite(requireTensor(file, ['encoder.bias'], [dSae], what)),
    bDec: readFinite(requireTensor(file, ['b_dec'], [dIn], what)),
    threshold: null,
  };
}

/** Checks that an SAE reads a residual the model has, at the model's width. */
export function checkSaeFitsModel(config: SaeConfig, model: { nLayer: number; dModel: number }): void {
  if (config.dIn !== model.dModel) {
    throw new SaeModelMismatchError(
      `SAE d_in = ${config.dIn} does not match the model's hidden size ${model.dModel}: expected an SAE trained on this model's residual stream.`,
    );
  }
  if (config.layer < 0 || config.layer >= model.nLayer) {
    throw new SaeModelMismatchError(
      `SAE hook "${config.hookName}" reads the residual after block ${config.layer}, but the model has blocks 0..${model.nLayer - 1}` +
        (config.layer < 0 ? ' (the embedding output is not instrumented)' : '') +
        '.',
    );
  }
}
